import Checkpoints
import Datasets
import Metrics
import Models

/// A preset whose networks are built for the shape of the user's images (dcgan, sngan): square,
/// 1 or 3 channels, at a side its networks support; the run takes the shape from its `--data`
/// and records it.
protocol DataShapedPreset: OneDiscriminatorPreset {
    /// The side and channels the networks are built for; those of the data once a run starts.
    var resolution: Int { get }
    var channels: Int { get }
    init(resolution: Int, channels: Int)
    /// Its name, for messages.
    static var name: String { get }
    /// The sides its networks are built for, in words ("a power of two from 16").
    static var sides: String { get }
    static func supports(resolution: Int) -> Bool
}

extension DataShapedPreset {
    var sampleShape: [Int] { [channels, resolution, resolution] }
    var options: Set<PresetOption> { [.packingAndDiscriminatorSteps, .shape, .augment] }

    /// FID and the rest in the features of an evaluator trained on images of this shape.
    var measurement: any Measurement { ImageMeasurement(sampleShape: sampleShape) }

    func shaped(_ configuration: TrainingConfiguration) -> any PresetDefinition {
        Self(resolution: configuration.resolution ?? resolution, channels: configuration.channels ?? channels)
    }

    /// Takes the resolution and channels from `dataset`, or checks them against those recorded.
    func adopt(_ dataset: Dataset, into configuration: inout TrainingConfiguration) throws {
        let shape = dataset.sampleShape
        guard shape.count == 3, [1, 3].contains(shape[0]), shape[1] == shape[2], Self.supports(resolution: shape[1]) else {
            throw ConfigurationError("\(dataset.source): images of shape \(shape); \(Self.name) trains on square images of 1 or 3 channels "
                                     + "whose side is \(Self.sides); `launcher dataset \(dataset.source) --out data.h5 --resolution 64` makes them")
        }
        for (key, recorded, found) in [("resolution", configuration.resolution, shape[1]), ("channels", configuration.channels, shape[0])] {
            if let recorded, recorded != found {
                throw ConfigurationError("--\(key) \(recorded), but \(dataset.source) has \(found): the networks are built for the data's")
            }
        }
        (configuration.resolution, configuration.channels) = (shape[1], shape[0])
    }
}
