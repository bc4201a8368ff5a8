import Checkpoints
import Datasets
import Foundation
import HDF5
import Models

/// `launcher sample` and `launcher inspect`: reading a finished or running job's checkpoint.
public enum CheckpointTools {
    /// The network stored under `name` ("generator", "encoder", ...) in evaluation mode.
    public static func network(_ name: String, of checkpoint: CheckpointFile) throws -> Layer {
        let preset = checkpoint.configuration.preset
        var random = RandomStream(seed: checkpoint.configuration.seed, purpose: .initialization)
        guard let network = name == "generator" ? preset.makeGenerator(random: &random)
            : preset.definition.makeNetwork(named: name, random: &random) else {
            throw CheckpointError("\(checkpoint.path): \(preset.rawValue) has no \(name) network")
        }
        try checkpoint.restore(network, from: name)
        network.setTraining(false)
        return network
    }

    /// `count` samples of the checkpoint's generator in evaluation mode, `[count] + sampleShape`.
    /// For completion28, completions of Fashion-MNIST test images, eight of each top half in a row.
    public static func samples(from checkpoint: CheckpointFile, count: Int, seed: UInt64) throws -> Tensor {
        let preset = checkpoint.configuration.preset
        let generator = try network("generator", of: checkpoint)
        var noise = RandomStream(seed: seed, purpose: .sample)
        let latent = noise.normal(shape: [count, preset.latentSize])
        return preset.samples(of: generator, input: try preset.definition.sampleInput(noise: latent))
    }

    /// The first `count` Fashion-MNIST test images and the alphagan28 checkpoint's reconstructions
    /// of them, G(E(x)), each `[count, 1, 28, 28]`.
    public static func reconstructions(from checkpoint: CheckpointFile, count: Int) throws -> (images: Tensor, reconstructions: Tensor) {
        guard case .images(reconstructions: true) = checkpoint.configuration.preset.measurement else {
            throw ConfigurationError("\(checkpoint.path): a \(checkpoint.configuration.preset.rawValue) checkpoint has no encoder; reconstructions need alphagan28")
        }
        let (encoder, generator) = (try network("encoder", of: checkpoint), try network("generator", of: checkpoint))
        let test = try testImages(for: "reconstructions")
        let images = test.batch(0..<min(count, test.count))
        return (images, reconstruct(images, encoder: encoder, generator: generator))
    }

    /// G(E(x)) for images `[N, 1, 28, 28]`, both networks in evaluation mode, in chunks.
    package static func reconstruct(_ images: Tensor, encoder: Layer, generator: Layer) -> Tensor {
        var parts: [Tensor] = []
        for start in stride(from: 0, to: images.shape[0], by: 256) {
            let chunk = images.slice(start..<min(start + 256, images.shape[0]), axis: 0)
            parts.append(generator(encoder(Variable(chunk))).value)
        }
        return Tensor.concatenate(parts, axis: 0)
    }

    /// Fashion-MNIST's test images as Debian installs them.
    package static func testImages(for purpose: String) throws -> Dataset {
        let path = FashionMNIST.testImages
        guard FileManager.default.fileExists(atPath: path) else {
            throw ConfigurationError("\(path): missing; \(purpose) are of Fashion-MNIST's test images (apt-get install dataset-fashion-mnist)")
        }
        let images = try Dataset.images(at: path)
        try images.require(sampleShape: DCGAN28.imageShape, for: path)
        return images
    }

    /// Writes samples to `path`: an HDF5 file with float32 dataset `samples`, or a PNG picture.
    public static func write(_ samples: Tensor, preset: Preset, to path: String) throws {
        switch (path as NSString).pathExtension.lowercased() {
        case "h5", "hdf5":
            try HDF5File.writeAtomically(path) { file in
                let dataset = try file.root.write(samples.scalars, shape: samples.shape, to: "samples")
                try dataset.setAttribute("preset", preset.rawValue)
                try dataset.setAttribute("range", preset.takesImages ? "[-1, 1]" : "data space")
            }
        case "png":
            try preset.picture(of: samples).writePNG(to: path)
        default:
            throw ConfigurationError("--out \(path): expected a file ending in .h5 or .png")
        }
    }

    /// Writes test images beside their reconstructions: an HDF5 file with datasets `images` and
    /// `reconstructions`, or a PNG of pairs, eight pairs to a row.
    public static func writeReconstructions(_ images: Tensor, _ reconstructions: Tensor, to path: String) throws {
        switch (path as NSString).pathExtension.lowercased() {
        case "h5", "hdf5":
            try HDF5File.writeAtomically(path) { file in
                try file.root.write(images.scalars, shape: images.shape, to: "images")
                try file.root.write(reconstructions.scalars, shape: reconstructions.shape, to: "reconstructions")
                try file.root.setAttribute("range", "[-1, 1]")
            }
        case "png":
            let pairs = (0..<images.shape[0]).flatMap { i in
                [images.slice(i..<i + 1, axis: 0), reconstructions.slice(i..<i + 1, axis: 0)]
            }
            try GrayImage.grid(of: Tensor.concatenate(pairs, axis: 0), columns: 16).writePNG(to: path)
        default:
            throw ConfigurationError("--out \(path): expected a file ending in .h5 or .png")
        }
    }

    /// A readable description of a checkpoint: identity, configuration, and every network's tensors.
    public static func describe(_ checkpoint: CheckpointFile) throws -> String {
        let configuration = try JSONSerialization.jsonObject(with: Data(try checkpoint.configuration.json().utf8)) as? [String: Any] ?? [:]
        var lines = [
            "checkpoint   \(checkpoint.path)",
            "step         \(checkpoint.step) of \(checkpoint.configuration.steps)",
            "preset       \(checkpoint.configuration.preset.rawValue)",
            "world size   \(checkpoint.worldSize)",
            "created      \(checkpoint.created)",
            "config",
        ]
        lines += configuration.keys.sorted().map { "  \($0.padding(toLength: 18, withPad: " ", startingAt: 0)) \(configuration[$0]!)" }
        for network in ["generator", "discriminator", "encoder", "code_discriminator"] where checkpoint.holds(network) {
            let tensors = try checkpoint.shapes(in: network)
            let total = tensors.filter { !$0.name.hasSuffix("num_batches_tracked") }.reduce(0) { $0 + $1.shape.reduce(1, *) }
            lines.append("\(network) (\(total) values)")
            for (name, shape) in tensors.sorted(by: { Self.stateOrder($0.name, $1.name) }) {
                lines.append("  \(name.padding(toLength: 26, withPad: " ", startingAt: 0)) \(shape.isEmpty ? "scalar" : shape.map(String.init).joined(separator: "×"))  \(shape.reduce(1, *))")
            }
        }
        return lines.joined(separator: "\n")
    }

    /// Orders "10.weight" after "9.bias", as the network's layers go.
    static func stateOrder(_ lhs: String, _ rhs: String) -> Bool {
        let (a, b) = (lhs.split(separator: ".", maxSplits: 1), rhs.split(separator: ".", maxSplits: 1))
        if let x = Int(a[0]), let y = Int(b[0]), x != y { return x < y }
        return lhs < rhs
    }
}
