import Checkpoints
import Datasets
import Metrics
import Models

/// Everything a preset decides: its data, its defaults and the options it takes, its networks and
/// how one step trains them, its sample grid, and what `evaluate` measures for it.
///
/// One conforming type per file in this folder; `Preset` only maps names to them.
protocol PresetDefinition: Sendable {
    /// The size of the noise each sample is drawn from.
    var latentSize: Int { get }
    /// The shape of one sample of the data, without the batch dimension.
    var sampleShape: [Int] { get }
    /// Whether it trains on image files (`--data`) rather than data generated from the seed.
    var takesImages: Bool { get }
    /// The data it trains on when that is generated from the seed; nil when it is read from `--data`.
    func generatedData(seed: UInt64) -> Dataset?
    /// The rows of a batch that must stay on one rank, and their name: the discriminator's packs.
    func rowsKeptTogether(_ configuration: TrainingConfiguration) -> (rows: Int, name: String)
    /// The images at `path` as it reads them (pairs, for an image-to-image preset).
    func images(at path: String, skipBad: Bool, say: (String) -> Void) throws -> Dataset
    /// The data it trains on (and is measured against) from images read from a file.
    func prepared(_ images: Dataset) throws -> Dataset
    /// The options beyond the common ones that it takes.
    var options: Set<PresetOption> { get }
    /// What `launcher evaluate` and `--eval-every` measure of its generator, and what ranks best.h5.
    var measurement: any Measurement { get }
    /// The checkpoint group of its encoder, the network that maps data back to the generator's
    /// input (alphagan28's), or nil when it has none.
    var encoderName: String? { get }

    /// Its defaults, from `images` (the defaults of a preset training on Fashion-MNIST) or its own.
    func defaults(images: TrainingConfiguration) -> TrainingConfiguration

    /// The definition for a run's configuration (its `--resolution`, `--channels`, `--pairs`; nil:
    /// its defaults), for a preset whose networks take their shape from the data; itself for the others.
    func shaped(_ configuration: TrainingConfiguration) -> any PresetDefinition
    /// Records what a run takes from its data in `configuration` (the shape of a preset that
    /// builds its networks for the data's), checking it against what was recorded on resume.
    func adopt(_ dataset: Dataset, into configuration: inout TrainingConfiguration) throws

    /// The generator: noise `[N, latentSize]` → sample (a preset may take more than noise).
    func makeGenerator(random: inout RandomStream) -> Layer
    /// The discriminator, judging `pack` samples at once (PacGAN).
    func makeDiscriminator(pack: Int, random: inout RandomStream) -> Layer
    /// The networks after the generator and the step that trains them all; `player` makes a
    /// network's optimizer at a learning rate, `context` is how the step's phases take part in
    /// the data-parallel job.
    func makeTraining(_ configuration: TrainingConfiguration, generator: Player, random: inout RandomStream,
                      player: (String, Layer, Float) -> Player, context: PhaseContext)
        -> (players: [Player], algorithm: TrainingAlgorithm)
    /// A network other than the generator that tools may read from a checkpoint ("encoder"), or nil;
    /// `stored` names the entries the checkpoint holds for it, for layouts of earlier versions.
    func makeNetwork(named name: String, random: inout RandomStream, stored: Set<String>) -> Layer?

    /// The generator's input for the run's sample grid, drawn from `random`, and the true outputs
    /// of those inputs for a preset that has them (pix2pix's targets).
    func gridInput(random: inout RandomStream, dataset: Dataset) throws -> (input: Tensor, targets: Tensor?)
    /// The generator's input for `launcher sample`, from noise `[N, latentSize]`, and its true
    /// outputs where the preset has them.
    func sampleInput(noise: Tensor) throws -> (input: Tensor, targets: Tensor?)
    /// Whole samples from one chunk of generator inputs, the generator in evaluation mode.
    func samples(of generator: Layer, input: Tensor) -> Tensor
    /// A picture of whole samples made from generator inputs `input`, beside their true outputs
    /// `targets` when the preset has them; `columns` for a grid of images (square by default).
    func picture(of samples: Tensor, input: Tensor, targets: Tensor?, columns: Int?) -> Picture
    /// The images a conditional generator's inputs hold, `[N, C, H, W]`, when they are worth
    /// keeping beside its samples (colorize28's gray images); nil otherwise.
    func conditionImages(of input: Tensor) -> Tensor?
    /// How many samples a row of its sample pictures holds, or nil for square grids.
    var pictureColumns: Int? { get }
}

/// Options only some presets take.
enum PresetOption: Sendable {
    /// `--loss`: the completion loss.
    case loss
    /// `--recon-weight`: the reconstruction term's weight.
    case reconstructionWeight
    /// `--r1`: the gradient penalty at the real data, for piecewise-linear discriminators.
    case r1
    /// `--pack` and `--d-steps`: packed discriminators and several D updates per step.
    case packingAndDiscriminatorSteps
    /// `--resolution` and `--channels`: networks built for the data's shape.
    case shape
    /// `--mode-seeking`: the conditional generators' term for using their noise.
    case modeSeeking
    /// `--augment`: DiffAugment of the images D judges.
    case augment
    /// `--pairs` and `--input-channels`: an image-to-image preset's pairs.
    case pairs
    /// `--width`: the base width of its networks.
    case width
}

