import Checkpoints
import Datasets
import Metrics
import Models

/// pix2pix (Isola et al. 2017): the U-Net generator and the PatchGAN discriminator on the user's
/// (input, target) pairs (`--pairs`), at their side (a power of two from 32) and channels (1 or
/// 3 each), which the run takes from its `--data` and records. The last tenth of the pairs (at
/// most 1,000) is held out of training for `evaluate` (`PairSource.heldOut`).
struct Pix2PixPreset: ConditionalPreset {
    var resolution = 256, channels = 3, inputChannels = 3, pairs = PairSource.files, width = Pix2Pix.defaultWidth
    var data: String?

    var latentSize: Int { Pix2Pix.noiseSize }
    /// One sample of the data: a pair `[C_in + C_out, R, R]`, or the target alone for derived pairs.
    var sampleShape: [Int] { [(pairs.isDerived ? 0 : inputChannels) + channels, resolution, resolution] }
    var task: ConditionalTask {
        let (pairs, inputChannels) = (pairs, inputChannels)
        return ConditionalTask(split: { batch in
            let pair = pairs.split(batch, inputChannels: inputChannels)
            return (pair.input, pair.target)
        }, pairingAxis: 1)
    }
    var defaultLoss: CompletionLoss { .l1Adversarial }
    var options: Set<PresetOption> { [.loss, .reconstructionWeight, .modeSeeking, .shape, .pairs, .width] }
    var measurement: any Measurement {
        PairedMeasurement(data: data, pairs: pairs, inputChannels: inputChannels, targetShape: [channels, resolution, resolution])
    }
    var pictureColumns: Int? { 6 }

    /// The paper's: L1 + adversarial with λ 100, Adam 2e-4 with β1 0.5, the non-saturating GAN
    /// loss on every patch; a batch of 16 rather than its 1, so that the batch splits over ranks.
    /// No default data: it trains on your pairs.
    func defaults(images: TrainingConfiguration) -> TrainingConfiguration {
        var configuration = images
        configuration.data = nil
        configuration.batchSize = 16
        (configuration.loss, configuration.reconstructionWeight, configuration.modeSeeking) = (.l1Adversarial, 100, 0)
        configuration.pairs = .files
        return configuration
    }

    func shaped(_ configuration: TrainingConfiguration) -> any PresetDefinition {
        let pairs = configuration.pairs ?? pairs
        let channels = configuration.channels ?? channels
        return Pix2PixPreset(resolution: configuration.resolution ?? resolution, channels: channels,
                             inputChannels: configuration.inputChannels ?? (pairs.isDerived ? pairs.derivedInputChannels(targetChannels: channels) : channels),
                             pairs: pairs, width: configuration.width ?? width, data: configuration.data)
    }

    func images(at path: String, skipBad: Bool, say: (String) -> Void) throws -> Dataset {
        try pairs.load(path, skipBad: skipBad, say: say)
    }

    /// All but the held-out pairs.
    func prepared(_ images: Dataset) throws -> Dataset {
        guard images.count >= 2 else { throw DataError("\(images.source): \(images.count) pair; pix2pix needs at least 2, one held out for evaluate") }
        return images.subset(Array(0..<PairSource.heldOut(count: images.count).lowerBound))
    }

