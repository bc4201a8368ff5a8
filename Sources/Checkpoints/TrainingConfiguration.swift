import Datasets
import Foundation
import Models

/// Everything that defines a training run, resolved from the preset's defaults, a YAML file and
/// flags, in that order. Stored as JSON in every checkpoint and reused on resume.
/// The coding keys are the options' keys (`TrainingOption.all`, checked by a test), so the
/// checkpoint's JSON uses the same words as the command line and YAML files.
public struct TrainingConfiguration: Codable, Equatable, Sendable {
    public var preset: Preset
    /// The image file for image presets; nil for the synthetic 2-D sets.
    public var data: String?
    /// The run ends when the generator has made this many updates.
    public var steps: Int
    /// The global batch, split over the ranks by `BatchSplit`.
    public var batchSize: Int
    public var objective: AdversarialObjective
    /// Discriminator updates per generator update.
    public var discriminatorSteps: Int
    public var generatorLearningRate: Float
    public var discriminatorLearningRate: Float
    public var beta1: Float
    public var beta2: Float
    public var seed: UInt64
    public var runDirectory: String
    public var checkpointEvery: Int
    public var keep: Int
    public var sampleEvery: Int
    /// Seconds a rank may wait for the others at a step before the job is declared stalled.
    public var stallTimeout: Double
    /// Samples the discriminator judges at once (PacGAN); nil in checkpoints from before packing, meaning 1.
    public var pack: Int?
    /// How the learning rates change over the run; nil in checkpoints from before schedules, meaning constant.
    public var learningRateDecay: LearningRateDecay?
    /// The conditional presets' loss (completion28, colorize28); nil for the other presets.
    public var loss: CompletionLoss?
    /// The weight of the L1 term: λ of alphagan28, and of completion28's `l1+adversarial`; nil for the other presets.
    public var reconstructionWeight: Float?
    /// γ of the R1 penalty on D's gradient at real data (grid2d, ring2d); nil (in checkpoints from before it) means 0.
    public var r1: Float?
    /// The weight of the mode-seeking term of the conditional presets' adversarial losses; nil (in
    /// checkpoints from before it, and for the other presets) means 0.
    public var modeSeeking: Float?
    /// The decay of the generator's moving average (`/generator_ema`); nil (in checkpoints from
    /// before it) or 0 means none.
    public var emaDecay: Float?
    /// Evaluate the generator every this many steps during training (nil or 0: never).
    public var evalEvery: Int?
    /// Samples (or test images) each evaluation during training measures; nil for the preset's default.
    public var evalSamples: Int?
    /// Whether rank 0 writes TensorBoard event files in the run directory; nil (in checkpoints
    /// from before them) means yes.
    public var tensorboard: Bool?
    /// MiB of gradients per all-reduce started during the backward pass; nil for the default, 0
    /// for one all-reduce per phase after it.
    public var bucketMegabytes: Float?
    /// Shards of the global batch for bit-identical training on any world size dividing them
    /// (`--exact`); nil or 0 for the default mode.
    public var exactShards: Int?
    /// Whether files of a `--data` folder that are not readable images are left out (named in
    /// the log) rather than stopping the run; nil means no.
    public var skipBadImages: Bool?
    /// Whether `--resume` goes on although the data set's fingerprint differs from the one the
    /// checkpoint recorded; nil means no.
    public var dataChangedOK: Bool?
    /// The side and channel count of the images a preset that takes its shape from the data
    /// (dcgan) builds its networks for: the data's, recorded at the first start.
    public var resolution: Int?
    public var channels: Int?
    /// DiffAugment's transforms of the images D judges (`--augment`); nil for none.
    public var augment: DiffAugment?
    /// Where an image-to-image preset's pairs come from (`--pairs`): files, or derived from plain images.
    public var pairs: PairSource?
    /// The channels of an image-to-image preset's inputs (its `channels` are the targets'): the
    /// data's, recorded at the first start.
    public var inputChannels: Int?
    /// The channels of the first level of pix2pix's networks (the reference's `--ngf`, `--ndf`);
    /// nil for its default, 64.
    public var width: Int?
    /// The evaluator network `--eval-every` and `launcher evaluate` measure in (`--evaluator`); nil
    /// for the Fashion-MNIST one.
    public var evaluator: String?

