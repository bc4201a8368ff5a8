import Checkpoints
import Datasets

/// The 2-D presets' measurement: PacGAN's coverage of the modes of the mixture they train on.
public struct ModeCoverageMeasurement: Measurement {
    public let mixture: MixtureOfGaussians
    public init(_ mixture: MixtureOfGaussians) { self.mixture = mixture }

    /// The PacGAN protocol's own count, which is cheap enough for every evaluation.
    public var defaultSamples: (evaluate: Int, duringTraining: Int) { (2500, 2500) }
    /// A few samples per mode.
    public var minimumSamples: (count: Int, figures: String) { (100, "mode coverage needs") }

    public func prepare(_ context: MeasurementContext) throws {}

    public func measure(_ subject: EvaluationSubject, seed: UInt64, context: MeasurementContext) throws -> MeasuredScores {
        let points = try context.gather(count: subject.samples, sampleShape: subject.sampleShape, transform: { $0 }) {
            subject.generated(rows: $0, seed: seed)
        }
        var scores = MeasuredScores()
        scores.modeCoverage = mixture.coverage(of: points)
        return scores
    }

    /// Most modes, then most high-quality samples.
    public func ranking(of scores: MeasuredScores, step: Int) -> BestCheckpoint {
        let coverage = scores.modeCoverage!
        return BestCheckpoint(step: step, metric: "modes covered", value: Double(coverage.modesCovered),
                              ranking: [Double(coverage.modesCovered), coverage.highQualityPercent])
    }
}
