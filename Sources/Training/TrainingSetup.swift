import Distributed
import Models

/// A preset's way of training its networks, one iteration at a time.
protocol TrainingAlgorithm: AnyObject {
    /// The data-parallel all-reduce of the gradients a phase computed (the identity in one process).
    var averageGradients: ([Parameter]) throws -> Void { get set }
    /// The factor on each loss before its backward, so uneven shares of the batch weigh rows equally.
    var lossScale: Float { get set }
    /// One iteration: `nextBatch` gives this rank's slice of the next global batch of real data,
    /// `noise(purpose, substep)` this rank's slice of the step's noise `[N, latentSize]`.
    func iterate(nextBatch: () -> Tensor, noise: (String, Int) -> Tensor) throws -> StepMetrics
}

extension AdversarialStep: TrainingAlgorithm {
    func iterate(nextBatch: () -> Tensor, noise: (String, Int) -> Tensor) throws -> StepMetrics {
        var metrics = StepMetrics(generatorLoss: 0)
        for substep in 0..<discriminatorSteps {
            metrics = try discriminatorPhase(real: nextBatch(), latent: noise("latent-d", substep))
        }
        metrics.generatorLoss = try generatorPhase(latent: noise("latent-g", 0))
        return metrics
    }
}

extension AlphaGANStep: TrainingAlgorithm {
    func iterate(nextBatch: () -> Tensor, noise: (String, Int) -> Tensor) throws -> StepMetrics {
        try run(real: nextBatch(), latent: noise("latent-g", 0))
    }
}

extension CompletionStep: TrainingAlgorithm {
    func iterate(nextBatch: () -> Tensor, noise: (String, Int) -> Tensor) throws -> StepMetrics {
        try run(real: nextBatch(), noise: noise("latent-g", 0))
    }
}

/// The networks, optimizers and noise of one run, built identically on every rank.
struct Setup {
    let configuration: TrainingConfiguration
    let world: Communicator
    /// Generator first; each network under its checkpoint group name.
    let players: [TrainingSnapshot.Player]
    let algorithm: TrainingAlgorithm
    let parallel: DataParallel
    /// Which rows of each global batch (data and noise) this rank takes.
    let split: BatchSplit
    /// The generator's input for the sample grid: 64 noise vectors, 2,500 for the 2-D presets, or
    /// for completion28 the top halves of the first 8 training images with 8 noise vectors each.
    let gridLatent: Tensor

    init(configuration: TrainingConfiguration, world: Communicator, split: BatchSplit, dataset: Dataset) {
        self.configuration = configuration
        self.world = world
        self.split = split
        let preset = configuration.preset
        var random = RandomStream(seed: configuration.seed, purpose: "init")
        // G and D come first so that a preset sharing dcgan28's networks starts from the same G and D.
        let generator = preset.makeGenerator(random: &random)
        func player(_ name: String, _ network: Layer, _ learningRate: Float) -> TrainingSnapshot.Player {
            TrainingSnapshot.Player(name: name, network: network, learningRate: learningRate,
                                    optimizer: Adam(parameters: network.parameters, learningRate: learningRate,
                                                    beta1: configuration.beta1, beta2: configuration.beta2))
        }
        let (lrG, lrD) = (configuration.generatorLearningRate, configuration.discriminatorLearningRate)
        let generatorPlayer = player("generator", generator, lrG)
        switch preset {
        case .dcgan28, .grid2d, .ring2d:
            let discriminator = player("discriminator", preset.makeDiscriminator(pack: configuration.packSize, random: &random), lrD)
            players = [generatorPlayer, discriminator]
            let step = AdversarialStep(generator: generator, discriminator: discriminator.network,
                                       generatorOptimizer: generatorPlayer.optimizer, discriminatorOptimizer: discriminator.optimizer,
                                       objective: configuration.objective, pack: configuration.packSize)
            step.discriminatorSteps = configuration.discriminatorSteps
            step.r1Gamma = configuration.r1 ?? 0
            algorithm = step
        case .alphagan28:
            let discriminator = player("discriminator", preset.makeDiscriminator(random: &random), lrD)
            let encoder = player("encoder", AlphaGAN28.encoder(random: &random), lrG)
            let codeDiscriminator = player("code_discriminator", AlphaGAN28.codeDiscriminator(random: &random), lrD)
            players = [generatorPlayer, discriminator, encoder, codeDiscriminator]
            algorithm = AlphaGANStep(
                encoder: encoder.network, generator: generator,
                discriminator: discriminator.network, codeDiscriminator: codeDiscriminator.network,
                optimizers: (encoder.optimizer, generatorPlayer.optimizer, discriminator.optimizer, codeDiscriminator.optimizer),
                objective: configuration.objective, reconstructionWeight: configuration.reconstructionWeight ?? TrainingConfiguration.alphaGANReconstructionWeight)
        case .completion28:
            let loss = configuration.loss ?? .l1Adversarial
            let discriminator = loss.usesDiscriminator ? player("discriminator", preset.makeDiscriminator(random: &random), lrD) : nil
            players = [generatorPlayer] + (discriminator.map { [$0] } ?? [])
            algorithm = CompletionStep(generator: generator, discriminator: discriminator?.network,
                                       generatorOptimizer: generatorPlayer.optimizer, discriminatorOptimizer: discriminator?.optimizer,
                                       loss: loss, objective: configuration.objective,
                                       reconstructionWeight: configuration.reconstructionWeight ?? 100)
        }
        parallel = DataParallel(world: world, networks: players.map { ($0.name, $0.network) })
        for player in players { parallel.synchronizeBatchNorm(in: player.network) }
        algorithm.averageGradients = { [parallel] in try parallel.averageGradients($0) }
        algorithm.lossScale = split.lossScale(of: world.rank)

        var gridNoise = RandomStream(seed: configuration.seed, purpose: "grid")
        switch preset {
        case .completion28:
            let tops = Completion28.halves(of: dataset.batch(Array(0..<8).flatMap { Array(repeating: $0, count: 8) })).top
            gridLatent = Completion28.generatorInput(top: tops, noise: gridNoise.normal(shape: [64, preset.latentSize]))
        default:
            gridLatent = gridNoise.normal(shape: [preset.takesImages ? 64 : 2500, preset.latentSize])
        }
    }

    var generator: Layer { players[0].network }

    /// This rank's share of a step's noise: sample i of the global batch comes from the stream
    /// (seed, purpose, step, substep, i), whichever rank draws it.
    func latent(_ purpose: String, step: Int, substep: Int) -> Tensor {
        RandomStream.normalRows(seed: configuration.seed, purpose: purpose,
                                keys: split.rows(of: world.rank).map { [UInt64(step), UInt64(substep), UInt64($0)] },
                                width: configuration.preset.latentSize)
    }

    /// The generator's samples of the fixed grid input, in evaluation mode, as a picture.
    func sampleGrid() -> GrayImage {
        let preset = configuration.preset
        return preset.picture(of: preset.samples(of: generator, input: gridLatent), columns: preset == .completion28 ? 8 : nil)
    }
}
