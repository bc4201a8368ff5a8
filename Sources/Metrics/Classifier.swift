import Distributed
import Foundation
import HDF5
import Models


/// The evaluator network: a small convolutional Fashion-MNIST classifier, trained by LearnedLoss
/// itself, whose penultimate features stand in for Inception's in FID, KID, precision and recall,
/// so evaluation needs nothing downloaded.
public enum Classifier {
    public static let featureSize = 64
    public static let classes = 10
    /// Layers 0..<featureLayers give the features; the last layer maps them to class logits.
    static let featureLayers = 8

    /// image `[N, 1, 28, 28]` → logits `[N, 10]`: Conv2d(1, 32, k4, s2, p1) → ReLU → Conv2d(32, 64, k4, s2, p1)
    /// → BatchNorm(64) → ReLU → Flatten → Linear(3136, 64) → ReLU (the features) → Linear(64, 10).
    public static func network(random: inout RandomStream) -> Sequential {
        Sequential([
            Conv2d(1, 32, kernel: 4, stride: 2, padding: 1, random: &random), ReLU(),
            Conv2d(32, 64, kernel: 4, stride: 2, padding: 1, random: &random), BatchNorm(64), ReLU(),
            Flatten(), Linear(64 * 7 * 7, featureSize, random: &random), ReLU(),
            Linear(featureSize, classes, random: &random),
        ])
    }

    /// Features `[N, 64]` and class probabilities `[N, 10]` of images `[N, 1, 28, 28]` in evaluation mode.
    public static func embed(_ images: Tensor, with network: Sequential) -> (features: Tensor, probabilities: Tensor) {
        network.setTraining(false)
        let both = images.mappingRows(inChunksOf: 500) { batch in
            let feature = network.layers[..<featureLayers].reduce(Variable(batch)) { $1($0) }
            return Tensor.concatenate([feature.value, softmax(network.layers[featureLayers](feature).value)], axis: 1)
        }
        return (both.slice(0..<featureSize, axis: 1), both.slice(featureSize..<featureSize + classes, axis: 1))
    }

    /// The share of `images` whose most probable class is their label.
    public static func accuracy(of network: Sequential, images: Tensor, labels: [Int]) -> Double {
        let predicted = ImageMetrics.rowArgmax(embed(images, with: network).probabilities)
        let correct = zip(predicted, labels).filter { $0 == $1 }.count
        return Double(correct) / Double(labels.count)
    }
}

extension Classifier {
    public static let format = "learnedloss-evaluator"
    /// Where the shipped weights live, relative to the repository root.
    public static let defaultPath = "evaluator/fashion-mnist-classifier.h5"

    /// Where the evaluator is looked for when `--evaluator` is not given, in order:
    /// `$LEARNEDLOSS_EVALUATOR`; `evaluator/fashion-mnist-classifier.h5` under the working
    /// directory; and the same under the source tree the running launcher was built in (its
    /// executable is `.build/<platform>/<configuration>/launcher`, three levels below the root).
    public static var searchPaths: [String] {
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        let sourceTree = executable.appendingPathComponent("../../../\(defaultPath)").standardized.path
        return [ProcessInfo.processInfo.environment["LEARNEDLOSS_EVALUATOR"], defaultPath, sourceTree].compactMap { $0 }
    }
}
