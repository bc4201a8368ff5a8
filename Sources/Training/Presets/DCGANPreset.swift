import Checkpoints
import Models

/// dcgan: the DCGAN of PyTorch's own example at the data's resolution (a power of two from 16)
/// and channel count (1 or 3), which the run takes from its `--data` and records.
struct DCGANPreset: DataShapedPreset {
    var resolution = 64, channels = 3

    static let name = "dcgan"
    static let sides = "a power of two from 16"
    static func supports(resolution: Int) -> Bool { DCGAN.supports(resolution: resolution) }

    var latentSize: Int { DCGAN.latentSize }

    /// The example's hyperparameters (Adam 2e-4, β1 0.5, batch 64); no default data: it trains on yours.
    func defaults(images: TrainingConfiguration) -> TrainingConfiguration {
        var configuration = images
        configuration.data = nil
        return configuration
    }

    func makeGenerator(random: inout RandomStream) -> Layer {
        DCGAN.generator(resolution: resolution, channels: channels, random: &random)
    }

    /// Packed samples are stacked along the image's channels.
    func makeDiscriminator(pack: Int, random: inout RandomStream) -> Layer {
        DCGAN.discriminator(resolution: resolution, channels: channels * pack, random: &random)
    }
}
