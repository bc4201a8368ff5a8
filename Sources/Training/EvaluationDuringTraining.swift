import Checkpoints
import Distributed
import Metrics
import Models

/// An evaluation during training (`--eval-every`): what the trainer hands over and gets back.
public enum EvaluationDuringTraining {
    /// What one evaluation found.
    public struct Scores {
        /// Each figure's name in TensorBoard and metrics.jsonl ("eval/FID") and its value.
        public let scalars: [(tag: String, value: Double)]
        /// The figure that names the best checkpoint and what orders evaluations.
        public let best: BestCheckpoint
        public init(scalars: [(tag: String, value: Double)], best: BestCheckpoint) {
            (self.scalars, self.best) = (scalars, best)
        }
    }
}

/// Measures a live generator during training; every rank calls each method with the same arguments.
/// The launcher gives the trainer one (the Evaluation module's), which also writes the results.
public protocol TrainingEvaluator {
    /// Loads what the measurements need (the evaluator network, reference features), so that a
    /// missing file stops the run before it trains rather than at its first evaluation.
    func prepare(for configuration: TrainingConfiguration, world: Communicator) throws
    /// Measures `subject` and, on rank 0, appends the full result to the run's evaluations.jsonl.
    func evaluate(_ subject: EvaluationSubject, world: Communicator) throws -> EvaluationDuringTraining.Scores
}

extension EvaluationSubject {
    /// A subject of `configuration`'s preset: its samples made as the preset makes them.
    init(configuration: TrainingConfiguration, step: Int, generator: Layer, trainedGenerator: Layer, encoder: Layer?,
         samples: Int, label: String) {
        let preset = configuration.preset
        self.init(configuration: configuration, step: step, generator: generator, trainedGenerator: trainedGenerator, encoder: encoder,
                  samples: samples, label: label, latentSize: preset.latentSize, sampleShape: configuration.sampleShape,
                  makeSamples: { preset.samples(of: generator, input: $0) })
    }
}

extension Setup {
    /// The live networks to measure after `step`, switched to evaluation mode; `restore` puts
    /// them back in training mode.
    func evaluationSubject(step: Int, samples: Int, runDirectory: String) -> EvaluationSubject {
        let encoderName = configuration.preset.definition.encoderName
        let subject = EvaluationSubject(configuration: configuration, step: step, generator: average?.network ?? generator,
                                        trainedGenerator: generator, encoder: players.first { $0.name == encoderName }?.network,
                                        samples: samples, label: runDirectory)
        for network in subject.networks { network.setTraining(false) }
        return subject
    }

    func restoreTraining(after subject: EvaluationSubject) {
        for network in subject.networks { network.setTraining(true) }
    }

    /// Samples each evaluation during training draws.
    var evaluationSamples: Int {
        configuration.evalSamples ?? configuration.measurement.defaultSamples.duringTraining
    }
}
