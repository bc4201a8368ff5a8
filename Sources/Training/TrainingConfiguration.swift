import Foundation
import Models
import Yams

/// Everything that defines a training run, resolved from the preset's defaults, a YAML file and
/// flags, in that order. Stored as JSON in every checkpoint and reused on resume.
/// The coding keys are the flag names, so a YAML file uses the same words as the command line.
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
    /// completion28's loss; nil for the other presets.
    public var loss: CompletionLoss?
    /// The weight of the L1 term: λ of alphagan28, and of completion28's `l1+adversarial`; nil for the other presets.
    public var reconstructionWeight: Float?
    /// γ of the R1 penalty on D's gradient at real data (grid2d, ring2d); nil (in checkpoints from before it) means 0.
    public var r1: Float?

    /// The pack size, 1 when unset.
    public var packSize: Int { pack ?? 1 }

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
        case loss, reconstructionWeight = "recon-weight", r1
    }

    /// Options a resumed run may change; every other one must match the checkpoint.
    static let changeableOnResume: Set<String> = ["steps", "run-dir", "checkpoint-every", "keep", "sample-every", "stall-timeout"]

    /// Fashion-MNIST's training images as Debian's `dataset-fashion-mnist` installs them.
    public static let fashionMNIST = "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"
    /// Fashion-MNIST's test images, against which completions and reconstructions are measured.
    public static let fashionMNISTTest = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"

    /// The preset's defaults; `now` names the default run directory.
    public static func defaults(for preset: Preset, now: Date = Date()) -> TrainingConfiguration {
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        let runDirectory = "checkpoints/\(preset.rawValue)-\(formatter.string(from: now))"
        let images = TrainingConfiguration(
            preset: preset, data: fashionMNIST, steps: 3000, batchSize: 64, objective: .nonSaturating, discriminatorSteps: 1,
            generatorLearningRate: 2e-4, discriminatorLearningRate: 2e-4, beta1: 0.5, beta2: 0.999, seed: 1,
            runDirectory: runDirectory, checkpointEvery: 500, keep: 3, sampleEvery: 500, stallTimeout: 300, pack: 1,
            learningRateDecay: LearningRateDecay.none)
        switch preset {
        case .dcgan28:
            return images
        case .alphagan28:
            var configuration = images
            configuration.reconstructionWeight = alphaGANReconstructionWeight
            return configuration
        case .completion28:
            var configuration = images
            (configuration.loss, configuration.reconstructionWeight) = (.l1Adversarial, 100)
            return configuration
        case .grid2d, .ring2d:
            // PacGAN's batch, trained faster than PacGAN's lr 1e-4 and beta1 0.8 (which reach 47% high
            // quality in this budget; docs/evaluation.md): D five times as fast as G, and both rates
            // falling to 0 so the samples settle onto the modes by the last step. R1 keeps D smooth
            // around the real data, so its gradient still points at modes G has not reached.
            return TrainingConfiguration(
                preset: preset, data: nil, steps: 16_000, batchSize: 100, objective: .nonSaturating, discriminatorSteps: 1,
                generatorLearningRate: 2e-4, discriminatorLearningRate: 1e-3, beta1: 0.5, beta2: 0.999, seed: 1,
                runDirectory: runDirectory, checkpointEvery: 1000, keep: 3, sampleEvery: 1000, stallTimeout: 300, pack: 1,
                learningRateDecay: .linear, r1: 1)
        }
    }

    /// alphagan28's λ: Algorithm 1 of Rosca et al. writes the term λ‖x − G(E(x))‖₁, a sum over the
    /// image's pixels; LearnedLoss's L1 is the per-pixel mean, so λ = 1 in the paper's form is 784 here.
    public static let alphaGANReconstructionWeight: Float = 784

    /// Checks every value on its own; the world size is checked by the trainer.
    public func validate() throws {
        func require(_ condition: Bool, _ message: String) throws {
            if !condition { throw ConfigurationError(message) }
        }
        try require(steps >= 1, "--steps must be at least 1, got \(steps)")
        try require(batchSize >= 1, "--batch-size must be at least 1, got \(batchSize)")
        try require(discriminatorSteps >= 1, "--d-steps must be at least 1, got \(discriminatorSteps)")
        for (flag, rate) in [("--lr-g", generatorLearningRate), ("--lr-d", discriminatorLearningRate)] {
            try require(rate > 0 && rate.isFinite, "\(flag) must be a positive number, got \(rate)")
        }
        for (flag, beta) in [("--beta1", beta1), ("--beta2", beta2)] {
            try require((0..<1).contains(beta), "\(flag) must be in [0, 1), got \(beta)")
        }
        try require(checkpointEvery >= 1, "--checkpoint-every must be at least 1, got \(checkpointEvery)")
        try require(keep >= 1, "--keep must be at least 1, got \(keep)")
        try require(sampleEvery >= 1, "--sample-every must be at least 1, got \(sampleEvery)")
        try require(stallTimeout > 0, "--stall-timeout must be positive, got \(stallTimeout)")
        try require(packSize >= 1, "--pack must be at least 1, got \(packSize)")
        try require(loss == nil || preset == .completion28, "--loss is for completion28 only; \(preset.rawValue) trains with --objective")
        try require(preset != .completion28 || loss != nil, "completion28 needs --loss: l2, l1, adversarial or l1+adversarial")
        let weighted: Set<Preset> = [.alphagan28, .completion28]
        try require(reconstructionWeight == nil || weighted.contains(preset), "--recon-weight is for alphagan28 and completion28, not \(preset.rawValue)")
        if let r1 {
            try require(r1 >= 0 && r1.isFinite, "--r1 must be a number at least 0, got \(r1)")
            try require(r1 == 0 || [.grid2d, .ring2d].contains(preset),
                        "--r1 is for grid2d and ring2d, whose discriminator is piecewise linear; \(preset.rawValue)'s is not")
        }
        if let reconstructionWeight {
            try require(reconstructionWeight >= 0 && reconstructionWeight.isFinite, "--recon-weight must be a number at least 0, got \(reconstructionWeight)")
        }
        if weighted.contains(preset) {
            try require(discriminatorSteps == 1, "--d-steps \(discriminatorSteps): \(preset.rawValue) updates each network once per step; use 1")
            try require(packSize == 1, "--pack \(packSize): packing is for dcgan28, grid2d and ring2d")
        }
        try require(preset.takesImages == (data != nil),
                    preset.takesImages ? "--data is required for \(preset.rawValue)" : "--data is not used by \(preset.rawValue): its data is generated from --seed")
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

