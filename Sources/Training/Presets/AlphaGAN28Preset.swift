import Checkpoints
import Metrics
import Models

/// alphagan28: Alpha-GAN on 28×28 images, dcgan28's G and D with an encoder E and a code
/// discriminator C, and an L1 reconstruction term.
struct AlphaGAN28Preset: PresetDefinition {
    var latentSize: Int { DCGAN28.latentSize }
    var sampleShape: [Int] { DCGAN28.imageShape }
    var options: Set<PresetOption> { [.reconstructionWeight] }
    var measurement: any Measurement { ImageMeasurement(sampleShape: DCGAN28.imageShape, reconstructions: true) }
    var encoderName: String? { "encoder" }

    /// λ on the per-pixel mean L1 (Algorithm 1 of Rosca et al. writes λ‖x − G(E(x))‖₁, a pixel sum:
    /// 30 here is λ ≈ 0.04 there). Adam scales each parameter's step by its gradient's size, so λ
    /// decides how much of G's and E's steps goes to reconstruction rather than to the adversarial
    /// terms; docs/learned-loss.md measures the trade-off that chose 30.
    static let reconstructionWeight: Float = 30

    func defaults(images: TrainingConfiguration) -> TrainingConfiguration {
        var configuration = images
        configuration.reconstructionWeight = Self.reconstructionWeight
        return configuration
    }

    func makeGenerator(random: inout RandomStream) -> Layer { DCGAN28.generator(random: &random) }
    func makeDiscriminator(pack: Int, random: inout RandomStream) -> Layer { DCGAN28.discriminator(channels: pack, random: &random) }

    /// Encoders written before they normalised their codes (2026-12-02) have no layer 7; they load
    /// as they were, so their checkpoints still sample, evaluate and reconstruct.
    func makeNetwork(named name: String, random: inout RandomStream, stored: Set<String>) -> Layer? {
        name == encoderName ? AlphaGAN28.encoder(random: &random, normalizingCodes: stored.isEmpty || stored.contains("7.running_mean")) : nil
    }

    /// G and D come first, as in dcgan28, so that both presets start from the same G and D.
    func makeTraining(_ configuration: TrainingConfiguration, generator: Player, random: inout RandomStream,
                      player: (String, Layer, Float) -> Player, context: PhaseContext)
        -> (players: [Player], algorithm: TrainingAlgorithm) {
        let (lrG, lrD) = (configuration.generatorLearningRate, configuration.discriminatorLearningRate)
        let discriminator = player("discriminator", makeDiscriminator(pack: 1, random: &random), lrD)
        let encoder = player(encoderName!, AlphaGAN28.encoder(random: &random), lrG)
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