    public init(preset: Preset, data: String?, steps: Int, batchSize: Int, objective: AdversarialObjective, discriminatorSteps: Int,
                generatorLearningRate: Float, discriminatorLearningRate: Float, beta1: Float, beta2: Float, seed: UInt64,
                runDirectory: String, checkpointEvery: Int, keep: Int, sampleEvery: Int, stallTimeout: Double, pack: Int?,
                learningRateDecay: LearningRateDecay?, loss: CompletionLoss? = nil, reconstructionWeight: Float? = nil, r1: Float? = nil) {
        (self.preset, self.data, self.steps, self.batchSize, self.objective) = (preset, data, steps, batchSize, objective)
        (self.discriminatorSteps, self.generatorLearningRate, self.discriminatorLearningRate) = (discriminatorSteps, generatorLearningRate, discriminatorLearningRate)
        (self.beta1, self.beta2, self.seed, self.runDirectory) = (beta1, beta2, seed, runDirectory)
        (self.checkpointEvery, self.keep, self.sampleEvery, self.stallTimeout) = (checkpointEvery, keep, sampleEvery, stallTimeout)
        (self.pack, self.learningRateDecay, self.loss, self.reconstructionWeight, self.r1) = (pack, learningRateDecay, loss, reconstructionWeight, r1)
    }

    /// Whether `--exact` is on.
    public var isExact: Bool { (exactShards ?? 0) > 0 }

    /// The pack size, 1 when unset.
    public var packSize: Int { pack ?? 1 }

    /// Whether a sample grid or a checkpoint is written after `step` steps (1-based): every
    /// `--sample-every` or `--checkpoint-every` steps, and after the last.
    public func outputsDue(after step: Int) -> Bool {
        step == steps || step % sampleEvery == 0 || step % checkpointEvery == 0
    }

    /// The factor on both learning rates for the update that makes `step` (0-based) into `step + 1`.
    public func learningRateFactor(step: Int) -> Float {
        switch learningRateDecay ?? .none {
        case .none: 1
        // Ends at 1/steps rather than 0 so the last update still moves.
        case .linear: Float(steps - step) / Float(steps)
        }
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case preset, data, steps, objective, seed, keep
        case batchSize = "batch-size", discriminatorSteps = "d-steps"
        case generatorLearningRate = "lr-g", discriminatorLearningRate = "lr-d", beta1, beta2
        case runDirectory = "run-dir", checkpointEvery = "checkpoint-every", sampleEvery = "sample-every"
        case stallTimeout = "stall-timeout", pack, learningRateDecay = "lr-decay"
        case loss, reconstructionWeight = "recon-weight", r1, modeSeeking = "mode-seeking", emaDecay = "ema-decay"
        case evalEvery = "eval-every", evalSamples = "eval-samples", tensorboard, bucketMegabytes = "bucket-mb"
        case exactShards = "exact", skipBadImages = "skip-bad-images", resolution, channels, augment, evaluator
        case pairs, inputChannels = "input-channels", width, dataChangedOK = "data-changed-ok"
    }

    /// The configuration as JSON text with sorted keys (the checkpoint's `config` attribute).
    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    public static func fromJSON(_ text: String) throws -> TrainingConfiguration {
        try JSONDecoder().decode(TrainingConfiguration.self, from: Data(text.utf8))
    }
}

/// The learning-rate schedule over a run.
public enum LearningRateDecay: String, Codable, CaseIterable, Sendable {
    /// The rates stay as given.
    case none
    /// Both rates fall linearly from their given values towards 0 at `--steps`; a resumed run
    /// that raises `--steps` stretches the rest of the schedule.
    case linear
}

/// A configuration that cannot be used: the message names the flag or file and what was expected.
public struct ConfigurationError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

