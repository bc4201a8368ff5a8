import Checkpoints
import Metrics
import Datasets
import Models

/// What each preset decides, from its definition in `Presets/`.
extension Preset {
    var definition: any PresetDefinition {
        switch self {
        case .dcgan28: DCGAN28Preset()
        case .grid2d: MixturePreset.grid
        case .ring2d: MixturePreset.ring
        case .alphagan28: AlphaGAN28Preset()
        case .completion28: Completion28Preset()
        case .colorize28: Colorize28Preset()
        case .dcgan: DCGANPreset()
        case .sngan: SNGANPreset()
        case .pix2pix: Pix2PixPreset()
        }
    }

    /// The size of the noise each sample is drawn from.
    public var latentSize: Int { definition.latentSize }

    /// The shape of one sample of the data (without the batch dimension).
    public var sampleShape: [Int] { definition.sampleShape }


    /// What `launcher evaluate` and `--eval-every` measure of its generator.
    package var measurement: any Measurement { definition.measurement }

    /// Whether an iteration updates G and one D (an `AdversarialStep`, or a `ConditionalStep`
    /// under an adversarial loss).
    package var trainsOneDiscriminator: Bool { definition is any OneDiscriminatorPreset || definition is any ConditionalPreset }

    /// Whether the preset trains on image files (rather than data generated from the seed).
    public var takesImages: Bool { definition.takesImages }

    /// The generator: noise `[N, latentSize]` → sample, or for completion28 top half and noise
    /// `[N, 392 + 32]` → bottom half `[N, 1, 14, 28]`.
    public func makeGenerator(random: inout RandomStream) -> Layer { definition.makeGenerator(random: &random) }

    /// The discriminator, judging `pack` samples at once (PacGAN): packed along channels for
    /// images, along features for points.
    public func makeDiscriminator(pack: Int = 1, random: inout RandomStream) -> Layer {
        definition.makeDiscriminator(pack: pack, random: &random)
    }

    /// Whole samples from generator inputs `input`, the generator in evaluation mode: points,
    /// images, or for completion28 each input's top over its generated bottom `[N, 1, 28, 28]`.
    public func samples(of generator: Layer, input: Tensor) -> Tensor {
        generator.setTraining(false)
        defer { generator.setTraining(true) }
        return input.mappingRows(inChunksOf: 256) { definition.samples(of: generator, input: $0) }
    }

    /// How the configuration's global batch splits over `ranks`: in whole packs, or in the
    /// mode-seeking term's pairs for the conditional presets.
    public func batchSplit(_ configuration: TrainingConfiguration, ranks: Int) throws -> BatchSplit {
        let unit = definition.rowsKeptTogether(configuration)
        if let shards = configuration.exactShards, shards > 0, shards % ranks != 0 {
            let sizes = (0...shards.trailingZeroBitCount).map { "\(1 << $0)" }
            let listed = sizes.count == 1 ? "1 rank" : sizes.dropLast().joined(separator: ", ") + " or \(sizes.last!) ranks"
            throw ConfigurationError("--exact \(shards) trains bit-identically on \(listed) (those that divide its shards), not on \(ranks)")
        }
        return try BatchSplit(batchSize: configuration.batchSize, ranks: ranks, pack: unit.rows, unit: unit.name)
    }
}

extension TrainingConfiguration {
    /// Its preset's definition for its shape (`--resolution`, `--channels`): what builds its
    /// networks and knows its samples' shape and measurement.
    var definition: any PresetDefinition { preset.definition.shaped(self) }

    /// What `launcher evaluate` and `--eval-every` measure of this run's generator.
    package var measurement: any Measurement { definition.measurement }
    /// The shape of one sample of this run's data.
    public var sampleShape: [Int] { definition.sampleShape }

    /// The generator and discriminator this run trains, for its shape.
    public func makeGenerator(random: inout RandomStream) -> Layer { definition.makeGenerator(random: &random) }
    public func makeDiscriminator(random: inout RandomStream) -> Layer { definition.makeDiscriminator(pack: packSize, random: &random) }

    /// This run's networks, generator first, and the step that trains them in one process, as a
    /// run builds them (`launcher bench` times it).
    public func makeTraining(random: inout RandomStream) -> (networks: [Layer], algorithm: TrainingAlgorithm) {
        let player = Player.make(self)
        let generator = player("generator", makeGenerator(random: &random), generatorLearningRate)
        let (players, algorithm) = definition.makeTraining(self, generator: generator, random: &random, player: player, context: .singleProcess)
        return (players.map(\.network), algorithm)
    }
}
