import Foundation
import HDF5
import Models

/// `launcher sample` and `launcher inspect`: reading a finished or running job's checkpoint.
public enum CheckpointTools {
    /// `count` samples of the checkpoint's generator in evaluation mode, `[count] + sampleShape`.
    public static func samples(from checkpoint: CheckpointFile, count: Int, seed: UInt64) throws -> Tensor {
        let preset = checkpoint.configuration.preset
        var random = RandomStream(seed: checkpoint.configuration.seed, purpose: "init")
        let generator = preset.makeGenerator(random: &random)
        try checkpoint.restore(generator, from: "generator")
        generator.setTraining(false)
        var noise = RandomStream(seed: seed, purpose: "sample")
        var parts: [Tensor] = []
        for start in stride(from: 0, to: count, by: 256) {
            parts.append(generator(Variable(noise.normal(shape: [min(256, count - start), preset.latentSize]))).value)
        }
        return Tensor.concatenate(parts, axis: 0)
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
            let picture: GrayImage
            switch preset {
            case .dcgan28:
                picture = GrayImage.grid(of: samples, columns: max(1, Int(Double(samples.shape[0]).squareRoot().rounded(.up))))
            case .grid2d: picture = GrayImage.scatter(of: samples, modes: MixtureOfGaussians.grid.modes, extent: 6)
            case .ring2d: picture = GrayImage.scatter(of: samples, modes: MixtureOfGaussians.ring.modes, extent: 1.6)
            }
            try picture.writePNG(to: path)
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
        for network in ["generator", "discriminator"] {
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