    /// Takes the side and the channels of inputs and targets from `dataset`, or checks them
    /// against those recorded.
    func adopt(_ dataset: Dataset, into configuration: inout TrainingConfiguration) throws {
        let shape = dataset.sampleShape
        guard shape.count == 3, shape[1] == shape[2], Pix2Pix.supports(resolution: shape[1]) else {
            throw ConfigurationError("\(dataset.source): images of \(shape.dropFirst().map(String.init).joined(separator: "×")); pix2pix trains on "
                                     + "square images whose side is a power of two from 32; `launcher dataset \(dataset.source) --out data.h5 "
                                     + "--resolution 128\(pairs.isDerived ? "" : " --pairs \(pairs.rawValue)")` makes them")
        }
        let (found, foundInput): (Int, Int)
        if pairs.isDerived {
            guard dataset.inputChannels == nil else {
                throw ConfigurationError("\(dataset.source) holds pairs; --pairs \(pairs.rawValue) derives them from plain images (use --pairs files)")
            }
            guard pairs != .gray || shape[0] == 3 else {
                throw ConfigurationError("\(dataset.source): gray images; --pairs gray makes gray inputs from colour targets")
            }
            (found, foundInput) = (shape[0], pairs.derivedInputChannels(targetChannels: shape[0]))
        } else {
            guard let inputChannels = dataset.inputChannels else { preconditionFailure("pairs are read with their input channels") }
            (found, foundInput) = (shape[0] - inputChannels, inputChannels)
        }
        guard [1, 3].contains(found), [1, 3].contains(foundInput) else {
            throw ConfigurationError("\(dataset.source): inputs of \(foundInput) and targets of \(found) channels; pix2pix takes 1 or 3 each")
        }
        for (key, recorded, value) in [("resolution", configuration.resolution, shape[1]), ("channels", configuration.channels, found),
                                       ("input-channels", configuration.inputChannels, foundInput)] {
            if let recorded, recorded != value {
                throw ConfigurationError("--\(key) \(recorded), but \(dataset.source) has \(value): the networks are built for the data's")
            }
        }
        (configuration.resolution, configuration.channels, configuration.inputChannels) = (shape[1], found, foundInput)
    }

    /// Input and noise `[N, C_in·R·R + 8]` → output `[N, C_out, R, R]`.
    func makeGenerator(random: inout RandomStream) -> Layer {
        Pix2Pix.generator(resolution: resolution, inputChannels: inputChannels, outputChannels: channels, width: width, random: &random)
    }
    /// The pair joined along the channels `[N, C_in + C_out, R, R]` → patch logits.
    func makeDiscriminator(pack: Int, random: inout RandomStream) -> Layer {
        Pix2Pix.discriminator(channels: inputChannels + channels, width: width, random: &random)
    }

    /// The inputs of the first 8 training pairs, one noise draw each, and their targets.
    func gridInput(random: inout RandomStream, dataset: Dataset) throws -> (input: Tensor, targets: Tensor?) {
        let (condition, target) = task.split(try dataset.batch(0..<min(8, dataset.count)))
        return (ConditionalGenerator.input(condition: condition, noise: random.normal(shape: [condition.shape[0], latentSize])), target)
    }

    /// The inputs of the first N held-out pairs (repeated when N is more than they are), and their targets.
    func sampleInput(noise: Tensor) throws -> (input: Tensor, targets: Tensor?) {
        guard let data else { throw ConfigurationError("pix2pix samples from its run's --data, which this configuration lacks") }
        let dataset = try pairs.load(data)
        let rows = Array(PairSource.heldOut(count: dataset.count))
        let (condition, target) = task.split(try dataset.batch((0..<noise.shape[0]).map { rows[$0 % rows.count] }))
        return (ConditionalGenerator.input(condition: condition, noise: noise), target)
    }

    func conditionImages(of input: Tensor) -> Tensor? {
        input.slice(0..<inputChannels * resolution * resolution, axis: 1).reshaped([input.shape[0], inputChannels, resolution, resolution])
    }

    /// Input, output and target side by side (input and output alone without targets), `columns`
    /// images to a row; gray images shown in three equal channels beside colour ones.
    func picture(of samples: Tensor, input: Tensor, targets: Tensor?, columns: Int?) -> Picture {
        let shown = max(channels, inputChannels)
        func coloured(_ images: Tensor) -> Tensor {
            images.shape[1] == shown ? images : Tensor.concatenate(Array(repeating: images, count: shown), axis: 1)
        }
        let parts = [coloured(conditionImages(of: input)!), coloured(samples)] + (targets.map { [coloured($0)] } ?? [])
        let rows = (0..<samples.shape[0]).flatMap { row in parts.map { $0.slice(row..<row + 1, axis: 0) } }
        return Picture.grid(of: Tensor.concatenate(rows, axis: 0), columns: columns ?? 2 * parts.count)
    }
}
