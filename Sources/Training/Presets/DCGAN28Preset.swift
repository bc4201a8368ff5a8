import Checkpoints
import Metrics
import Models

/// dcgan28: the DCGAN networks on 28×28 grayscale images (Fashion-MNIST by default).
struct DCGAN28Preset: OneDiscriminatorPreset {
    var latentSize: Int { DCGAN28.latentSize }
    var sampleShape: [Int] { DCGAN28.imageShape }
    var options: Set<PresetOption> { [.packingAndDiscriminatorSteps, .augment] }
    var measurement: any Measurement { ImageMeasurement(sampleShape: DCGAN28.imageShape) }

    func defaults(images: TrainingConfiguration) -> TrainingConfiguration { images }

    func makeGenerator(random: inout RandomStream) -> Layer { DCGAN28.generator(random: &random) }

    /// Packed samples are stacked along the image's channels.
    func makeDiscriminator(pack: Int, random: inout RandomStream) -> Layer {
        DCGAN28.discriminator(channels: pack, random: &random)
    }
}
