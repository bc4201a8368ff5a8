import Checkpoints
import Distributed
import Foundation
import Training

/// `--eval-every`: the same measurements as `launcher evaluate`, of the live networks, with the
/// evaluator network and reference given to `launcher evaluate`'s defaults.
public struct TrainingEvaluation: TrainingEvaluator {
    public init() {}

    public func prepare(for configuration: TrainingConfiguration, world: Communicator) throws {
        // Every rank checks, and a failure is one message for all of them.
        try world.agree {
            let samples = configuration.evalSamples
            switch configuration.preset.measurement {
            case .modeCoverage:
                if let samples, samples < Evaluation.minimumPointSamples {
                    throw ConfigurationError("--eval-samples \(samples): mode coverage needs at least \(Evaluation.minimumPointSamples) samples")
                }
            case .images:
                if let samples, samples < Evaluation.minimumImageSamples {
                    throw ConfigurationError("--eval-samples \(samples): KID, precision and recall need at least \(Evaluation.minimumImageSamples) samples")
                }
                // Also computes and caches the reference features now rather than at the first evaluation.
                _ = try ImageScores.referenceFeatures(nil, evaluator: try ImageScores.loadEvaluator(nil))
            case .completions:
                _ = try CheckpointNetworks.testImages(for: "completions")
                _ = try ImageScores.referenceFeatures(nil, evaluator: try ImageScores.loadEvaluator(nil))
            case .colorizations:
                _ = try CheckpointNetworks.testImages(for: "colourings")
            }
        }
    }

    public func evaluate(_ subject: EvaluationSubject, world: Communicator) throws -> EvaluationDuringTraining.Scores {
        let evaluation = Evaluation(world: world, request: Evaluation.Request(checkpoint: subject.label))
        let result = try evaluation.measure(subject, seed: subject.configuration.seed, measured: "training")
        _ = try world.onRoot {
            try Evaluation.append(result, to: RunDirectory(subject.label).evaluationsPath)
            return ""
        }
        return EvaluationDuringTraining.Scores(scalars: result.scalars, best: result.ranking)
    }
}

extension Evaluation.Result {
    /// The figures logged during training, under their TensorBoard tags; the best checkpoint's
    /// metric is one of them.
    var scalars: [(tag: String, value: Double)] {
        var scalars: [(tag: String, value: Double)] = []
        if let coverage = modeCoverage {
            scalars += [("eval/modes covered", Double(coverage.modesCovered)), ("eval/high quality %", coverage.highQualityPercent)]
            if let kl = coverage.reverseKL { scalars.append(("eval/reverse KL", kl)) }
        }
        if let images {
            scalars += [("eval/FID", images.frechetDistance), ("eval/KID", images.kernelDistance), ("eval/precision", images.precision),
                        ("eval/recall", images.recall), ("eval/classifier score", images.classifierScore)]
        }
        if let reconstruction {
            scalars += [("eval/reconstruction L1", reconstruction.l1), ("eval/reconstruction FID", reconstruction.frechetDistance)]
        }
        if let completion {
            scalars += [("eval/FID", completion.frechetDistance), ("eval/diversity", completion.diversity),
                        ("eval/sharpness", completion.sharpness), ("eval/L1", completion.l1)]
        }
        if let colorization {
            scalars += [("eval/red or green %", 100 * (colorization.red + colorization.green)), ("eval/red %", 100 * colorization.red),
                        ("eval/green %", 100 * colorization.green), ("eval/yellow %", 100 * colorization.yellow),
                        ("eval/both tints %", 100 * colorization.bothTints), ("eval/L1", colorization.l1)]
        }
        return scalars
    }

    /// The headline figure and the order of evaluations, better first: lowest FID for images and
    /// completions; most modes, then most high-quality samples, for the 2-D presets; for
    /// colorize28, the most images painted a real tint (red or green, not the yellow between),
    /// then the most whose noise gives both.
    var ranking: BestCheckpoint {
        if let coverage = modeCoverage {
            return BestCheckpoint(step: step, metric: "modes covered", value: Double(coverage.modesCovered),
                                  ranking: [Double(coverage.modesCovered), coverage.highQualityPercent])
        }
        if let colorization {
            let real = 100 * (colorization.red + colorization.green)
            return BestCheckpoint(step: step, metric: "red or green %", value: real, ranking: [real, colorization.bothTints])
        }
        let fid = images?.frechetDistance ?? completion?.frechetDistance ?? .infinity
        return BestCheckpoint(step: step, metric: "FID", value: fid, ranking: [-fid])
    }
}
