import Checkpoints
import Metrics
import Datasets
import Models

/// completion28: the bottom half of a 28×28 image from its top half and noise, under an explicit
/// loss (L1, L2), a learned one (a discriminator), or both (`--loss`).
struct Completion28Preset: ConditionalPreset {
    var latentSize: Int { Completion28.noiseSize }
    var sampleShape: [Int] { DCGAN28.imageShape }
    var task: ConditionalTask { .completion }
    var defaultLoss: CompletionLoss { .l1Adversarial }
    var measurement: any Measurement { CompletionMeasurement() }
    /// Eight completions of each top half in a row.
    var pictureColumns: Int? { 8 }

    func defaults(images: TrainingConfiguration) -> TrainingConfiguration {
        var configuration = images
        (configuration.loss, configuration.reconstructionWeight, configuration.modeSeeking) = (.l1Adversarial, 100, 1)
        return configuration
    }

    /// Top half and noise `[N, 392 + 32]` → bottom half `[N, 1, 14, 28]`.
    func makeGenerator(random: inout RandomStream) -> Layer { Completion28.generator(random: &random) }
    func makeDiscriminator(pack: Int, random: inout RandomStream) -> Layer { Completion28.discriminator(random: &random) }

    /// The top halves of the first 8 training images, 8 noise vectors each.
    func gridInput(random: inout RandomStream, dataset: Dataset) throws -> (input: Tensor, targets: Tensor?) {
        let tops = Completion28.halves(of: try dataset.batch(Array(0..<8).flatMap { Array(repeating: $0, count: 8) })).top
        return (Completion28.generatorInput(top: tops, noise: random.normal(shape: [64, latentSize])), nil)
    }

    /// Completions of Fashion-MNIST test images, eight of each top half in a row.
    func sampleInput(noise: Tensor) throws -> (input: Tensor, targets: Tensor?) {
        let test = try TestImages.fashionMNIST(for: "completions")
        let tops = Completion28.halves(of: try test.batch((0..<noise.shape[0]).map { $0 / 8 % test.count })).top
        return (Completion28.generatorInput(top: tops, noise: noise), nil)
    }

    /// Each input's top over its generated bottom, `[N, 1, 28, 28]`.
    func samples(of generator: Layer, input: Tensor) -> Tensor {
        let tops = input.slice(0..<Completion28.halfSize, axis: 1).reshaped([input.shape[0]] + Completion28.halfShape)
        return Tensor.concatenate([tops, generator(Variable(input)).value], axis: 2)
    }
}
