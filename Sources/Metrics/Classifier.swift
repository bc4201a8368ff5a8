import Foundation
import Models

/// The evaluator network: a small convolutional classifier, trained by LearnedLoss itself on
/// labelled images of the shape it measures, whose penultimate features stand in for
/// Inception's in FID, KID, precision and recall, so evaluation needs nothing downloaded.
public enum Classifier {
    public static let featureSize = 64
    /// The sample shape and classes of the shipped Fashion-MNIST evaluator, and of every file
    /// written before evaluators recorded their own.
    public static let fashionMNIST = (sampleShape: [1, 28, 28], classes: 10)

    /// image `[N, C, H, W]` → logits `[N, classes]`: Conv2d(C, 32, k4, s2, p1) → ReLU, then
    /// Conv2d(k4, s2, p1) → BatchNorm → ReLU blocks doubling the channels (at most 256) while the
    /// side is over 8, → Flatten → Linear(·, 64) → ReLU (the features) → Linear(64, classes). For
    /// Fashion-MNIST, two convolutions: 28 → 14 → 7.
    public static func network(sampleShape: [Int], classes: Int, random: inout RandomStream) -> Sequential {
        var (channels, height, width) = (32, halved(sampleShape[1]), halved(sampleShape[2]))
        var layers: [Layer] = [Conv2d(sampleShape[0], channels, kernel: 4, stride: 2, padding: 1, random: &random), ReLU()]
        while max(height, width) > 8 {
            let next = min(2 * channels, 256)
            layers += [Conv2d(channels, next, kernel: 4, stride: 2, padding: 1, random: &random), BatchNorm(next), ReLU()]
            (channels, height, width) = (next, halved(height), halved(width))
        }
        return Sequential(layers + [
            Flatten(), Linear(channels * height * width, featureSize, random: &random), ReLU(),
            Linear(featureSize, classes, random: &random),
        ])
    }

    /// The side a 4×4 convolution of stride 2 and padding 1 leaves of `side`.
    private static func halved(_ side: Int) -> Int { (side - 2) / 2 + 1 }

    /// Whether the network can be built for samples of `shape`: square or not, each side at least 8.
    public static func accepts(sampleShape shape: [Int]) -> Bool {
        shape.count == 3 && shape[0] >= 1 && shape[1] >= 8 && shape[2] >= 8
    }

    /// Features `[N, 64]` and class probabilities `[N, classes]` of images `[N, C, H, W]` in evaluation mode.
    public static func embed(_ images: Tensor, with network: Sequential) -> (features: Tensor, probabilities: Tensor) {
        network.setTraining(false)
        let featureLayers = network.layers.count - 1
        let both = images.mappingRows(inChunksOf: 500) { batch in
            let feature = network.layers[..<featureLayers].reduce(Variable(batch)) { $1($0) }
            return Tensor.concatenate([feature.value, softmax(network.layers[featureLayers](feature).value)], axis: 1)
        }
        return (both.slice(0..<featureSize, axis: 1), both.slice(featureSize..<both.shape[1], axis: 1))
    }

    /// The share of `images` whose most probable class is their label.
    public static func accuracy(of network: Sequential, images: Tensor, labels: [Int]) -> Double {
        let predicted = ImageMetrics.rowArgmax(embed(images, with: network).probabilities)
        let correct = zip(predicted, labels).filter { $0 == $1 }.count
        return Double(correct) / Double(labels.count)
    }
}

extension Classifier {
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
