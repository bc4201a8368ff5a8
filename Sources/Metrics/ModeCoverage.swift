import Datasets
import Distributed
import Foundation
import Models


/// PacGAN's (and VEEGAN's) measure of mode collapse on the 2-D mixtures.
///
/// A sample is high quality when it lies within 3 standard deviations of its nearest mode; a mode
/// is covered when it is the nearest mode of at least one high-quality sample. The reverse KL is
/// that of the high-quality samples' distribution over the modes from the uniform one.
public struct ModeCoverage: Codable, Equatable, Sendable {
    public let samples: Int
    public let modes: Int
    public let modesCovered: Int
    /// Percentage of samples within 3 standard deviations of their nearest mode.
    public let highQualityPercent: Double
    /// KL(high-quality samples over modes ‖ uniform), in nats; nil when no sample is of high quality.
    public let reverseKL: Double?
    /// High-quality samples per mode, in the mixture's mode order.
    public let countsPerMode: [Int]

    var scalars: [(tag: String, value: Double)] {
        [("eval/modes covered", Double(modesCovered)), ("eval/high quality %", highQualityPercent)] + (reverseKL.map { [("eval/reverse KL", $0)] } ?? [])
    }

    var tableLines: [String] {
        [
            "  samples              \(samples)",
            "  modes covered        \(modesCovered) of \(modes)",
            String(format: "  high quality         %.1f%%", highQualityPercent),
            "  reverse KL           " + (reverseKL.map { String(format: "%.4f", $0) } ?? "undefined (no high-quality sample)"),
        ]
    }
}

extension MixtureOfGaussians {
    /// Mode coverage of points `[N, 2]`.
    public func coverage(of points: Tensor) -> ModeCoverage {
        let count = points.shape[0]
        var counts = [Int](repeating: 0, count: modes.count)
        let threshold = 3 * standardDeviation
        for index in 0..<count {
            let (x, y) = (points.scalars[2 * index], points.scalars[2 * index + 1])
            var best = 0, bestDistance = Float.infinity
            for (mode, centre) in modes.enumerated() {
                let distance = ((x - centre[0]) * (x - centre[0]) + (y - centre[1]) * (y - centre[1])).squareRoot()
                if distance < bestDistance { (best, bestDistance) = (mode, distance) }
            }
            if bestDistance <= threshold { counts[best] += 1 }
        }
        let highQuality = counts.reduce(0, +)
        let reverseKL = ImageMetrics.klFromUniform(counts)
        return ModeCoverage(samples: count, modes: modes.count, modesCovered: counts.filter { $0 > 0 }.count,
                            highQualityPercent: count == 0 ? 0 : 100 * Double(highQuality) / Double(count),
                            reverseKL: reverseKL, countsPerMode: counts)
    }
}
