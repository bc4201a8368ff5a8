import Foundation
import Models

/// What `launcher evaluate` reports for an image-to-image checkpoint (pix2pix), over the pairs
/// held out of its training: how far its outputs are from the targets, and whether they look like
/// targets (as colourful, as sharp, as varied, and in the evaluator's features) or like their average.
public struct PairedScores: Codable, Sendable {
    public let samples: Int
    /// Mean absolute and squared distance to the target, per pixel and channel, in [−1, 1] units.
    public let l1: Double
    public let l2: Double
    /// Mean colourfulness (`PairedMetrics.colourfulness`) of the outputs over the targets'; nil
    /// for gray targets.
    public let colourfulness: Double?
    /// Mean gradient magnitude (`PairedMetrics.sharpness`) of the outputs over the targets'.
    public let sharpness: Double
    /// Mean L1 between two outputs for one input and two noise draws, over `diversityInputs` inputs.
    public let diversity: Double
    public let diversityInputs: Int
    /// FID of the outputs against the targets in the evaluator's features, when one was given.
    public let frechetDistance: Double?

    var scalars: [(tag: String, value: Double)] {
        [("eval/L1", l1), ("eval/L2", l2), ("eval/sharpness ratio", sharpness), ("eval/diversity", diversity)]
            + (colourfulness.map { [("eval/colourfulness ratio", $0)] } ?? []) + (frechetDistance.map { [("eval/FID", $0)] } ?? [])
    }

    var tableLines: [String] {
        [
            "  held-out pairs       \(samples)",
            String(format: "  L1 / L2 to target    %.4f / %.4f", l1, l2),
            colourfulness.map { String(format: "  colourfulness        %.3f of the targets'", $0) } ?? "  colourfulness        (gray targets)",
            String(format: "  sharpness            %.3f of the targets'", sharpness),
            String(format: "  diversity            %.4f (L1 between two noise draws, %d inputs)", diversity, diversityInputs),
            frechetDistance.map { String(format: "  FID against targets  %.2f", $0) } ?? "  FID against targets  (no --evaluator)",
        ]
    }
}

/// The per-image figures behind `PairedScores`, each a function of one image `[C, H, W]` in [−1, 1].
public enum PairedMetrics {
    /// Hasler and Süsstrunk's colourfulness (2003) of an RGB image on the 0–255 scale:
    /// σ_rgyb + 0.3 μ_rgyb, for rg = R − G and yb = (R + G)/2 − B over the pixels.
    public static func colourfulness(_ image: Tensor) -> Double {
        let plane = image.count / 3
        var (rg, yb) = ([Double](), [Double]())
        rg.reserveCapacity(plane)
        yb.reserveCapacity(plane)
        for pixel in 0..<plane {
            let (r, g, b) = (0..<3).map { Double(image.scalars[$0 * plane + pixel] + 1) * 127.5 }.triple
            rg.append(r - g)
            yb.append((r + g) / 2 - b)
        }
        func meanAndDeviation(_ values: [Double]) -> (Double, Double) {
            let mean = values.reduce(0, +) / Double(values.count)
            return (mean, (values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count)).squareRoot())
        }
        let ((meanRG, deviationRG), (meanYB, deviationYB)) = (meanAndDeviation(rg), meanAndDeviation(yb))
        return (deviationRG * deviationRG + deviationYB * deviationYB).squareRoot() + 0.3 * (meanRG * meanRG + meanYB * meanYB).squareRoot()
    }

    /// Mean gradient magnitude √(dx² + dy²) by forward differences, over the pixels with a right
    /// and a lower neighbour and over the channels, on the 0–1 scale.
    public static func sharpness(_ image: Tensor) -> Double {
        let (channels, height, width) = (image.shape[0], image.shape[1], image.shape[2])
        var total = 0.0
        for channel in 0..<channels {
            let base = channel * height * width
            for y in 0..<height - 1 {
                for x in 0..<width - 1 {
                    let here = image.scalars[base + y * width + x]
                    let dx = Double(image.scalars[base + y * width + x + 1] - here) / 2
                    let dy = Double(image.scalars[base + (y + 1) * width + x] - here) / 2
                    total += (dx * dx + dy * dy).squareRoot()
                }
            }
        }
        return total / Double(channels * (height - 1) * (width - 1))
    }
}

private extension Array where Element == Double {
    var triple: (Double, Double, Double) { (self[0], self[1], self[2]) }
}
