import Checkpoints
import Datasets
import Foundation
import HDF5
import Metrics
import Models

/// What a checkpoint's networks make: its networks rebuilt by name, samples, reconstructions.
public enum CheckpointNetworks {
    /// The network `name` ("generator", "encoder", ...) in evaluation mode, restored from the group
    /// `group` (by default its own name; `/generator_ema` holds a generator too).
    public static func network(_ name: String, of checkpoint: CheckpointFile, group: String? = nil) throws -> Layer {
        let preset = checkpoint.configuration.preset
        var random = RandomStream(seed: checkpoint.configuration.seed, purpose: .initialization)
        guard let network = name == "generator" ? checkpoint.configuration.definition.makeGenerator(random: &random)
            : preset.definition.makeNetwork(named: name, random: &random, stored: checkpoint.entryNames(in: group ?? name)) else {
            throw CheckpointError("\(checkpoint.path): \(preset.rawValue) has no \(name) network")
        }
        try checkpoint.restore(network, from: group ?? name)
        network.setTraining(false)
        return network
    }

    /// The generator that samples: the moving average when the checkpoint has one (unless `raw`),
    /// else the trained weights; in evaluation mode.
    public static func generator(of checkpoint: CheckpointFile, raw: Bool = false) throws -> Layer {
        let average = !raw && checkpoint.holds(CheckpointFormat.generatorAverage)
        return try network("generator", of: checkpoint, group: average ? CheckpointFormat.generatorAverage : nil)
    }

    /// The checkpoint's networks to measure with `samples` samples: its generator average unless `raw`.
    public static func subject(of checkpoint: CheckpointFile, raw: Bool, samples: Int) throws -> EvaluationSubject {
        let trained = try network("generator", of: checkpoint)
        let sampling = raw || !checkpoint.holds(CheckpointFormat.generatorAverage) ? trained : try generator(of: checkpoint)
        let encoder = try checkpoint.configuration.preset.definition.encoderName.map { try network($0, of: checkpoint) }
        return EvaluationSubject(configuration: checkpoint.configuration, step: checkpoint.step, generator: sampling, trainedGenerator: trained,
                                 encoder: encoder, samples: samples, label: checkpoint.path)
    }

    /// `count` samples of the checkpoint's generator in evaluation mode, `[count] + sampleShape`,
    /// with the generator inputs they came from. For completion28, completions of Fashion-MNIST
    /// test images, eight of each top half in a row; for colorize28, colourings of the first
    /// `count` test images.
    /// For pix2pix, outputs for the first `count` pairs held out of training, with their targets.
    /// `raw` samples the trained weights rather than their moving average.
    public static func samples(from checkpoint: CheckpointFile, count: Int, seed: UInt64, raw: Bool = false)
        throws -> (input: Tensor, samples: Tensor, targets: Tensor?) {
        let preset = checkpoint.configuration.preset, definition = checkpoint.configuration.definition
        let generator = try Self.generator(of: checkpoint, raw: raw)
        var noise = RandomStream(seed: seed, purpose: .sample)
        let (input, targets) = try definition.sampleInput(noise: noise.normal(shape: [count, preset.latentSize]))
        return (input, preset.samples(of: generator, input: input), targets)
    }

    /// The first `count` Fashion-MNIST test images and the alphagan28 checkpoint's reconstructions
    /// of them, G(E(x)), each `[count, 1, 28, 28]`. The trained G, not its average: it is the one
    /// the encoder learned to invert.
    public static func reconstructions(from checkpoint: CheckpointFile, count: Int) throws -> (images: Tensor, reconstructions: Tensor) {
        let preset = checkpoint.configuration.preset
        guard let encoderName = preset.definition.encoderName else {
            let withEncoders = Preset.allCases.filter { $0.definition.encoderName != nil }.map(\.rawValue).joined(separator: ", ")
            throw ConfigurationError("\(checkpoint.path): a \(preset.rawValue) checkpoint has no encoder; reconstructions need \(withEncoders)")
        }
        let (encoder, generator) = (try network(encoderName, of: checkpoint), try network("generator", of: checkpoint))
        let test = try TestImages.fashionMNIST(for: "reconstructions")
        let images = try test.batch(0..<min(count, test.count))
        return (images, TestImages.reconstruct(images, encoder: encoder, generator: generator))
    }
}
