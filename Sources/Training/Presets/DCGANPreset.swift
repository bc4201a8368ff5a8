import Checkpoints
import Datasets
import Metrics
import Models

/// dcgan: the DCGAN of PyTorch's own example at the data's resolution (a power of two from 16)
/// and channel count (1 or 3), which the run takes from its `--data` and records.
struct DCGANPreset: OneDiscriminatorPreset {
    /// The side and channels the networks are built for; those of the data once a run starts.
    var resolution = 64, channels = 3

    var latentSize: Int { DCGAN.latentSize }
    var sampleShape: [Int] { [channels, resolution, resolution] }
    var options: Set<PresetOption> { [.packingAndDiscriminatorSteps, .shape] }

    /// FID and the rest in the evaluator's features, which exist for 28×28 gray images only so far.
    var measurement: any Measurement {
        sampleShape == DCGAN28.imageShape ? ImageMeasurement()
            : UnavailableMeasurement(reason: "dcgan at \(resolution)×\(resolution)×\(channels) has no evaluator network: the image metrics are "
                                         + "measured in the features of a classifier trained on images of the same shape, and LearnedLoss ships "
                                         + "one for 28×28 gray images only")
    }

    /// The example's hyperparameters (Adam 2e-4, β1 0.5, batch 64); no default data: it trains on yours.
    func defaults(images: TrainingConfiguration) -> TrainingConfiguration {
        var configuration = images
        configuration.data = nil
        return configuration
    }

    func shaped(resolution: Int?, channels: Int?) -> any PresetDefinition {
        DCGANPreset(resolution: resolution ?? self.resolution, channels: channels ?? self.channels)
    }

    /// Takes the resolution and channels from `dataset`, or checks them against those recorded.
    func adopt(_ dataset: Dataset, into configuration: inout TrainingConfiguration) throws {
        let shape = dataset.sampleShape
        guard shape.count == 3, [1, 3].contains(shape[0]), shape[1] == shape[2], DCGAN.supports(resolution: shape[1]) else {
            throw ConfigurationError("\(dataset.source): images of shape \(shape); dcgan trains on square images of 1 or 3 channels whose side "
                                     + "is a power of two from 16; `launcher dataset \(dataset.source) --out data.h5 --resolution 64` makes them")
        }
        for (key, recorded, found) in [("resolution", configuration.resolution, shape[1]), ("channels", configuration.channels, shape[0])] {
            if let recorded, recorded != found {
                throw ConfigurationError("--\(key) \(recorded), but \(dataset.source) has \(found): the networks are built for the data's")
            }
        }
        (configuration.resolution, configuration.channels) = (shape[1], shape[0])
    }

    func makeGenerator(random: inout RandomStream) -> Layer {
        DCGAN.generator(resolution: resolution, channels: channels, random: &random)
    }

    /// Packed samples are stacked along the image's channels.
    func makeDiscriminator(pack: Int, random: inout RandomStream) -> Layer {
        DCGAN.discriminator(resolution: resolution, channels: channels * pack, random: &random)
    }
}
