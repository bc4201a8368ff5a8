import Checkpoints
import Distributed
import Models

/// An evaluation during training (`--eval-every`): what the trainer hands over and gets back.
/// The metrics live in the Evaluation module, which builds on this one, so the launcher gives the
/// trainer a `TrainingEvaluator`.
public enum EvaluationDuringTraining {
    /// Image presets: enough for FID to rank checkpoints of one run (its bias at 2,000 samples is
    /// a few points, nearly the same at every step), at a fifth of evaluate's cost.
    public static let defaultImageSamples = 2000
    /// The 2-D presets: the PacGAN protocol's own count, which is cheap.
    public static let defaultPointSamples = 2500

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

/// A generator to measure, with what else its measurements need, the same on every rank: a
/// checkpoint's networks for `launcher evaluate`, the live ones during training.
public struct EvaluationSubject {
    public let configuration: TrainingConfiguration
    public let step: Int
    /// The generator that samples, in evaluation mode: the moving average when there is one and it is wanted.
    public let generator: Layer
    /// The trained generator and, for alphagan28, the encoder: reconstructions are G(E(x)).
    public let trainedGenerator: Layer
    public let encoder: Layer?
    /// Samples to draw (test images to complete or colour, for the conditional presets).
    public let samples: Int
    /// The checkpoint measured, or the run directory during training; evaluations.jsonl goes beside it or into it.
    public let label: String

    public init(configuration: TrainingConfiguration, step: Int, generator: Layer, trainedGenerator: Layer, encoder: Layer?,
                samples: Int, label: String) {
        (self.configuration, self.step, self.generator, self.trainedGenerator) = (configuration, step, generator, trainedGenerator)
        (self.encoder, self.samples, self.label) = (encoder, samples, label)
    }

    public var movingAverage: Bool { generator !== trainedGenerator }
    var networks: [Layer] { [generator, trainedGenerator] + (encoder.map { [$0] } ?? []) }
}

/// Measures a live generator during training; every rank calls each method with the same arguments.
public protocol TrainingEvaluator {
    /// Loads what the measurements need (the evaluator network, reference features), so that a
    /// missing file stops the run before it trains rather than at its first evaluation.
    func prepare(for configuration: TrainingConfiguration, world: Communicator) throws
    /// Measures `subject` and, on rank 0, appends the full result to the run's evaluations.jsonl.
    func evaluate(_ subject: EvaluationSubject, world: Communicator) throws -> EvaluationDuringTraining.Scores
}

extension Setup {
    /// The live networks to measure after `step`, switched to evaluation mode; `restore` puts
    /// them back in training mode.
    func evaluationSubject(step: Int, samples: Int, runDirectory: String) -> EvaluationSubject {
        let subject = EvaluationSubject(configuration: configuration, step: step, generator: average?.network ?? generator,
                                        trainedGenerator: generator, encoder: players.first { $0.name == "encoder" }?.network,
                                        samples: samples, label: runDirectory)
        for network in subject.networks { network.setTraining(false) }
        return subject
    }

    func restoreTraining(after subject: EvaluationSubject) {
        for network in subject.networks { network.setTraining(true) }
    }

    /// Samples each evaluation during training draws.
    var evaluationSamples: Int {
        configuration.evalSamples ?? (configuration.preset.mixture == nil ? EvaluationDuringTraining.defaultImageSamples
                                      : EvaluationDuringTraining.defaultPointSamples)
    }
}
