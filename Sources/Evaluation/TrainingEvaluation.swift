import Checkpoints
import Distributed
import Foundation
import Metrics
import Training

/// `--eval-every`: the same measurements as `launcher evaluate`, of the live networks, in the
/// features of the run's `--evaluator` (or the default one) against its reference.
public struct TrainingEvaluation: TrainingEvaluator {
    public init() {}

    public func prepare(for configuration: TrainingConfiguration, world: Communicator) throws {
        // Every rank checks, and a failure is one message for all of them.
        let measurement = configuration.measurement
        try world.agree { try measurement.check(samples: configuration.evalSamples, flag: "--eval-samples") }
        try measurement.prepare(MeasurementContext(world: world, evaluator: configuration.evaluator))
    }

    public func evaluate(_ subject: EvaluationSubject, world: Communicator) throws -> EvaluationDuringTraining.Scores {
        let evaluation = Evaluation(world: world, request: Evaluation.Request(checkpoint: subject.label))
        let result = try evaluation.measure(subject, seed: subject.configuration.seed, measured: "training")
        _ = try world.onRoot {
            try Evaluation.append(result, to: RunDirectory(subject.label).evaluationsPath)
            return ""
        }
        let scores = result.scores
        return EvaluationDuringTraining.Scores(scalars: scores.scalars,
                                               best: subject.configuration.measurement.ranking(of: scores, step: result.step))
    }
}
