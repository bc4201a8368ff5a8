import Checkpoints
import Models

/// The image presets' measurement: FID, KID, precision and recall of their samples in the
/// evaluator's features; with `reconstructions`, how well G(E(x)) gives back the test images.
public struct ImageMeasurement: Measurement {
    /// `[C, H, W]` of the images measured, which the evaluator network must classify.
    public let sampleShape: [Int]
    public let reconstructions: Bool
    public init(sampleShape: [Int], reconstructions: Bool = false) {
        (self.sampleShape, self.reconstructions) = (sampleShape, reconstructions)
    }

    /// During training, enough for FID to rank checkpoints of one run (its bias at 2,000 samples
    /// is a few points, nearly the same at every step), at a fifth of evaluate's cost.
    public var defaultSamples: (evaluate: Int, duringTraining: Int) { (10_000, 2000) }
    /// Enough for KID's subsets and precision and recall's neighbourhoods to mean anything.
    public var usesEvaluator: Bool { true }
    public var minimumSamples: (count: Int, figures: String) { (200, "KID, precision and recall need") }

    /// Loads the evaluator and computes (and caches) the reference features now.
    public func prepare(_ context: MeasurementContext) throws {
        _ = try context.referenceFeatures(try context.loadEvaluator(for: sampleShape))
    }

    public func measure(_ subject: EvaluationSubject, seed: UInt64, context: MeasurementContext) throws -> MeasuredScores {
        let evaluator = try context.loadEvaluator(for: sampleShape)
        let reference = try context.referenceFeatures(evaluator)
        var scores = MeasuredScores()
        scores.images = try self.scores(ofImages: { subject.generated(rows: $0, seed: seed) }, count: subject.samples,
                                        sampleShape: subject.sampleShape, evaluator: evaluator, reference: reference, context: context)
        if reconstructions {
            scores.reconstruction = try measureReconstructions(count: subject.samples, evaluator: evaluator, reference: reference,
                                                               of: subject, context: context)
        }
        return scores
    }

    /// The scores of images `0..<count` that `images` gives in chunks, against the reference
    /// images' features `reference` in `evaluator`'s space.
    public func scores(ofImages images: (Range<Int>) throws -> Tensor, count: Int, sampleShape: [Int],
                       evaluator: EvaluatorNetwork, reference: Tensor, context: MeasurementContext) throws -> ImageScores {
        let embedded = try context.embedded(count: count, sampleShape: sampleShape, evaluator: evaluator, source: images)
        return try context.world.agree { try ImageScores(embedded: embedded, reference: reference) }
    }

    /// G(E(x)) of the first `count` test images (at most all of them), their mean L1 to the images
    /// and the FID of the reconstructions against the reference.
    private func measureReconstructions(count requested: Int, evaluator: EvaluatorNetwork, reference: Tensor,
                                        of subject: EvaluationSubject, context: MeasurementContext) throws -> ReconstructionScores {
        guard let encoder = subject.encoder else { preconditionFailure("a preset that measures reconstructions has an encoder") }
        let generator = subject.trainedGenerator
        let test = try context.world.agree { try TestImages.fashionMNIST(for: "reconstructions") }
        let count = min(requested, test.count)
        // Each row: the reconstruction's features, then its mean absolute difference to the image.
        let rows = try context.gatherRows(count: count, width: Classifier.featureSize + 1) { range in
            let images = try test.batch(range)
            let reconstructions = TestImages.reconstruct(images, encoder: encoder, generator: generator)
            let features = Classifier.embed(reconstructions, with: evaluator.network).features
            let size = images.count / range.count
            let l1 = (0..<range.count).map { row in
                (row * size..<(row + 1) * size).reduce(Float(0)) { $0 + abs(images.scalars[$1] - reconstructions.scalars[$1]) } / Float(size)
            }
            return Tensor.concatenate([features, Tensor(shape: [range.count, 1], scalars: l1)], axis: 1)
        }
        return try context.world.agree {
            let features = rows.slice(0..<Classifier.featureSize, axis: 1)
            let l1 = rows.slice(Classifier.featureSize..<Classifier.featureSize + 1, axis: 1).scalars.reduce(0.0) { $0 + Double($1) } / Double(count)
            let distance = try ImageMetrics.frechetDistance(ImageMetrics.Gaussian(features: features), ImageMetrics.Gaussian(features: reference))
            return ReconstructionScores(samples: count, l1: l1, frechetDistance: distance)
        }
    }

    /// Lowest FID.
    public func ranking(of scores: MeasuredScores, step: Int) -> BestCheckpoint {
        let fid = scores.images!.frechetDistance
        return BestCheckpoint(step: step, metric: "FID", value: fid, ranking: [-fid])
    }
}
