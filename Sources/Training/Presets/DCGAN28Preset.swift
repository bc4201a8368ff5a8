import Models

/// dcgan28: the DCGAN networks on 28×28 grayscale images (Fashion-MNIST by default).
struct DCGAN28Preset: PresetDefinition {
    var latentSize: Int { DCGAN28.latentSize }
    var sampleShape: [Int] { DCGAN28.imageShape }
    var options: Set<PresetOption> { [.packingAndDiscriminatorSteps] }
    var measurement: Measurement { .images(reconstructions: false) }

    func defaults(images: TrainingConfiguration) -> TrainingConfiguration { images }

    func makeGenerator(random: inout RandomStream) -> Layer { DCGAN28.generator(random: &random) }

    /// Packed samples are stacked along the image's channels.
    func makeDiscriminator(pack: Int, random: inout RandomStream) -> Sequential {
        DCGAN28.discriminator(channels: pack, random: &random)
    }

    func makeTraining(_ configuration: TrainingConfiguration, generator: TrainingSnapshot.Player, random: inout RandomStream,
                      player: (String, Layer, Float) -> TrainingSnapshot.Player, context: PhaseContext)
        -> (players: [TrainingSnapshot.Player], algorithm: TrainingAlgorithm) {
        AdversarialStep.training(configuration, generator: generator,
                                 discriminator: makeDiscriminator(pack: configuration.packSize, random: &random), player: player,
                                 context: context)
    }
}

extension AdversarialStep {
    /// G against one D, in packs, with `--d-steps` D updates per step: dcgan28, grid2d and ring2d.
    static func training(_ configuration: TrainingConfiguration, generator: TrainingSnapshot.Player, discriminator network: Sequential,
                         player: (String, Layer, Float) -> TrainingSnapshot.Player, context: PhaseContext)
        -> (players: [TrainingSnapshot.Player], algorithm: TrainingAlgorithm) {
        let discriminator = player("discriminator", network, configuration.discriminatorLearningRate)
        let step = AdversarialStep(generator: generator.network, discriminator: discriminator.network,
                                   generatorOptimizer: generator.optimizer, discriminatorOptimizer: discriminator.optimizer,
                                   objective: configuration.objective, pack: configuration.packSize, context: context)
        step.discriminatorSteps = configuration.discriminatorSteps
        step.r1Gamma = configuration.r1 ?? 0
        return ([generator, discriminator], step)
    }
}
