import ArgumentParser
import Distributed
import Evaluation
import Foundation
import Training

struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Measure a checkpoint's generator; under mpirun the sampling is split over the ranks.",
        discussion: """
            For the 2-D presets (grid2d, ring2d), the protocol of PacGAN and VEEGAN: 2,500 samples by \
            default; a sample is of high quality within 3 standard deviations of its nearest mode, a mode \
            is covered when it is the nearest mode of a high-quality sample. Prints the modes covered, the \
            percentage of high-quality samples and the reverse KL of their distribution over the modes \
            from the uniform one. For dcgan28, 10,000 samples by default, measured in the features of \
            LearnedLoss's own Fashion-MNIST classifier (evaluator/, see `launcher evaluator train`) against \
            the test set or --reference; for dcgan and sngan, in those of the run's --evaluator (one trained \
            on labelled images of their shape by `launcher evaluator --data`) against the images it held \
            out: FID, KID with its standard deviation, precision and recall (k = 3), \
            the classifier score (the Inception-score formula) and the classes seen. The reference features \
            are computed once and cached beside the evaluator. alphagan28 adds the L1 and the FID of its \
            reconstructions G(E(x)) of the test set. completion28 completes the test set's top halves and \
            reports diversity (8 completions of one top), sharpness against the true bottoms, FID, the \
            evaluator's confidence, and L1 and L2 to the truth (docs/evaluation.md). colorize28 paints \
            the test set's gray images and reports the share painted red, green and yellow (the mean colour \
            of the garment's pixels, nearest in chromaticity), the share of 1,000 images whose 8 noise \
            draws give both red and green, and L1 and L2 to the truth. pix2pix maps the inputs of the \
            pairs held out of its training (the last tenth of its --data, at most 1,000) and reports L1 and \
            L2 to their targets, colourfulness and sharpness relative to the targets', the L1 between two \
            noise draws, and with an --evaluator for the targets' shape the FID against the targets. A checkpoint with a generator \
            average (/generator_ema) is measured by it unless --raw-generator. Every result is appended \
            to evaluations.jsonl beside the checkpoint.

              launcher evaluate checkpoints/grid/checkpoint-00016000.h5
              mpirun -np 4 launcher evaluate checkpoints/grid/checkpoint-00016000.h5 --json
              launcher evaluate --images /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz
            """
    )

    @Argument(help: ArgumentHelp("The checkpoint to evaluate.", valueName: "checkpoint"))
    var checkpoint: String?

    @Option(help: ArgumentHelp("Measure real images (an IDX or HDF5 file) instead of a checkpoint: the floor against the reference.", valueName: "path"))
    var images: String?

    @Option(help: "Samples to draw (default 2,500 for the 2-D presets).")
    var samples: Int?

    @Option(help: "Seed of the noise (default: the run's seed).")
    var seed: UInt64?

    @Option(help: ArgumentHelp("Reference images for image metrics (default: the images the evaluator held out, or Fashion-MNIST's test set).",
                               valueName: "path"))
    var reference: String?

    @Option(help: ArgumentHelp("The evaluator network (default: the run's --evaluator, or evaluator/fashion-mnist-classifier.h5).",
                               valueName: "file.h5"))
    var evaluator: String?

    @Flag(help: "Measure the trained generator rather than its moving average (/generator_ema).")
    var rawGenerator = false

    @Flag(help: "Print one JSON object instead of a table.")
    var json = false

    @Option(help: ArgumentHelp("The FID Inception-v3's weights as a safetensors file (docs/fid.md makes it from pytorch-fid's .pth): adds FID as papers report it, against --reference or the run's training data.",
                               valueName: "file.safetensors"))
    var inception: String?

    @OptionGroup var stallTimeout: StallTimeoutOption

    func validate() throws {
        if (checkpoint == nil) == (images == nil) { throw ValidationError("give a checkpoint or --images, one of the two") }
    }

    func run() throws {
        var request = Evaluation.Request(checkpoint: checkpoint ?? images!)
        request.images = images
        request.samples = samples
        request.seed = seed
        request.reference = reference
        request.evaluator = evaluator
        request.rawGenerator = rawGenerator
        request.inception = inception
        let world = try MPIRuntime.world()
        stallTimeout.apply()
        world.endingJobOnError {
            let result = try Evaluation(world: world, request: request).run()
            guard world.rank == 0 else { return }
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
                print(String(decoding: try encoder.encode(result), as: UTF8.self))
            } else {
                print(Evaluation.table(result))
            }
        }
    }
}
