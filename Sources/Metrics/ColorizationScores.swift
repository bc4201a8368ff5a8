import Checkpoints
import Datasets
import Foundation
import Models


/// What `launcher evaluate` reports for a colorize28 checkpoint, over test images whose gray
/// versions the generator paints: which tint it paints them, and how far from the truth.
public struct ColorizationScores: Codable, Sendable {
    public let samples: Int
    /// The share of colourings whose tint (`ColorizationMetrics.tint`) is nearest red, green and
    /// yellow (the average no image has).
    public let red: Double
    public let green: Double
    public let yellow: Double
    /// Of the first `noiseImages` test images, the share whose `colouringsPerImage` colourings
    /// (one per noise draw) include both red and green: the noise choosing the colour.
    public let bothTints: Double
    public let noiseImages: Int
    public let colouringsPerImage: Int
    /// Mean absolute and squared distance to the true colour image, per pixel and channel, in [-1, 1] units.
    public let l1: Double
    public let l2: Double

    var scalars: [(tag: String, value: Double)] {
        [("eval/red or green %", 100 * (red + green)), ("eval/red %", 100 * red), ("eval/green %", 100 * green),
         ("eval/yellow %", 100 * yellow), ("eval/both tints %", 100 * bothTints), ("eval/L1", l1)]
    }

    var tableLines: [String] {
        [
            "  test images          \(samples)",
            String(format: "  tints                red %.1f%%, green %.1f%%, yellow %.1f%%", red * 100, green * 100, yellow * 100),
            String(format: "  both tints           %.1f%% of %d images, %d colourings each", bothTints * 100, noiseImages, colouringsPerImage),
            String(format: "  L1 / L2 to truth     %.4f / %.4f", l1, l2),
        ]
    }
}

/// The figures behind `ColorizationScores`, each a function of tensors alone.
public enum ColorizationMetrics {
    /// The gray value in [0, 1] above which a pixel is the garment's rather than the background's.
    public static let garmentThreshold: Float = 0.2

    /// The tint of a colouring `[3, H, W]` in [−1, 1] of the gray image `[1, H, W]`: the mean colour
    /// of the garment's pixels (all pixels if none is bright enough), nearest in chromaticity.
    public static func tint(of colouring: Tensor, gray: Tensor) -> Tint {
        let plane = gray.count
        let garment = (0..<plane).filter { (gray.scalars[$0] + 1) / 2 > garmentThreshold }
        let pixels = garment.isEmpty ? Array(0..<plane) : garment
        let mean = (0..<3).map { channel in
            pixels.reduce(Float(0)) { $0 + (colouring.scalars[channel * plane + $1] + 1) / 2 } / Float(pixels.count)
        }
        return Tint.nearest(to: mean)
    }
}
