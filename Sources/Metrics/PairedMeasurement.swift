import Checkpoints
import Datasets
import Models

/// An image-to-image preset's measurement (pix2pix): its outputs for the pairs held out of
/// training (`PairSource.heldOut`), output i from noise stream (seed, "evaluate", i), against
/// their targets (`PairedScores`).
public struct PairedMeasurement: Measurement {
    /// The run's `--data` (nil in a configuration without one, which cannot be measured), how its
    /// pairs are made, and the inputs' channels.
    public let data: String?
    public let pairs: PairSource
    public let inputChannels: Int
    /// `[C, H, W]` of the targets, which an evaluator network must classify for FID.
    public let targetShape: [Int]
    /// Inputs measured for diversity, each with two more noise draws.
    static let diversityInputs = 100

    public init(data: String?, pairs: PairSource, inputChannels: Int, targetShape: [Int]) {
        (self.data, self.pairs, self.inputChannels, self.targetShape) = (data, pairs, inputChannels, targetShape)
    }

    /// At most the 1,000 held-out pairs.
    public var defaultSamples: (evaluate: Int, duringTraining: Int) { (1000, 200) }
    public var minimumSamples: (count: Int, figures: String) { (10, "the paired figures need") }
    /// FID in an evaluator's features when `--evaluator` names one; the other figures need none.
    public var usesEvaluator: Bool { true }

    public func prepare(_ context: MeasurementContext) throws {
        _ = try heldOut(context)
        if context.evaluator != nil { _ = try context.loadEvaluator(for: targetShape) }
    }

    public func measure(_ subject: EvaluationSubject, seed: UInt64, context: MeasurementContext) throws -> MeasuredScores {
        let (dataset, rows) = try heldOut(context)
        let count = min(subject.samples, rows.count), diversityInputs = min(Self.diversityInputs, count)
        let evaluator = try context.evaluator.map { _ in try context.loadEvaluator(for: targetShape) }
        let featureWidth = evaluator == nil ? 0 : Classifier.featureSize
        func noise(_ purpose: RandomPurpose, _ keys: [Int]) -> Tensor {
            RandomStream.normalRows(seed: seed, purpose: purpose, keys: keys.map { [UInt64($0)] }, width: subject.latentSize)
        }
        // Each row: L1, L2, the output's and the target's colourfulness and sharpness, the L1
        // between two more noise draws (0 beyond diversityInputs), then the output's and the
        // target's features when there is an evaluator.
        let width = 7 + 2 * featureWidth
        let table = try context.gatherRows(count: count, width: width) { range in
            let (input, target) = pairs.split(try dataset.batch(range.map { rows[$0] }), inputChannels: inputChannels)
            let outputs = subject.makeSamples(ConditionalGenerator.input(condition: input, noise: noise(.evaluate, Array(range))))
            let varied = range.lowerBound..<max(range.lowerBound, min(range.upperBound, diversityInputs))
            let variants = varied.isEmpty ? nil : subject.makeSamples(ConditionalGenerator.input(
                condition: input.rows(varied.flatMap { [$0 - range.lowerBound, $0 - range.lowerBound] }),
                noise: noise(.diversity, varied.flatMap { [2 * $0, 2 * $0 + 1] })))
            let features = evaluator.map { evaluator in
                (Classifier.embed(outputs, with: evaluator.network).features, Classifier.embed(target, with: evaluator.network).features)
            }
            var scalars: [Float] = []
            for row in 0..<range.count {
                let (output, truth) = (outputs.slice(row..<row + 1, axis: 0), target.slice(row..<row + 1, axis: 0))
                let difference = output - truth
                let imageShape = Array(truth.shape.dropFirst())
                let colour = targetShape[0] == 3
                    ? [PairedMetrics.colourfulness(output), PairedMetrics.colourfulness(truth)] : [0, 0]
                var spread: Float = 0
                if let variants, range.lowerBound + row < varied.upperBound {
                    spread = (variants.slice(2 * row..<2 * row + 1, axis: 0) - variants.slice(2 * row + 1..<2 * row + 2, axis: 0)).map { abs($0) }.mean()
                }
                scalars += [difference.map { abs($0) }.mean(), (difference * difference).mean()] + colour.map { Float($0) }
                    + [Float(PairedMetrics.sharpness(output.reshaped(imageShape))), Float(PairedMetrics.sharpness(truth.reshaped(imageShape))), spread]
                if let features {
                    scalars += features.0.slice(row..<row + 1, axis: 0).scalars + features.1.slice(row..<row + 1, axis: 0).scalars
                }
            }
            return Tensor(shape: [range.count, width], scalars: scalars)
        }
        return try context.world.agree {
            func mean(_ column: Int, over n: Int = count) -> Double { (0..<n).reduce(0.0) { $0 + Double(table.scalars[$1 * width + column]) } / Double(max(n, 1)) }
            var distance: Double?
            if featureWidth > 0 {
                let features = (0..<count).map { table.slice($0..<$0 + 1, axis: 0).scalars[7...] }
                let outputs = Tensor(shape: [count, featureWidth], scalars: features.flatMap { $0.prefix(featureWidth) })
                let targets = Tensor(shape: [count, featureWidth], scalars: features.flatMap { $0.suffix(featureWidth) })
                distance = try ImageMetrics.frechetDistance(ImageMetrics.Gaussian(features: outputs), ImageMetrics.Gaussian(features: targets))
            }
            var scores = MeasuredScores()
            scores.paired = PairedScores(samples: count, l1: mean(0), l2: mean(1), colourfulness: targetShape[0] == 3 ? mean(2) / mean(3) : nil,
                                         sharpness: mean(4) / mean(5), diversity: mean(6, over: diversityInputs), diversityInputs: diversityInputs,
                                         frechetDistance: distance)
            return scores
        }
    }

    /// The data and the rows of it held out of training, on every rank.
    func heldOut(_ context: MeasurementContext) throws -> (Dataset, [Int]) {
        try context.world.agree {
            guard let data else { throw ConfigurationError("pix2pix is measured on the pairs held out of its --data, which this run does not name") }
            let dataset = try pairs.load(data)
            return (dataset, Array(PairSource.heldOut(count: dataset.count)))
        }
    }

    /// Lowest FID when there is an evaluator; lowest L1 otherwise, which favours the average of
    /// the plausible outputs (`--evaluator` ranks by FID).
    public func ranking(of scores: MeasuredScores, step: Int) -> BestCheckpoint {
        let paired = scores.paired!
        if let fid = paired.frechetDistance { return BestCheckpoint(step: step, metric: "FID", value: fid, ranking: [-fid]) }
        return BestCheckpoint(step: step, metric: "L1", value: paired.l1, ranking: [-paired.l1])
    }
}
