import Checkpoints
import ArgumentParser
import Foundation
import Training

struct SampleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sample",
        abstract: "Draw samples from a checkpoint's generator.",
        discussion: """
            Writes float32 dataset `samples` of shape [N, 1, 28, 28] (images in [-1, 1]) or [N, 2] to an \
            .h5 file, or a picture to a .png file: a grid of images, or a scatter plot over the real modes. \
            For completion28, completions of Fashion-MNIST test images: eight of each top half, a row each. \
            For colorize28, colourings [N, 3, 28, 28] of the first N test images, with their gray `inputs` \
            [N, 1, 28, 28] in the .h5 file; the .png shows each row of inputs over its colourings.

              launcher sample checkpoints/run/checkpoint-00003000.h5 --count 64 --out samples.png
            """
    )

    @Argument(help: ArgumentHelp("The checkpoint to sample from.", valueName: "checkpoint"))
    var checkpoint: String

    @Option(help: "How many samples.")
    var count: Int

    @Option(help: ArgumentHelp("Output: file.h5 or file.png.", valueName: "file"))
    var out: String

    @Option(help: "Seed of the latent noise (default: the run's seed).")
    var seed: UInt64?

    @Flag(help: "Sample the trained generator rather than its moving average (/generator_ema), when the checkpoint has one.")
    var rawGenerator = false

    func validate() throws { try validateOutput(count: count, out: out) }

    func run() throws {
        let file = try CheckpointFile(path: checkpoint)
        let (input, samples, targets) = try CheckpointNetworks.samples(from: file, count: count, seed: seed ?? file.configuration.seed, raw: rawGenerator)
        try SampleFiles.write(samples, input: input, targets: targets, configuration: file.configuration, to: out)
        print("wrote \(count) samples of \(file.configuration.preset.rawValue) at step \(file.step) to \(out)")
    }
}

struct ReconstructCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reconstruct",
        abstract: "Show Fashion-MNIST test images beside an alphagan28 checkpoint's reconstructions G(E(x)).",
        discussion: """
            Writes float32 datasets `images` and `reconstructions` [N, 1, 28, 28] (in [-1, 1]) to an .h5 \
            file, or a .png of pairs, image then reconstruction, eight pairs to a row.

              launcher reconstruct checkpoints/alpha/checkpoint-00003000.h5 --out reconstructions.png
            """
    )

    @Argument(help: ArgumentHelp("An alphagan28 checkpoint.", valueName: "checkpoint"))
    var checkpoint: String

    @Option(help: ArgumentHelp("Output: file.h5 or file.png.", valueName: "file"))
    var out: String

    @Option(help: "How many test images, from the first.")
    var count: Int = 32

    func validate() throws { try validateOutput(count: count, out: out) }

    func run() throws {
        let file = try CheckpointFile(path: checkpoint)
        let (images, reconstructions) = try CheckpointNetworks.reconstructions(from: file, count: count)
        try SampleFiles.writeReconstructions(images, reconstructions, to: out)
        print("wrote \(images.shape[0]) test images and their reconstructions at step \(file.step) to \(out)")
    }
}

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Describe a checkpoint: step, preset, configuration, world size, and every tensor.",
        discussion: "  launcher inspect checkpoints/run/checkpoint-00003000.h5"
    )

    @Argument(help: ArgumentHelp("The checkpoint to describe.", valueName: "checkpoint"))
    var checkpoint: String

    func run() throws {
        print(try CheckpointFile(path: checkpoint).describe())
    }
}

/// `--count` and `--out` as `sample` and `reconstruct` take them.
private func validateOutput(count: Int, out: String) throws {
    if count < 1 { throw ValidationError("--count must be at least 1, got \(count)") }
    let ending = (out as NSString).pathExtension.lowercased()
    if !["h5", "hdf5", "png"].contains(ending) { throw ValidationError("--out \(out): expected a file ending in .h5 or .png") }
}
