import Checkpoints
import Distributed
import Models

/// What `launcher evaluate` and `--eval-every` measure of a preset's generator: each preset names
/// its own (`PresetDefinition.measurement`), and nothing else decides by the kind of preset.
public protocol Measurement: Sendable {
    /// Samples `evaluate` draws unless told otherwise, and each evaluation during training.
    var defaultSamples: (evaluate: Int, duringTraining: Int) { get }
    /// The fewest samples that make its figures meaningful, and the figures that need them
    /// ("KID, precision and recall need").
    var minimumSamples: (count: Int, figures: String) { get }
    /// Loads what it needs (the evaluator network, reference features, test images), so that a
    /// missing file stops a run before it trains. Every rank calls it.
    func prepare(_ context: MeasurementContext) throws
    /// The figures of `subject`'s generator, its noise from `seed`. Collective: every rank calls it
    /// with the same arguments and gets the same figures.
    func measure(_ subject: EvaluationSubject, seed: UInt64, context: MeasurementContext) throws -> MeasuredScores
    /// The headline figure of `scores` and the order of evaluations, better first (best.h5).
    func ranking(of scores: MeasuredScores, step: Int) -> BestCheckpoint
    /// Whether it measures in an evaluator network's features, so that `--evaluator` means something.
    var usesEvaluator: Bool { get }
}

extension Measurement {
    public var usesEvaluator: Bool { false }

    /// Refuses fewer samples than the figures need, naming `flag`.
    public func check(samples: Int?, flag: String) throws {
        if let samples, samples < minimumSamples.count {
            throw ConfigurationError("\(flag) \(samples): \(minimumSamples.figures) at least \(minimumSamples.count) samples")
        }
    }
}

/// The figures of one evaluation, each kind present where the preset's measurement computes it.
public struct MeasuredScores: Sendable {
    public var modeCoverage: ModeCoverage?
    public var images: ImageScores?
    /// alphagan28's reconstructions of the test set.
    public var reconstruction: ReconstructionScores?
    /// The conditional presets' completions or colourings of the test set.
    public var completion: CompletionScores?
    public var colorization: ColorizationScores?
    /// An image-to-image preset's outputs for held-out pairs.
    public var paired: PairedScores?
    /// FID in the FID Inception's features, with `--inception`.
    public var inception: InceptionScores?

    public init() {}

    /// The figures logged during training, under their TensorBoard tags.
    public var scalars: [(tag: String, value: Double)] {
        [modeCoverage?.scalars, images?.scalars, inception?.scalars, reconstruction?.scalars, completion?.scalars, colorization?.scalars,
         paired?.scalars].compactMap { $0 }.flatMap { $0 }
    }

    /// The figures as the lines of a table.
    public var tableLines: [String] {
        [modeCoverage?.tableLines, images?.tableLines, inception?.tableLines, reconstruction?.tableLines, completion?.tableLines,
         colorization?.tableLines, paired?.tableLines]
            .compactMap { $0 }.flatMap { $0 }
    }
}

/// A generator to measure, with what else its measurements need, the same on every rank: a
/// checkpoint's networks for `launcher evaluate`, the live ones during training.
public struct EvaluationSubject {
    public let configuration: TrainingConfiguration
    public let step: Int
    /// The generator that samples, in evaluation mode: the moving average when there is one and it is wanted.
    public let generator: Layer
    /// The trained generator and, for alphagan28, the encoder: reconstructions are G(E(x)).
    public let trainedGenerator: Layer
    public let encoder: Layer?
    /// Samples to draw (test images to complete or colour, for the conditional presets).
    public let samples: Int
    /// The checkpoint measured, or the run directory during training; evaluations.jsonl goes beside it or into it.
    public let label: String
    /// The size of the generator's noise and the shape of one sample.
    public let latentSize: Int, sampleShape: [Int]
    /// Whole samples of `generator` from generator inputs, as its preset makes them (for
    /// completion28, each top half over its completed bottom).
    public let makeSamples: (Tensor) -> Tensor

