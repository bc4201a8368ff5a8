import Checkpoints
import Models

/// alphagan28: Alpha-GAN on 28×28 images, dcgan28's G and D with an encoder E and a code
/// discriminator C, and an L1 reconstruction term.
struct AlphaGAN28Preset: PresetDefinition {
    var latentSize: Int { DCGAN28.latentSize }
    var sampleShape: [Int] { DCGAN28.imageShape }
    var options: Set<PresetOption> { [.reconstructionWeight] }
    var measurement: Measurement { .images(reconstructions: true) }

    /// λ: Algorithm 1 of Rosca et al. writes the term λ‖x − G(E(x))‖₁, a sum over the image's
    /// pixels; LearnedLoss's L1 is the per-pixel mean, so λ = 1 in the paper's form is 784 here.
    static let reconstructionWeight: Float = 784

    func defaults(images: TrainingConfiguration) -> TrainingConfiguration {
        var configuration = images
        configuration.reconstructionWeight = Self.reconstructionWeight
        return configuration
    }

    func makeGenerator(random: inout RandomStream) -> Layer { DCGAN28.generator(random: &random) }
    func makeDiscriminator(pack: Int, random: inout RandomStream) -> Sequential { DCGAN28.discriminator(channels: pack, random: &random) }

    func makeNetwork(named name: String, random: inout RandomStream) -> Layer? {
        name == "encoder" ? AlphaGAN28.encoder(random: &random) : nil
    }

    /// G and D come first, as in dcgan28, so that both presets start from the same G and D.
    func makeTraining(_ configuration: TrainingConfiguration, generator: Player, random: inout RandomStream,
                      player: (String, Layer, Float) -> Player, context: PhaseContext)
        -> (players: [Player], algorithm: TrainingAlgorithm) {
        let (lrG, lrD) = (configuration.generatorLearningRate, configuration.discriminatorLearningRate)
        let discriminator = player("discriminator", makeDiscriminator(pack: 1, random: &random), lrD)
        let encoder = player("encoder", AlphaGAN28.encoder(random: &random), lrG)
        let codeDiscriminator = player("code_discriminator", AlphaGAN28.codeDiscriminator(random: &random), lrD)
        let step = AlphaGANStep(
            encoder: encoder.network, generator: generator.network,
            discriminator: discriminator.network, codeDiscriminator: codeDiscriminator.network,
            optimizers: (encoder.optimizer, generator.optimizer, discriminator.optimizer, codeDiscriminator.optimizer),
            objective: configuration.objective, reconstructionWeight: configuration.reconstructionWeight ?? Self.reconstructionWeight,
            context: context)
        return ([generator, discriminator, encoder, codeDiscriminator], step)
    }
}
