import Checkpoints
import Metrics
import Datasets
import Models

/// grid2d and ring2d: PacGAN's MLPs on a 2-D mixture of Gaussians generated from the seed.
struct MixturePreset: OneDiscriminatorPreset {
    /// The mixture, what it is called in messages, and the half-width of its pictures.
    let data: MixtureOfGaussians
    let name: String
    let extent: Float

    static let grid = MixturePreset(data: .grid, name: "grid of 25 Gaussians", extent: 6)
    static let ring = MixturePreset(data: .ring, name: "ring of 8 Gaussians", extent: 1.6)

    var latentSize: Int { MLP2D.latentSize }
    var sampleShape: [Int] { [2] }
    var takesImages: Bool { false }
    var options: Set<PresetOption> { [.packingAndDiscriminatorSteps, .r1] }
    var measurement: any Measurement { ModeCoverageMeasurement(data) }

    /// PacGAN's batch, trained faster than PacGAN's lr 1e-4 and beta1 0.8 (which reach 47% high
    /// quality in this budget; docs/evaluation.md): D five times as fast as G, and both rates
    /// falling to 0 so the samples settle onto the modes by the last step. R1 keeps D smooth
    /// around the real data, so its gradient still points at modes G has not reached.
    ///
    /// Gradients go in one message after each backward pass: a step of these small networks is too
    /// short to hide their 3.6 MB, and the reduction thread cost 2-5 ms a step more than it hid
    /// (benchmarks/README.md).
    func defaults(images: TrainingConfiguration) -> TrainingConfiguration {
        var configuration = images
        configuration.data = nil
        (configuration.steps, configuration.batchSize) = (16_000, 100)
        configuration.discriminatorLearningRate = 1e-3
        (configuration.checkpointEvery, configuration.sampleEvery) = (1000, 1000)
        (configuration.learningRateDecay, configuration.r1, configuration.emaDecay) = (.linear, 1, 0)
        configuration.bucketMegabytes = 0
        return configuration
    }

    func makeGenerator(random: inout RandomStream) -> Layer { MLP2D.generator(random: &random) }

    /// Packed samples are concatenated along the features.
    func makeDiscriminator(pack: Int, random: inout RandomStream) -> Layer { MLP2D.discriminator(pack: pack, random: &random) }

    /// 100,000 points, the same for every rank with the same seed.
    func generatedData(seed: UInt64) -> Dataset? { data.sample(count: 100_000, seed: seed, name: name) }

    /// 2,500 points, enough to show every mode's spread.
    func gridInput(random: inout RandomStream, dataset: Dataset) throws -> (input: Tensor, targets: Tensor?) {
        (random.normal(shape: [2500, latentSize]), nil)
    }

    func picture(of samples: Tensor, input: Tensor, targets: Tensor?, columns: Int?) -> Picture {
        Picture.scatter(of: samples, modes: data.modes, extent: extent)
    }
}
