import Checkpoints
import Datasets
import Models

/// completion28's measurement: it completes the top halves of test images (completion i from
/// noise stream (seed, "evaluate", i)) and measures the completions: FID, diversity, sharpness,
/// the evaluator's confidence, and the distance to the true bottoms.
public struct CompletionMeasurement: Measurement {
    public init() {}

    /// Top halves each completed per test image, for diversity.
    static let completionsPerTop = 8
    /// Test images whose tops are completed `completionsPerTop` times for the diversity figure.
    static let diversityTops = 1000

    /// At most the 10,000 test images.
    public var defaultSamples: (evaluate: Int, duringTraining: Int) { (10_000, 2000) }
    public var usesEvaluator: Bool { true }
    public var minimumSamples: (count: Int, figures: String) { (200, "FID and diversity need") }

    public func prepare(_ context: MeasurementContext) throws {
        _ = try context.world.agree { try TestImages.fashionMNIST(for: "completions") }
        _ = try context.referenceFeatures(try context.loadEvaluator(for: Classifier.fashionMNIST.sampleShape))
    }

    /// What each completion's row holds after its features, in this order.
    private enum Column: Int, CaseIterable {
        /// The evaluator's confidence in the completed image and in the real one.
        case confidence, realConfidence
        /// The completed bottom's mean absolute and squared difference to the real one.
        case l1, l2
        /// The gradient magnitudes of the completed and the real bottom.
        case sharpness, realSharpness
        /// The spread of the top's other completions (0 beyond the first `diversityTops`).
        case diversity
    }

    public func measure(_ subject: EvaluationSubject, seed: UInt64, context: MeasurementContext) throws -> MeasuredScores {
        let evaluator = try context.loadEvaluator(for: Classifier.fashionMNIST.sampleShape)
        let test = try context.world.agree { try TestImages.fashionMNIST(for: "completions") }
        let count = min(subject.samples, test.count)
        let diversityTops = min(Self.diversityTops, count)
        let features = Classifier.featureSize
        func noise(_ purpose: RandomPurpose, _ indices: [Int]) -> Tensor {
            RandomStream.normalRows(seed: seed, purpose: purpose, keys: indices.map { [UInt64($0)] }, width: Completion28.noiseSize)
        }
        // Each row: the completed image's features, then its `Column`s.
        let width = features + Column.allCases.count
        let rows = try context.gatherRows(count: count, width: width) { range in
            let images = try test.batch(range)
            let (top, bottom) = Completion28.halves(of: images)
            let generated = subject.makeSamples(Completion28.generatorInput(top: top, noise: noise(.evaluate, Array(range))))
            let completed = Completion28.halves(of: generated).bottom
            let (completedFeatures, completedProbabilities) = Classifier.embed(generated, with: evaluator.network)
            let realProbabilities = Classifier.embed(images, with: evaluator.network).probabilities
            // The diversity completions of this chunk's first tops in one batch: top t's k-th
            // completion is row t·K + k, from noise stream (seed, "diversity", index·K + k).
            let perTop = Self.completionsPerTop
            let diverse = range.lowerBound..<max(range.lowerBound, min(range.upperBound, diversityTops))
            let repeatedTops = Completion28.halves(of: try test.batch(diverse.flatMap { Array(repeating: $0, count: perTop) })).top
            let variants = diverse.isEmpty ? nil : Completion28.halves(of: subject.makeSamples(
                Completion28.generatorInput(top: repeatedTops, noise: noise(.diversity, diverse.flatMap { i in (0..<perTop).map { i * perTop + $0 } })))).bottom
            var scalars: [Float] = []
            for (row, index) in range.enumerated() {
                let one = row..<row + 1
                let (fake, real) = (completed.slice(one, axis: 0), bottom.slice(one, axis: 0))
                let difference = fake - real
                let diversity = index < diversityTops ? CompletionMetrics.diversity(variants!.slice(row * perTop..<(row + 1) * perTop, axis: 0)) : 0
                let measured: [Column: Float] = [
                    .confidence: Float(CompletionMetrics.confidence(completedProbabilities.slice(one, axis: 0))),
                    .realConfidence: Float(CompletionMetrics.confidence(realProbabilities.slice(one, axis: 0))),
                    .l1: difference.map { abs($0) }.mean(), .l2: (difference * difference).mean(),
                    .sharpness: Float(CompletionMetrics.gradientMagnitude(fake)), .realSharpness: Float(CompletionMetrics.gradientMagnitude(real)),
                    .diversity: Float(diversity),
                ]
                scalars += completedFeatures.slice(one, axis: 0).scalars + Column.allCases.map { measured[$0]! }
            }
            return Tensor(shape: [range.count, width], scalars: scalars)
        }
        let reference = try context.referenceFeatures(evaluator)
        var scores = MeasuredScores()
        scores.completion = try context.world.agree {
            func mean(_ column: Column, over n: Int = count) -> Double {
                (0..<n).reduce(0.0) { $0 + Double(rows.scalars[$1 * width + features + column.rawValue]) } / Double(n)
            }
            let distance = try ImageMetrics.frechetDistance(ImageMetrics.Gaussian(features: rows.slice(0..<features, axis: 1)),
                                                            ImageMetrics.Gaussian(features: reference))
            return CompletionScores(samples: count, diversity: mean(.diversity, over: diversityTops), diversityTops: diversityTops,
                                    completionsPerTop: Self.completionsPerTop, sharpness: mean(.sharpness) / max(mean(.realSharpness), 1e-12),
                                    frechetDistance: distance, confidence: mean(.confidence), realConfidence: mean(.realConfidence),
                                    l1: mean(.l1), l2: mean(.l2))
        }
        return scores
    }

    /// Lowest FID.
    public func ranking(of scores: MeasuredScores, step: Int) -> BestCheckpoint {
        let fid = scores.completion!.frechetDistance
        return BestCheckpoint(step: step, metric: "FID", value: fid, ranking: [-fid])
    }
}