    public init(configuration: TrainingConfiguration, step: Int, generator: Layer, trainedGenerator: Layer, encoder: Layer?,
                samples: Int, label: String, latentSize: Int, sampleShape: [Int], makeSamples: @escaping (Tensor) -> Tensor) {
        (self.configuration, self.step, self.generator, self.trainedGenerator) = (configuration, step, generator, trainedGenerator)
        (self.encoder, self.samples, self.label) = (encoder, samples, label)
        (self.latentSize, self.sampleShape, self.makeSamples) = (latentSize, sampleShape, makeSamples)
    }

    public var movingAverage: Bool { generator !== trainedGenerator }
    /// Every network it holds, to switch between training and evaluation mode.
    public var networks: [Layer] { [generator, trainedGenerator] + (encoder.map { [$0] } ?? []) }

    /// The generator's outputs for noise rows `rows` of the stream (seed, "evaluate", i), one
    /// call for the rows.
    public func generated(rows: Range<Int>, seed: UInt64) -> Tensor {
        generator(Variable(RandomStream.normalRows(seed: seed, purpose: .evaluate, keys: rows.map { [UInt64($0)] }, width: latentSize))).value
    }
}

/// Where a measurement runs: the ranks that share its work, and the files it measures against.
public struct MeasurementContext {
    public let world: Communicator
    /// The evaluator network's weights; nil to look in the usual places.
    public let evaluator: String?
    /// Reference images for image metrics; nil for the images held out of the evaluator's
    /// training, or Fashion-MNIST's test set.
    public let reference: String?

    public init(world: Communicator, evaluator: String? = nil, reference: String? = nil) {
        (self.world, self.evaluator, self.reference) = (world, evaluator, reference)
    }

    /// The evaluator network for images of `sampleShape`, loaded on every rank.
    public func loadEvaluator(for sampleShape: [Int]) throws -> EvaluatorNetwork {
        try world.agree { try EvaluatorNetwork.load(evaluator, for: sampleShape) }
    }

    /// The reference images' features in `evaluator`'s space, on every rank.
    public func referenceFeatures(_ evaluator: EvaluatorNetwork) throws -> Tensor {
        try world.agree { try ImageScores.referenceFeatures(reference, evaluator: evaluator) }
    }

    /// `transform` of samples `0..<count` from `source`, on every rank: each rank takes a contiguous
    /// share, transforms it in chunks of 500 (embeds images, say), and the results are gathered in
    /// order, one row of `[count, width]` per sample.
    public func gather(count: Int, sampleShape: [Int], transform: (Tensor) throws -> Tensor,
                       source: (Range<Int>) throws -> Tensor) throws -> Tensor {
        try world.agree {
            let share = (count + world.size - 1) / world.size
            let mine = min(count, world.rank * share)..<min(count, (world.rank + 1) * share)
            var rows: [Float] = []
            var width = try transform(Tensor(shape: [1] + sampleShape)).count
            for start in stride(from: mine.lowerBound, to: mine.upperBound, by: 500) {
                Watchdog.process?.progressed()
                let chunk = start..<min(start + 500, mine.upperBound)
                let transformed = try transform(try source(chunk))
                width = transformed.count / chunk.count
                rows += transformed.scalars
            }
            return Tensor(shape: [count, width], scalars: try world.allGather(varying: rows).flatMap { $0 })
        }
    }

    /// Rows of per-sample figures `[count, width]` computed by `rows` from chunks of samples.
    func gatherRows(count: Int, width: Int, _ rows: (Range<Int>) throws -> Tensor) throws -> Tensor {
        try gather(count: count, sampleShape: [width], transform: { $0 }, source: rows)
    }

    /// The evaluator's features, then class probabilities, of every image `[count, 64 + classes]`.
    func embedded(count: Int, sampleShape: [Int], evaluator: EvaluatorNetwork, source: (Range<Int>) throws -> Tensor) throws -> Tensor {
        try gather(count: count, sampleShape: sampleShape, transform: { samples in
            let (features, probabilities) = Classifier.embed(samples, with: evaluator.network)
            return Tensor.concatenate([features, probabilities], axis: 1)
        }, source: source)
    }
}
