import Checkpoints
import Datasets
import Models

/// colorize28's measurement: it paints the gray versions of test images (colouring i from noise
/// stream (seed, "evaluate", i)) and measures which tint each gets, how often an image's noise
/// gives both real tints, and the distance to the truth.
public struct ColorizationMeasurement: Measurement {
    public init() {}

    /// Colourings for each of the first `noiseImages` test images, for the both-tints share.
    static let colouringsPerImage = 8
    static let noiseImages = 1000

    /// At most the 10,000 test images.
    public var defaultSamples: (evaluate: Int, duringTraining: Int) { (10_000, 2000) }
    public var minimumSamples: (count: Int, figures: String) { (200, "the tint shares need") }

    public func prepare(_ context: MeasurementContext) throws {
        _ = try context.world.agree { try TestImages.fashionMNIST(for: "colourings") }
    }

    public func measure(_ subject: EvaluationSubject, seed: UInt64, context: MeasurementContext) throws -> MeasuredScores {
        let test = try context.world.agree { try TestImages.fashionMNIST(for: "colourings").tinted() }
        let count = min(subject.samples, test.count)
        let noiseImages = min(Self.noiseImages, count), perImage = Self.colouringsPerImage
        func noise(_ purpose: RandomPurpose, _ keys: [Int]) -> Tensor {
            RandomStream.normalRows(seed: seed, purpose: purpose, keys: keys.map { [UInt64($0)] }, width: Colorize28.noiseSize)
        }
        // Each row: the colouring's tint (its index in Tint.allCases), its L1 and L2 to the truth,
        // and whether the image's noise colourings include both red and green (0 beyond noiseImages).
        let rows = try context.gatherRows(count: count, width: 4) { range in
                let truth = try test.batch(range)
                let gray = Colorize28.gray(of: truth)
                let painted = subject.makeSamples(ConditionalGenerator.input(condition: gray, noise: noise(.evaluate, Array(range))))
                let varied = range.lowerBound..<max(range.lowerBound, min(range.upperBound, noiseImages))
                let variants = varied.isEmpty ? nil : subject.makeSamples(
                    ConditionalGenerator.input(condition: gray.rows(varied.flatMap { Array(repeating: $0 - range.lowerBound, count: perImage) }),
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
        func share(_ tint: Tint) -> Double {
            Double((0..<count).filter { Int(rows.scalars[$0 * 4]) == Tint.allCases.firstIndex(of: tint)! }.count) / Double(count)
        }
        func mean(_ column: Int, over n: Int) -> Double { (0..<n).reduce(0.0) { $0 + Double(rows.scalars[$1 * 4 + column]) } / Double(max(n, 1)) }
        var scores = MeasuredScores()
        scores.colorization = ColorizationScores(samples: count, red: share(.red), green: share(.green), yellow: share(.yellow),
                                  bothTints: mean(3, over: noiseImages), noiseImages: noiseImages, colouringsPerImage: perImage,
                                  l1: mean(1, over: count), l2: mean(2, over: count))
        return scores
    }

    /// The most images painted a real tint (red or green, not the yellow between), then the most
    /// whose noise gives both.
    public func ranking(of scores: MeasuredScores, step: Int) -> BestCheckpoint {
        let colorization = scores.colorization!
        let real = 100 * (colorization.red + colorization.green)
        return BestCheckpoint(step: step, metric: "red or green %", value: real, ranking: [real, colorization.bothTints])
    }
}
