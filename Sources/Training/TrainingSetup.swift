import Checkpoints
import Datasets
import Distributed
import Models

/// The networks, optimizers and noise of one run, built identically on every rank.
struct Setup {
    let configuration: TrainingConfiguration
    let world: Communicator
    /// Generator first; each network under its checkpoint group name.
    let players: [Player]
    let algorithm: TrainingAlgorithm
    let parallel: DataParallel
    /// Which rows of each global batch (data and noise) this rank takes.
    let split: BatchSplit
    /// The generator's input for the sample grid: 64 noise vectors, 2,500 for the 2-D presets, or
    /// for completion28 the top halves of the first 8 training images with 8 noise vectors each.
    let gridLatent: Tensor
    /// The true outputs of the grid's inputs, for pix2pix.
    let gridTargets: Tensor?
    /// The generator's moving average, when `--ema-decay` is above 0.
    let average: GeneratorAverage?

    init(configuration: TrainingConfiguration, world: Communicator, split: BatchSplit, dataset: Dataset) throws {
        self.configuration = configuration
        self.world = world
        self.split = split
        let preset = configuration.definition
        var random = RandomStream(seed: configuration.seed, purpose: .initialization)
        let player = Player.make(configuration)
        let generator = player("generator", preset.makeGenerator(random: &random), configuration.generatorLearningRate)
        parallel = try DataParallel(world: world, bucketMegabytes: configuration.bucketMegabytes ?? DataParallel.defaultBucketMegabytes,
                                    exact: configuration.isExact)
        let shards = configuration.isExact ? configuration.exactShards! / world.size : 1
        let context = PhaseContext(reduction: parallel, lossScale: split.lossScale(of: world.rank), shards: shards)
        (players, algorithm) = preset.makeTraining(configuration, generator: generator, random: &random, player: player, context: context)
        parallel.register(players.map { ($0.name, $0.network) })
        // Built from its own copy of the initialization stream, so the networks' draws stay as they were.
        var averageRandom = RandomStream(seed: configuration.seed, purpose: .initialization)
        average = (configuration.emaDecay ?? 0) > 0
            ? GeneratorAverage(of: players[0].network, in: preset.makeGenerator(random: &averageRandom), decay: configuration.emaDecay!) : nil

        var gridNoise = RandomStream(seed: configuration.seed, purpose: .grid)
        (gridLatent, gridTargets) = try preset.gridInput(random: &gridNoise, dataset: dataset)
    }

    var generator: Layer { players[0].network }

    /// This rank's share of a step's noise: sample i of the global batch comes from the stream
    /// (seed, purpose, step, substep, i), whichever rank draws it. Rows of the latent size, or
    /// of DiffAugment's draws for its purposes.
    func latent(_ purpose: RandomPurpose, step: Int, substep: Int) -> Tensor {
        let augmenting: Set<RandomPurpose> = [.augmentReal, .augmentFake, .augmentGenerator]
        return RandomStream.normalRows(seed: configuration.seed, purpose: purpose,
                                       keys: split.rows(of: world.rank).map { [UInt64(step), UInt64(substep), UInt64($0)] },
                                       width: augmenting.contains(purpose) ? DiffAugment.drawsPerSample : configuration.preset.latentSize)
    }

    /// The generator's samples of the fixed grid input, in evaluation mode, as a picture: of its
    /// moving average when there is one.
    func sampleGrid() -> Picture {
        let definition = configuration.definition
        return definition.picture(of: configuration.preset.samples(of: average?.network ?? generator, input: gridLatent), input: gridLatent,
                                  targets: gridTargets, columns: definition.pictureColumns)
    }
}
