import ArgumentParser
import Datasets
import Evaluation
import Foundation
import Metrics
import Training

struct EvaluatorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluator",
        abstract: "The network whose features image metrics are measured in.",
        subcommands: [Train.self],
        defaultSubcommand: Train.self
    )

    struct Train: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Train an evaluator network with LearnedLoss's own layers: on Fashion-MNIST, or on any labelled images.",
            discussion: """
                A small convolutional classifier; its 64 penultimate features take Inception's place in FID, \
                KID, precision and recall, so measuring needs nothing downloaded. Without --data it learns \
                Fashion-MNIST's training set and is measured against its test set. With --data it learns a \
                labelled data set of any image shape (a folder with one subfolder per class, or HDF5 with \
                `labels`, as `launcher dataset` writes it), holds out a seeded share of it (--held-out), and \
                records which images and their features: evaluate and --eval-every measure generated images \
                against them. Train runs on that shape with --evaluator FILE. Training is deterministic given \
                --seed. The file records its accuracy on the images it did not learn from, and this command.

                  launcher evaluator train --epochs 3 --output evaluator/fashion-mnist-classifier.h5
                  launcher evaluator --data colour-fashion.h5 --out evaluator/colour-fashion.h5
                """
        )

        @Option(help: ArgumentHelp("Labelled images to learn (a folder of class subfolders, or HDF5 with labels); default Fashion-MNIST.",
                                   valueName: "path"))
        var data: String?

        @Option(help: ArgumentHelp("Folder of Fashion-MNIST's four IDX files, without --data.", valueName: "dir"))
        var dataDir = FashionMNIST.directory

        @Option(help: ArgumentHelp("The share of --data held out of training and measured against.", valueName: "share"))
        var heldOut = 0.1

        @Option(help: "Passes over the training images.")
        var epochs = 3

        @Option(help: "Seed of the initial weights, the data order and the held-out share.")
        var seed: UInt64 = 1

        @Option(name: [.long, .customLong("out")],
                help: ArgumentHelp("Where to write the weights (HDF5); default evaluator/fashion-mnist-classifier.h5, or "
                                   + "evaluator/<data's name>.h5 with --data.", valueName: "file.h5"))
        var output: String?

        func validate() throws {
            if epochs < 1 { throw ValidationError("--epochs must be at least 1, got \(epochs)") }
            if !(heldOut > 0 && heldOut < 1) { throw ValidationError("--held-out must be a share between 0 and 1, got \(heldOut)") }
        }

        func run() throws {
            var options = ClassifierTraining.Options()
            (options.directory, options.data, options.heldOutShare, options.epochs, options.seed) = (dataDir, data, heldOut, epochs, seed)
            options.output = output ?? data.map { "evaluator/\(URL(fileURLWithPath: $0).deletingPathExtension().lastPathComponent).h5" }
                ?? Classifier.defaultPath
            options.command = "launcher evaluator train --epochs \(epochs) --seed \(seed)"
                + (data.map { " --data \($0) --held-out \(heldOut)" } ?? "")
            let folder = URL(fileURLWithPath: options.output).deletingLastPathComponent()
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let accuracy = try ClassifierTraining(options: options).run()
            print(String(format: "%@ accuracy %.2f%%; wrote %@", data == nil ? "test" : "held-out", 100 * accuracy, options.output))
        }
    }
}
