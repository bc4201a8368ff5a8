import Checkpoints
import Datasets
import Distributed
import Foundation
import HDF5
import Metrics
import Models
import Training

/// `launcher evaluator train`: trains the evaluator network, deterministically from its seed, on
/// Fashion-MNIST (measured against its test set) or on any labelled data set (measured against
/// a share of it held out of the training), and writes it with its accuracy on the images it did
/// not learn from and the command that made it.
public struct ClassifierTraining {
    public struct Options: Sendable {
        /// Fashion-MNIST's folder, used when `data` is nil.
        public var directory = FashionMNIST.directory
        /// A labelled data set (a folder of class subfolders, HDF5 with `labels`); nil for Fashion-MNIST.
        public var data: String?
        /// The share of `data` held out of training: the reference that generated images are measured against.
        public var heldOutShare = 0.1
        public var epochs = 3
        public var batchSize = 64
        public var learningRate: Float = 1e-3
        public var seed: UInt64 = 1
        public var output = Classifier.defaultPath
        public var command = "launcher evaluator train"
        public init() {}
    }

    /// Labelled images to learn from (rows `trainingRows` of `training`) and to test on.
    struct Split {
        let training: Dataset, trainingRows: [Int]
        let test: Dataset, testRows: [Int]
        let classNames: [String]
    }

    let options: Options
    public init(options: Options) { self.options = options }

    /// Trains, writes the file, and returns the accuracy on the test (or held-out) images.
    public func run(progress: (String) -> Void = { print($0) }) throws -> Double {
        guard options.epochs >= 1 else { throw ConfigurationError("--epochs \(options.epochs): at least 1") }
        let split = try options.data.map(heldOutSplit) ?? fashionMNIST()
        let sampleShape = split.training.sampleShape
        let (labels, trainingRows) = (split.training.labels!, split.trainingRows)
        var random = RandomStream(seed: options.seed, purpose: .evaluatorInitialization)
        let network = Classifier.network(sampleShape: sampleShape, classes: split.classNames.count, random: &random)
        let adam = Adam(parameters: network.parameters, learningRate: options.learningRate)
        var sampler = try EpochSampler(seed: options.seed, datasetCount: trainingRows.count, globalBatch: min(options.batchSize, trainingRows.count))
        let test = try split.test.batch(split.testRows)
        let testLabels = split.testRows.map { split.test.labels![$0] }
        let started = Date()
        var accuracy = 0.0
        for epoch in 0..<options.epochs {
            network.setTraining(true)
            var total = 0.0
            for _ in 0..<sampler.batchesPerEpoch {
                let indices = sampler.next().map { trainingRows[$0] }
                adam.zeroGradients()
                let tape = Tape()
                let loss = softmaxCrossEntropy(logits: network(tape.variable(try split.training.batch(indices))), labels: indices.map { labels[$0] })
                tape.backward(from: loss)
                adam.step()
                total += Double(loss.value.scalar)
            }
            accuracy = Classifier.accuracy(of: network, images: test, labels: testLabels)
            progress(String(format: "epoch %d/%d: training loss %.4f, %@ accuracy %.2f%%, %.0f s", epoch + 1, options.epochs,
                            total / Double(sampler.batchesPerEpoch), options.data == nil ? "test" : "held-out", 100 * accuracy,
                            Date().timeIntervalSince(started)))
        }
        var record = EvaluatorNetwork.Record(accuracy: accuracy, command: options.command, seed: options.seed, epochs: options.epochs)
        if let data = options.data {
            record.heldOut = (data, split.classNames, split.testRows, Classifier.embed(test, with: network).features)
        }
        try EvaluatorNetwork.write(network, sampleShape: sampleShape, record: record, to: options.output)
        return record.accuracy
    }

    /// Fashion-MNIST's training images to learn from and its test images to test on.
    private func fashionMNIST() throws -> Split {
        let files = FashionMNIST.files(in: options.directory)
        let train = try Dataset.images(at: files.trainingImages).labelled(try Labels.idx(at: files.trainingLabels), from: files.trainingLabels)
        let test = try Dataset.images(at: files.testImages).labelled(try Labels.idx(at: files.testLabels), from: files.testLabels)
        try train.require(sampleShape: Classifier.fashionMNIST.sampleShape, for: "the Fashion-MNIST evaluator")
        try test.require(sampleShape: Classifier.fashionMNIST.sampleShape, for: "the Fashion-MNIST evaluator")
        return Split(training: train, trainingRows: Array(0..<train.count), test: test, testRows: Array(0..<test.count),
                     classNames: (0..<Classifier.fashionMNIST.classes).map(String.init))
    }

    /// `path`'s labelled images, a seeded `heldOutShare` of them held out (at least one a class
    /// would be too few for a reference; at least two images in all).
    private func heldOutSplit(_ path: String) throws -> Split {
        let data = try Dataset.images(at: path)
        guard let labels = data.labels else {
            throw DataError("\(path): no labels; the evaluator is a classifier and learns from labelled images. Label them: a folder "
                            + "with one subfolder of images per class, `launcher dataset SRC --labels FILE.idx` for IDX images, "
                            + "or an HDF5 `labels` dataset [N] beside the images")
        }
        guard Classifier.accepts(sampleShape: data.sampleShape) else {
            throw DataError("\(path): images of shape \(data.sampleShape); the evaluator classifies [C, H, W] images with sides of at least 8")
        }
        let classNames = data.classNames.isEmpty ? (0...(labels.max() ?? 0)).map(String.init) : data.classNames
        guard Set(labels).count >= 2 else { throw DataError("\(path): every image has one label; the evaluator needs at least 2 classes") }
        var random = RandomStream(seed: options.seed, purpose: .evaluatorSplit)
        let order = random.permutation(data.count)
        let held = Int((Double(data.count) * options.heldOutShare).rounded())
        guard held >= 2, data.count - held >= 2 else {
            throw DataError("\(path): \(data.count) images; holding out \(Int(100 * options.heldOutShare))% leaves \(held) to measure against "
                            + "and \(data.count - held) to learn from, and each needs at least 2")
        }
        return Split(training: data, trainingRows: order[held...].sorted(), test: data, testRows: order[..<held].sorted(), classNames: classNames)
    }
}
