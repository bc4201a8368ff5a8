import Checkpoints
import Datasets
import Foundation
import Models
import Training

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

extension Evaluation {
    /// Colourings for each of the first `noiseImages` test images, for the both-tints share.
    static let colouringsPerImage = 8
    static let noiseImages = 1000

    /// colorize28: paints the gray versions of the first `count` test images (colouring i from
    /// noise stream (seed, "evaluate", i)) and measures the colourings.
    func measureColorizations(count requested: Int, seed: UInt64, from subject: EvaluationSubject) throws -> ColorizationScores {
        let (preset, generator) = (subject.configuration.preset, subject.generator)
        let test = try world.agree { try CheckpointNetworks.testImages(for: "colourings").tinted() }
        let count = min(requested, test.count)
        let noiseImages = min(Self.noiseImages, count), perImage = Self.colouringsPerImage
        func noise(_ purpose: RandomPurpose, _ keys: [Int]) -> Tensor {
            RandomStream.normalRows(seed: seed, purpose: purpose, keys: keys.map { [UInt64($0)] }, width: Colorize28.noiseSize)
        }
        // Each row: the colouring's tint (its index in Tint.allCases), its L1 and L2 to the truth,
        // and whether the image's noise colourings include both red and green (0 beyond noiseImages).
        let rows = try world.agree {
            try gather(count: count, sampleShape: [4], transform: { $0 }) { range in
                let truth = test.batch(range)
                let gray = Colorize28.gray(of: truth)
                let painted = preset.samples(of: generator, input: ConditionalGenerator.input(condition: gray, noise: noise(.evaluate, Array(range))))
                let varied = range.lowerBound..<max(range.lowerBound, min(range.upperBound, noiseImages))
                let variants = varied.isEmpty ? nil : preset.samples(
                    of: generator, input: ConditionalGenerator.input(condition: gray.rows(varied.flatMap { Array(repeating: $0 - range.lowerBound, count: perImage) }),
                                                                     noise: noise(.diversity, varied.flatMap { i in (0..<perImage).map { i * perImage + $0 } })))
                var scalars: [Float] = []
                for (row, index) in range.enumerated() {
                    let one = row..<row + 1
                    let difference = painted.slice(one, axis: 0) - truth.slice(one, axis: 0)
                    let tint = ColorizationMetrics.tint(of: painted.slice(one, axis: 0), gray: gray.slice(one, axis: 0))
                    var both: Float = 0
                    if let variants, index < noiseImages {
                        let tints = Set((0..<perImage).map { k in
                            ColorizationMetrics.tint(of: variants.slice(row * perImage + k..<row * perImage + k + 1, axis: 0), gray: gray.slice(one, axis: 0))
                        })
                        both = tints.isSuperset(of: [.red, .green]) ? 1 : 0
                    }
                    scalars += [Float(Tint.allCases.firstIndex(of: tint)!), difference.map { abs($0) }.mean(), (difference * difference).mean(), both]
                }
                return Tensor(shape: [range.count, 4], scalars: scalars)
            }
        }
        func share(_ tint: Tint) -> Double {
            Double((0..<count).filter { Int(rows.scalars[$0 * 4]) == Tint.allCases.firstIndex(of: tint)! }.count) / Double(count)
        }
        func mean(_ column: Int, over n: Int) -> Double { (0..<n).reduce(0.0) { $0 + Double(rows.scalars[$1 * 4 + column]) } / Double(max(n, 1)) }
        return ColorizationScores(samples: count, red: share(.red), green: share(.green), yellow: share(.yellow),
                                  bothTints: mean(3, over: noiseImages), noiseImages: noiseImages, colouringsPerImage: perImage,
                                  l1: mean(1, over: count), l2: mean(2, over: count))
    }
}
