import Checkpoints
import Metrics
import Datasets
import Models

/// colorize28: the essay's yellow bird. Fashion-MNIST images painted red or green at random
/// (`Tint`); given the gray image and noise, the generator paints it, under an explicit loss
/// (which paints the average, yellow), a learned one, or both (`--loss`).
struct Colorize28Preset: ConditionalPreset {
    var latentSize: Int { Colorize28.noiseSize }
    var sampleShape: [Int] { Colorize28.colourShape }
    var task: ConditionalTask { .colorization }
    var defaultLoss: CompletionLoss { .adversarial }
    var measurement: any Measurement { ColorizationMeasurement() }
    var pictureColumns: Int? { 8 }

    /// The mode-seeking weight is 0.05, not completion28's 1: a colour is one choice for the whole
    /// garment, and a larger weight makes the generator follow its noise by painting red and green
    /// patches within one garment, which the tint measure calls yellow (docs/learned-loss.md
    /// measures the weights).
    func defaults(images: TrainingConfiguration) -> TrainingConfiguration {
        var configuration = images
        (configuration.loss, configuration.reconstructionWeight, configuration.modeSeeking) = (.adversarial, 100, 0.05)
        return configuration
    }

    func prepared(_ images: Dataset) throws -> Dataset { try images.tinted() }

    /// Gray image and noise `[N, 784 + 32]` → colour image `[N, 3, 28, 28]`.
    func makeGenerator(random: inout RandomStream) -> Layer { Colorize28.generator(random: &random) }
    func makeDiscriminator(pack: Int, random: inout RandomStream) -> Layer { Colorize28.discriminator(random: &random) }

    /// The gray images of the first 32 training images, one noise vector each.
    func gridInput(random: inout RandomStream, dataset: Dataset) throws -> (input: Tensor, targets: Tensor?) {
        (ConditionalGenerator.input(condition: Colorize28.gray(of: try dataset.batch(0..<min(32, dataset.count))),
                                    noise: random.normal(shape: [min(32, dataset.count), latentSize])), nil)
    }

    /// Colourings of the first N Fashion-MNIST test images.
    func sampleInput(noise: Tensor) throws -> (input: Tensor, targets: Tensor?) {
        let test = try TestImages.fashionMNIST(for: "colourings").tinted()
        let gray = Colorize28.gray(of: try test.batch((0..<noise.shape[0]).map { $0 % test.count }))
        return (ConditionalGenerator.input(condition: gray, noise: noise), nil)
    }

    func conditionImages(of input: Tensor) -> Tensor? {
        input.slice(0..<Colorize28.graySize, axis: 1).reshaped([input.shape[0]] + Colorize28.grayShape)
    }

    /// Rows of gray inputs, each over the row of their colourings.
    func picture(of samples: Tensor, input: Tensor, targets: Tensor?, columns: Int?) -> Picture {
        let columns = columns ?? 8, gray = conditionImages(of: input)!
        let asColour = Tensor.concatenate([gray, gray, gray], axis: 1)
        let rows = stride(from: 0, to: samples.shape[0], by: columns).flatMap { start in
            let range = start..<min(start + columns, samples.shape[0])
            let padding = Tensor(shape: [columns - range.count] + Colorize28.colourShape, repeating: -1)
            return [asColour.slice(range, axis: 0), padding, samples.slice(range, axis: 0), padding]
        }
        return Picture.grid(of: Tensor.concatenate(rows, axis: 0), columns: columns)
    }
}
