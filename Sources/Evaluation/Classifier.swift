import Distributed
import Foundation
import HDF5
import Models
import Training

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
        var features: [Tensor] = [], probabilities: [Tensor] = []
        for start in stride(from: 0, to: images.shape[0], by: 500) {
            let batch = images.slice(start..<min(start + 500, images.shape[0]), axis: 0)
            let feature = network.layers[..<featureLayers].reduce(Variable(batch)) { $1($0) }
            features.append(feature.value)
            probabilities.append(softmax(network.layers[featureLayers](feature).value))
        }
        return (Tensor.concatenate(features, axis: 0), Tensor.concatenate(probabilities, axis: 0))
    }

    /// The share of `images` whose most probable class is their label.
    public static func accuracy(of network: Sequential, images: Tensor, labels: [Int]) -> Double {
        let probabilities = embed(images, with: network).probabilities
        let correct = labels.indices.filter { row in
            let scores = probabilities.scalars[row * classes..<(row + 1) * classes]
            return scores.indices.max { scores[$0] < scores[$1] }! - row * classes == labels[row]
        }.count
        return Double(correct) / Double(labels.count)
    }
}
