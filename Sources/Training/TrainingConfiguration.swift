import Datasets
import Foundation
import Models
import Yams

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

    /// Fashion-MNIST's test images, against which completions and reconstructions are measured.
    public static let fashionMNISTTest = FashionMNIST.testImages

    /// The preset's defaults; `now` names the default run directory.
    public static func defaults(for preset: Preset, now: Date = Date()) -> TrainingConfiguration {
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        let runDirectory = "checkpoints/\(preset.rawValue)-\(formatter.string(from: now))"
        let images = TrainingConfiguration(
            preset: preset, data: FashionMNIST.trainingImages, steps: 3000, batchSize: 64, objective: .nonSaturating, discriminatorSteps: 1,
            generatorLearningRate: 2e-4, discriminatorLearningRate: 2e-4, beta1: 0.5, beta2: 0.999, seed: 1,
            runDirectory: runDirectory, checkpointEvery: 500, keep: 3, sampleEvery: 500, stallTimeout: 300, pack: 1,
            learningRateDecay: LearningRateDecay.none)
        return preset.definition.defaults(images: images)
    }

    /// Checks every value on its own; the world size is checked by the trainer.
    public func validate() throws {
        func require(_ condition: Bool, _ message: String) throws {
            if !condition { throw ConfigurationError(message) }
        }
        for option in TrainingOption.all {
            if let message = option.check(self) { throw ConfigurationError(message) }
        }
        let options = preset.definition.options
        /// The presets that take `option`, for the messages.
        func taking(_ option: PresetOption) -> String {
            let names = Preset.allCases.filter { $0.definition.options.contains(option) }.map(\.rawValue)
            return names.count <= 2 ? names.joined(separator: " and ") : names.dropLast().joined(separator: ", ") + " and " + names.last!
        }
        try require(loss == nil || options.contains(.loss), "--loss is for \(taking(.loss)) only; \(preset.rawValue) trains with --objective")
        try require(!options.contains(.loss) || loss != nil, "\(preset.rawValue) needs --loss: l2, l1, adversarial or l1+adversarial")
        try require(reconstructionWeight == nil || options.contains(.reconstructionWeight),
                    "--recon-weight is for \(taking(.reconstructionWeight)), not \(preset.rawValue)")
        try require((r1 ?? 0) == 0 || options.contains(.r1),
                    "--r1 is for \(taking(.r1)), whose discriminator is piecewise linear; \(preset.rawValue)'s is not")
        if !options.contains(.packingAndDiscriminatorSteps) {
            try require(discriminatorSteps == 1, "--d-steps \(discriminatorSteps): \(preset.rawValue) updates each network once per step; use 1")
            try require(packSize == 1, "--pack \(packSize): packing is for \(taking(.packingAndDiscriminatorSteps))")
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

