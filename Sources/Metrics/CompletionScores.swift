import Distributed
import Foundation
import Models


/// What `launcher evaluate` reports for a completion28 checkpoint, over test images whose top
/// halves the generator completes.
public struct CompletionScores: Codable, Sendable {
    public let samples: Int
    /// Mean per-pixel standard deviation across `completionsPerTop` completions of the same top half.
    public let diversity: Double
    public let diversityTops: Int
    public let completionsPerTop: Int
    /// Mean gradient magnitude of generated bottoms over that of the real bottoms (1 is as sharp as real).
    public let sharpness: Double
    /// Evaluator FID of completed images against the reference set.
    public let frechetDistance: Double
    /// The evaluator's mean top-class probability on completed images, and on the same images whole.
    public let confidence: Double
    public let realConfidence: Double
    /// Mean absolute and squared distance of generated bottoms to the true ones, per pixel, in [-1, 1] units.
    public let l1: Double
    public let l2: Double

    /// The figures logged during training, under their TensorBoard tags.
    var scalars: [(tag: String, value: Double)] {
        [("eval/FID", frechetDistance), ("eval/diversity", diversity), ("eval/sharpness", sharpness), ("eval/L1", l1)]
    }

    var tableLines: [String] {
        [
            "  test images          \(samples) (diversity over \(diversityTops) tops × \(completionsPerTop) completions)",
            String(format: "  diversity            %.4f", diversity),
            String(format: "  sharpness            %.3f", sharpness),
            String(format: "  FID                  %.3f", frechetDistance),
            String(format: "  confidence           %.3f (real images %.3f)", confidence, realConfidence),
            String(format: "  L1 / L2 to truth     %.4f / %.4f", l1, l2),
        ]
    }
}

/// The figures behind `CompletionScores`, each a function of tensors alone.
public enum CompletionMetrics {
    /// The mean over pixels of the standard deviation across completions: `completions` `[K, N, ...]`,
    /// K completions of N inputs (population standard deviation over K).
    public static func diversity(_ completions: Tensor) -> Double {
        let k = completions.shape[0], size = completions.count / k
        var total = 0.0
        for pixel in 0..<size {
            var sum = 0.0, squares = 0.0
            for j in 0..<k {
                let value = Double(completions.scalars[j * size + pixel])
                (sum, squares) = (sum + value, squares + value * value)
            }
            let mean = sum / Double(k)
            total += max(squares / Double(k) - mean * mean, 0).squareRoot()
        }
        return total / Double(size)
    }

    /// The mean gradient magnitude √(∂x² + ∂y²) of images `[N, C, H, W]`, by forward differences
    /// over the pixels that have both a right and a lower neighbour.
    public static func gradientMagnitude(_ images: Tensor) -> Double {
        let (h, w) = (images.shape[2], images.shape[3])
        let planes = images.count / (h * w)
        var total = 0.0
        images.scalars.withUnsafeBufferPointer { pixels in
            for plane in 0..<planes {
                let base = plane * h * w
                for y in 0..<h - 1 {
                    for x in 0..<w - 1 {
                        let value = Double(pixels[base + y * w + x])
                        let dx = Double(pixels[base + y * w + x + 1]) - value, dy = Double(pixels[base + (y + 1) * w + x]) - value
                        total += (dx * dx + dy * dy).squareRoot()
                    }
                }
            }
        }
        return total / Double(planes * (h - 1) * (w - 1))
    }

    /// The mean largest class probability of probabilities `[N, classes]`.
    public static func confidence(_ probabilities: Tensor) -> Double {
        let classes = probabilities.shape[1]
        return (0..<probabilities.shape[0]).reduce(0.0) { total, row in
            total + Double(probabilities.scalars[row * classes..<(row + 1) * classes].max()!)
        } / Double(probabilities.shape[0])
    }
}

/// What `launcher evaluate` adds for an alphagan28 checkpoint: how well G(E(x)) gives back test images.
public struct ReconstructionScores: Codable, Sendable {
    public let samples: Int
    /// Mean absolute pixel difference between test images and their reconstructions, in [-1, 1] units.
    public let l1: Double
    /// Evaluator FID of the reconstructions against the reference set.
    public let frechetDistance: Double

    var scalars: [(tag: String, value: Double)] {
        [("eval/reconstruction L1", l1), ("eval/reconstruction FID", frechetDistance)]
    }

    var tableLines: [String] {
        [
            "  reconstructions      \(samples) test images",
            String(format: "  reconstruction L1    %.4f", l1),
            String(format: "  reconstruction FID   %.3f", frechetDistance),
        ]
    }
}
