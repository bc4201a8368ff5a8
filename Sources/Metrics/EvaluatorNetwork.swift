import Checkpoints
import Datasets
import Foundation
import HDF5
import Models

/// An evaluator network as its file describes it: the classifier, the shape of the images it
/// classifies, its classes, and, when it was trained on the user's data, the features of the
/// images held out of that training, which measurements compare generated images with.
///
/// The file: attributes `format` ("learnedloss-evaluator"), `format_version`, `test_accuracy`,
/// `command`, `seed`, `epochs`; group `classifier` (the weights). Version 2 adds `sample_shape`
/// `[3]` (C, H, W), the `class_names` attribute (one a line), `data` (what it was trained on),
/// `held_out` (the indices of the held-out images in it) and `held_out_features` `[M, 64]`.
/// A version 1 file is the Fashion-MNIST evaluator: 1×28×28, 10 classes, the test set as reference.
public struct EvaluatorNetwork {
    let network: Sequential
    public let path: String
    /// `[C, H, W]` of the images it classifies.
    public let sampleShape: [Int]
    public let classNames: [String]
    /// Features `[M, 64]` of the images held out of its training; nil for a version 1 file.
    let heldOutFeatures: Tensor?

    public static let format = "learnedloss-evaluator"
    /// Bounds on what a file may declare, checked before a network is sized by it.
    static let largestSide = 1024, mostChannels = 4, mostClasses = 10_000

    /// How to make an evaluator for images of `sampleShape`.
    static func howToTrain(_ sampleShape: [Int]) -> String {
        "train one on labelled images of \(shapeText(sampleShape)) with `launcher evaluator train --data DATA --output evaluator.h5` "
            + "and pass --evaluator evaluator.h5"
    }

    static func shapeText(_ shape: [Int]) -> String { shape.map(String.init).joined(separator: "×") }

    /// Loads the evaluator at `path`, or else, for Fashion-MNIST's shape, the first of
    /// `Classifier.searchPaths` that exists, and checks that it classifies images of `sampleShape`.
    public static func load(_ path: String?, for sampleShape: [Int]) throws -> EvaluatorNetwork {
        guard path != nil || sampleShape == Classifier.fashionMNIST.sampleShape else {
            throw ConfigurationError("images of \(shapeText(sampleShape)) are measured in the features of an evaluator network "
                                     + "for that shape: \(howToTrain(sampleShape))")
        }
        let candidates = path.map { [$0] } ?? Classifier.searchPaths
        guard let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) else {
            throw ConfigurationError("no evaluator network at \(candidates.joined(separator: " or ")); pass --evaluator or train one "
                                     + "with `launcher evaluator train`")
        }
        let evaluator = try read(found)
        guard evaluator.sampleShape == sampleShape else {
            throw ConfigurationError("\(found): an evaluator for images of \(shapeText(evaluator.sampleShape)); these are "
                                     + "\(shapeText(sampleShape)): \(howToTrain(sampleShape))")
        }
        return evaluator
    }

    /// The evaluator in the file at `path`, its declared shape and classes checked before use.
    static func read(_ path: String) throws -> EvaluatorNetwork {
        let root = try HDF5File.open(path).root
        guard root.hasAttribute("format"), try root.stringAttribute("format") == format else {
            throw ConfigurationError("\(path): not a LearnedLoss evaluator network (no format attribute \"\(format)\")")
        }
        var (sampleShape, classes) = Classifier.fashionMNIST
        var classNames: [String] = []
        var heldOut: Tensor?
        if root.contains("sample_shape") {
            let shape = try root.read("sample_shape", as: Int64.self)
            guard shape.shape == [3], (1...Int64(mostChannels)).contains(shape.values[0]),
                  shape.values.dropFirst().allSatisfy({ (8...Int64(largestSide)).contains($0) }) else {
                throw ConfigurationError("\(path):/sample_shape is \(shape.values); expected [C, H, W] with C 1 to \(mostChannels) "
                                         + "and sides 8 to \(largestSide)")
            }
            sampleShape = shape.values.map { Int($0) }
            classNames = try root.stringAttribute("class_names").split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            classes = classNames.count
            guard (2...mostClasses).contains(classes) else {
                throw ConfigurationError("\(path): names \(classes) classes in class_names; an evaluator tells 2 to \(mostClasses) apart")
            }
            let rows = try root.shape(of: "held_out_features")
            guard rows.count == 2, rows[1] == Classifier.featureSize else {
                throw ConfigurationError("\(path):/held_out_features has shape \(rows); expected [M, \(Classifier.featureSize)]")
            }
            heldOut = try root.tensor("held_out_features", shape: rows) { _ in "\(path):/held_out_features is unreadable" }
        } else {
            classNames = (0..<classes).map(String.init)
        }
        var random = RandomStream(seed: 0, purpose: .evaluator)
        let network = Classifier.network(sampleShape: sampleShape, classes: classes, random: &random)
        try NetworkState.read(network, from: try root.group("classifier")) { entry, stored, expected in
            "\(path): /classifier/\(entry) " + (stored.map { "has shape \($0), the evaluator network expects \(expected)" } ?? "is missing")
        }
        return EvaluatorNetwork(network: network, path: path, sampleShape: sampleShape, classNames: classNames, heldOutFeatures: heldOut)
    }

    /// What `launcher evaluator train` records besides the weights.
    public struct Record {
        public var accuracy: Double
        public var command: String
        public var seed: UInt64
        public var epochs: Int
        /// The data set, the indices held out of training, and their features; nil for Fashion-MNIST's
        /// training set, whose test set is the reference.
        public var heldOut: (data: String, classNames: [String], indices: [Int], features: Tensor)?

        public init(accuracy: Double, command: String, seed: UInt64, epochs: Int) {
            (self.accuracy, self.command, self.seed, self.epochs) = (accuracy, command, seed, epochs)
        }
    }

    /// Writes `network`, which classifies `sampleShape` images, and `record` to `path`, whole or not at all.
    public static func write(_ network: Sequential, sampleShape: [Int], record: Record, to path: String) throws {
        try HDF5File.writeAtomically(path) { file in
            let root = file.root
            try root.setAttribute("format", format)
            try root.setAttribute("format_version", Int64(record.heldOut == nil ? 1 : 2))
            try root.setAttribute("test_accuracy", record.accuracy)
            try root.setAttribute("command", record.command)
            try root.setAttribute("seed", Int64(bitPattern: record.seed))
            try root.setAttribute("epochs", Int64(record.epochs))
            if let heldOut = record.heldOut {
                try root.write(sampleShape.map(Int64.init), shape: [3], to: "sample_shape")
                try root.setAttribute("class_names", heldOut.classNames.joined(separator: "\n"))
                try root.setAttribute("data", heldOut.data)
                try root.write(heldOut.indices.map(Int64.init), shape: [heldOut.indices.count], to: "held_out")
                try root.write(heldOut.features.scalars, shape: heldOut.features.shape, to: "held_out_features")
            }
            try NetworkState.write(network, into: try root.createGroup("classifier"))
        }
    }
}