extension PresetDefinition {
    var takesImages: Bool { true }
    func generatedData(seed: UInt64) -> Dataset? { nil }
    func images(at path: String, skipBad: Bool, say: (String) -> Void) throws -> Dataset {
        try Dataset.images(at: path, skipBad: skipBad, say: say)
    }
    func prepared(_ images: Dataset) throws -> Dataset { images }
    func rowsKeptTogether(_ configuration: TrainingConfiguration) -> (rows: Int, name: String) { (configuration.packSize, "pack") }
    func conditionImages(of input: Tensor) -> Tensor? { nil }
    var pictureColumns: Int? { nil }
    var encoderName: String? { nil }
    func shaped(_ configuration: TrainingConfiguration) -> any PresetDefinition { self }
    func adopt(_ dataset: Dataset, into configuration: inout TrainingConfiguration) throws {}
    func makeNetwork(named name: String, random: inout RandomStream, stored: Set<String>) -> Layer? { nil }

    func sampleInput(noise: Tensor) throws -> (input: Tensor, targets: Tensor?) { (noise, nil) }
    func samples(of generator: Layer, input: Tensor) -> Tensor { generator(Variable(input)).value }

    func gridInput(random: inout RandomStream, dataset: Dataset) throws -> (input: Tensor, targets: Tensor?) {
        (random.normal(shape: [64, latentSize]), nil)
    }

    func picture(of samples: Tensor, input: Tensor, targets: Tensor?, columns: Int?) -> Picture {
        Picture.grid(of: samples, columns: columns ?? max(1, Int(Double(samples.shape[0]).squareRoot().rounded(.up))))
    }
}

extension Player {
    /// A network with a fresh Adam optimizer at `learningRate`, with the configuration's betas.
    static func make(_ configuration: TrainingConfiguration) -> (String, Layer, Float) -> Player {
        { name, network, learningRate in
            Player(name: name, network: network, learningRate: learningRate,
                                    optimizer: Adam(parameters: network.parameters, learningRate: learningRate,
                                                    beta1: configuration.beta1, beta2: configuration.beta2))
        }
    }
}

/// A preset that trains G against one D, in packs, with `--d-steps` D updates per step
/// (`AdversarialStep`): dcgan28, grid2d and ring2d.
protocol OneDiscriminatorPreset: PresetDefinition {}

extension OneDiscriminatorPreset {
    func makeTraining(_ configuration: TrainingConfiguration, generator: Player, random: inout RandomStream,
                      player: (String, Layer, Float) -> Player, context: PhaseContext)
        -> (players: [Player], algorithm: TrainingAlgorithm) {
        let network = makeDiscriminator(pack: configuration.packSize, random: &random)
        let discriminator = player("discriminator", network, configuration.discriminatorLearningRate)
        let step = AdversarialStep(generator: generator.network, discriminator: discriminator.network,
                                   generatorOptimizer: generator.optimizer, discriminatorOptimizer: discriminator.optimizer,
                                   objective: configuration.objective, pack: configuration.packSize, context: context)
        step.discriminatorSteps = configuration.discriminatorSteps
        step.r1Gamma = configuration.r1 ?? 0
        step.augmentation = configuration.augment.flatMap { $0.transforms.isEmpty ? nil : $0 }
        return ([generator, discriminator], step)
    }
}

/// A preset that makes an output from a condition and noise under `--loss`, with a conditional
/// discriminator for the adversarial losses (`ConditionalStep`): completion28 and colorize28.
protocol ConditionalPreset: PresetDefinition {
    var task: ConditionalTask { get }
    /// The loss when the configuration names none (only in checkpoints from before `--loss`).
    var defaultLoss: CompletionLoss { get }
}

extension ConditionalPreset {
    var options: Set<PresetOption> { [.loss, .reconstructionWeight, .modeSeeking] }

    /// The mode-seeking term's pairs (`ConditionalStep.pairing`) when it is on.
    func rowsKeptTogether(_ configuration: TrainingConfiguration) -> (rows: Int, name: String) {
        (configuration.loss ?? defaultLoss).usesDiscriminator && (configuration.modeSeeking ?? 0) > 0 ? (2, "mode-seeking pair") : (1, "pack")
    }

    func makeTraining(_ configuration: TrainingConfiguration, generator: Player, random: inout RandomStream,
                      player: (String, Layer, Float) -> Player, context: PhaseContext)
        -> (players: [Player], algorithm: TrainingAlgorithm) {
        let loss = configuration.loss ?? defaultLoss
        let discriminator = loss.usesDiscriminator
            ? player("discriminator", makeDiscriminator(pack: 1, random: &random), configuration.discriminatorLearningRate) : nil
        let step = ConditionalStep(task: task, generator: generator.network, discriminator: discriminator?.network,
                                   generatorOptimizer: generator.optimizer, discriminatorOptimizer: discriminator?.optimizer,
                                   loss: loss, objective: configuration.objective,
                                   reconstructionWeight: configuration.reconstructionWeight ?? 100,
                                   modeSeekingWeight: configuration.modeSeeking ?? 0, context: context)
        return ([generator] + (discriminator.map { [$0] } ?? []), step)
    }
}
