import Checkpoints
import Datasets
import Distributed
import Foundation
import HDF5
import Metrics
import Models
import Training

/// `launcher evaluator train`: trains the evaluator network on Fashion-MNIST, deterministically
/// from its seed, and writes it with its test accuracy and the command that made it.
public struct ClassifierTraining {
    public struct Options: Sendable {
        public var directory = FashionMNIST.directory
        public var epochs = 3
        public var batchSize = 64
        public var learningRate: Float = 1e-3
        public var seed: UInt64 = 1
        public var output = Classifier.defaultPath
        public var command = "launcher evaluator train"
        public init() {}
    }

    let options: Options
    public init(options: Options) { self.options = options }

    /// Trains, writes the file, and returns the test accuracy.
    public func run(progress: (String) -> Void = { print($0) }) throws -> Double {
        let files = FashionMNIST.files(in: options.directory)
        let train = try Dataset.images(at: files.trainingImages)
        let trainLabels = try Labels.idx(at: files.trainingLabels)
        let test = try Dataset.images(at: files.testImages)
        let testLabels = try Labels.idx(at: files.testLabels)
        try train.require(sampleShape: [1, 28, 28], for: "the evaluator")
        guard trainLabels.count == train.count, testLabels.count == test.count else {
            throw DataError("\(options.directory): image and label files hold different counts")
        }

        var random = RandomStream(seed: options.seed, purpose: .evaluatorInitialization)
        let network = Classifier.network(random: &random)
        let adam = Adam(parameters: network.parameters, learningRate: options.learningRate)
        var sampler = try EpochSampler(seed: options.seed, datasetCount: train.count, globalBatch: options.batchSize)
        let started = Date()
        for epoch in 0..<options.epochs {
            network.setTraining(true)
            var total = 0.0
            for _ in 0..<sampler.batchesPerEpoch {
                let indices = sampler.next()
                adam.zeroGradients()
                let tape = Tape()
                let loss = softmaxCrossEntropy(logits: network(tape.variable(train.batch(indices))), labels: indices.map { trainLabels[$0] })
                tape.backward(from: loss)
                adam.step()
                total += Double(loss.value.scalar)
            }
            let accuracy = Classifier.accuracy(of: network, images: test.batch(0..<test.count), labels: testLabels)
            progress(String(format: "epoch %d/%d: training loss %.4f, test accuracy %.2f%%, %.0f s", epoch + 1, options.epochs,
                            total / Double(sampler.batchesPerEpoch), 100 * accuracy, Date().timeIntervalSince(started)))
        }
        let accuracy = Classifier.accuracy(of: network, images: test.batch(0..<test.count), labels: testLabels)
        try HDF5File.writeAtomically(options.output) { file in
            let root = file.root
            try root.setAttribute("format", Classifier.format)
            try root.setAttribute("format_version", Int64(1))
            try root.setAttribute("test_accuracy", accuracy)
            try root.setAttribute("command", options.command)
            try root.setAttribute("seed", Int64(bitPattern: options.seed))
            try root.setAttribute("epochs", Int64(options.epochs))
            try NetworkState.write(network, into: try root.createGroup("classifier"))
        }
        return accuracy
    }
}
