import Checkpoints
import Models

/// sngan: SNGAN's ResNet generator and spectrally normalised discriminator (Miyato et al. 2018,
/// as StudioGAN builds them) at the data's resolution (32, 64 or 128) and channels (1 or 3).
struct SNGANPreset: DataShapedPreset {
    var resolution = 32, channels = 3

    static let name = "sngan"
    static let sides = "32, 64 or 128"
    static func supports(resolution: Int) -> Bool { SNGAN.supports(resolution: resolution) }

    var latentSize: Int { SNGAN.latentSize }

    /// The paper's: hinge loss, Adam 2e-4 with β (0, 0.9), 5 D updates per G update, batch 64; no
    /// default data: it trains on yours.
    func defaults(images: TrainingConfiguration) -> TrainingConfiguration {
        var configuration = images
        configuration.data = nil
        configuration.objective = .hinge
        (configuration.beta1, configuration.beta2) = (0, 0.9)
        configuration.discriminatorSteps = 5
        return configuration
    }

    func makeGenerator(random: inout RandomStream) -> Layer {
        SNGAN.generator(resolution: resolution, channels: channels, random: &random)
    }

    /// Packed samples are stacked along the image's channels.
    func makeDiscriminator(pack: Int, random: inout RandomStream) -> Layer {
        SNGAN.discriminator(resolution: resolution, channels: channels * pack, random: &random)
    }
}
