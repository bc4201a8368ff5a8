import ArgumentParser
import Datasets
import Evaluation
import Foundation
import Training

struct EvaluatorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluator",
        abstract: "The network whose features image metrics are measured in.",
        subcommands: [Train.self]
    )

    struct Train: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Train the Fashion-MNIST evaluator network with LearnedLoss's own layers.",
            discussion: """
                A small convolutional classifier; its 64 penultimate features take Inception's place in FID, \
                KID, precision and recall, so measuring needs nothing downloaded. Training is deterministic \
                given --seed. The file records its test accuracy and this command in its attributes.

                  launcher evaluator train --epochs 3 --output evaluator/fashion-mnist-classifier.h5
                """
        )

        @Option(help: ArgumentHelp("Folder of Fashion-MNIST's four IDX files.", valueName: "dir"))
        var dataDir = FashionMNIST.directory

        @Option(help: "Passes over the 60,000 training images.")
        var epochs = 3

        @Option(help: "Seed of the initial weights and the data order.")
        var seed: UInt64 = 1

        @Option(help: ArgumentHelp("Where to write the weights (HDF5).", valueName: "file.h5"))
        var output = "evaluator/fashion-mnist-classifier.h5"

        func validate() throws {
            if epochs < 1 { throw ValidationError("--epochs must be at least 1, got \(epochs)") }
        }

        func run() throws {
            var options = ClassifierTraining.Options()
            (options.directory, options.epochs, options.seed, options.output) = (dataDir, epochs, seed, output)
            options.command = "launcher evaluator train --epochs \(epochs) --seed \(seed)"
            let accuracy = try ClassifierTraining(options: options).run()
            print(String(format: "test accuracy %.2f%%; wrote %@", 100 * accuracy, output))
        }
    }
}
