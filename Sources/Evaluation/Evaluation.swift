import Checkpoints
import Datasets
import Distributed
import Foundation
import Metrics
import Models
import Training

/// `launcher evaluate`: measures a checkpoint's generator, splitting the sampling over the ranks.
///
/// Sample i comes from the noise stream (seed, "evaluate", i) and the generator runs in evaluation
/// mode, where each sample depends on its own noise alone; so any number of ranks draws the same
/// samples, and rank 0 computes the same numbers one rank would.
public struct Evaluation {
    public struct Request {
        /// The checkpoint whose generator to measure, or, with `images`, a label for the result.
        public var checkpoint: String
        /// Measure these real images (first `samples` of the file) instead of a generator: the floor
        /// a generator can reach against the reference.
        public var images: String?
        /// Samples to draw; nil for the metric's default.
        public var samples: Int?
        /// Seed of the noise; nil for the run's seed.
        public var seed: UInt64?
        /// Reference images for image metrics; nil for the images held out of the evaluator's
        /// training, or Fashion-MNIST's test set.
        public var reference: String?
        /// The evaluator network's weights; nil for the run's `--evaluator`, or else the usual places.
        public var evaluator: String?
        /// Measure the trained generator rather than its moving average (`/generator_ema`).
        public var rawGenerator = false
        /// The FID Inception's weights (safetensors): FID as papers report it, beside the evaluator's figures.
        public var inception: String?
        public init(checkpoint: String) { self.checkpoint = checkpoint }
    }

    let world: Communicator
    let request: Request

    public init(world: Communicator, request: Request) {
        self.world = world
        self.request = request
    }

    /// Where the measurements run, with the request's evaluator and reference.
    var context: MeasurementContext { MeasurementContext(world: world, evaluator: request.evaluator, reference: request.reference) }

    public func run() throws -> Result {
        if let path = request.images { return try measureImages(path) }
        // Each rank opens (and so verifies) the checkpoint once and builds its networks from it.
        Watchdog.process?.mark("reading the checkpoint to evaluate")
        let checkpoint = try world.agree { try CheckpointFile(path: request.checkpoint) }
        let configuration = checkpoint.configuration
        let measurement = configuration.measurement
        try world.agree { try measurement.check(samples: request.samples, flag: "--samples") }
        let samples = request.samples ?? measurement.defaultSamples.evaluate
        // The weights are checked before anything is measured, so a wrong file costs nothing.
        let inception = try request.inception.map { path in
            guard measurement is ImageMeasurement else {
                throw JobFailure("--inception: FID in the Inception's features measures the samples of the image presets that draw from noise "
                                 + "(dcgan28, alphagan28, dcgan, sngan); \(configuration.preset.rawValue) is measured against its targets")
            }
            return try world.agree { try InceptionFID(weights: path) }
        }
        let subject = try world.agree { try CheckpointNetworks.subject(of: checkpoint, raw: request.rawGenerator, samples: samples) }
        Watchdog.process?.mark("evaluating the generator")
        var result = try measure(subject, seed: request.seed ?? configuration.seed, measured: "generator")
        if let inception {
            Watchdog.process?.mark("measuring FID in the Inception's features")
            let seed = request.seed ?? configuration.seed
            result.inception = try inceptionScores(inception, count: samples, sampleShape: subject.sampleShape,
                                                   reference: request.reference ?? configuration.data ?? FashionMNIST.trainingImages) {
                subject.generated(rows: $0, seed: seed)
            }
        }
        Watchdog.process?.mark(world.rank == 0 ? "recording the evaluation" : "waiting for rank 0 to record the evaluation")
        _ = try world.onRoot {
            try Self.append(result, to: RunDirectory((request.checkpoint as NSString).deletingLastPathComponent).evaluationsPath)
            return ""
        }
        return result
    }

    /// What the preset measures of `subject`'s generator, its noise from `seed`; `measured` says
    /// what the result is of ("generator" for a checkpoint's, "training" for a live one's).
    func measure(_ subject: EvaluationSubject, seed: UInt64, measured: String) throws -> Result {
        let context = MeasurementContext(world: world, evaluator: request.evaluator ?? subject.configuration.evaluator, reference: request.reference)
        let scores = try subject.configuration.measurement.measure(subject, seed: seed, context: context)
        var result = Result(measured: measured, checkpoint: subject.label, step: subject.step, preset: subject.configuration.preset,
                            seed: seed, scores: scores)
        result.movingAverage = subject.movingAverage
        return result
    }

    /// FID between `count` images from `images` and every image of `reference`, in the pool3
    /// features of `inception`, each rank computing its share; the reference's statistics come
    /// from their cache once computed.
    func inceptionScores(_ inception: InceptionFID, count: Int, sampleShape: [Int], reference: String,
                         images: (Range<Int>) throws -> Tensor) throws -> InceptionScores {
        let real = try world.agree { () throws -> Dataset in
            let real = try Dataset.images(at: reference)
            guard [1, 3].contains(real.sampleShape[0]), [1, 3].contains(sampleShape[0]) else {
                throw ConfigurationError("--inception: the Inception sees gray or colour images; \(reference) holds \(real.sampleShape), the samples are \(sampleShape)")
            }
            return real
        }
        let statistics = try inception.referenceStatistics(of: real, at: reference, count: real.count, context: context)
        let features = try context.gather(count: count, sampleShape: sampleShape, transform: inception.features, source: images)
        let distance = try world.agree { try ImageMetrics.frechetDistance(ImageMetrics.Gaussian(features: features), statistics) }
        return InceptionScores(frechetDistance: distance, samples: count, reference: reference, referenceSamples: real.count, weights: inception.sha256)
    }

    /// Image metrics of real images in place of a generator's, in the features of an evaluator for their shape.
    private func measureImages(_ path: String) throws -> Result {
        Watchdog.process?.mark("measuring the images of \(path)")
        let dataset = try world.agree { try Dataset.images(at: path) }
        let inception = try request.inception.map { path in try world.agree { try InceptionFID(weights: path) } }
        let measurement = ImageMeasurement(sampleShape: dataset.sampleShape)
        let evaluator = try context.loadEvaluator(for: dataset.sampleShape)
        let count = min(request.samples ?? measurement.defaultSamples.evaluate, dataset.count)
        if count < measurement.minimumSamples.count {
            throw JobFailure("--images \(path): \(measurement.minimumSamples.figures) at least \(measurement.minimumSamples.count) samples, measuring \(count)")
        }
        var scores = MeasuredScores()
        scores.images = try measurement.scores(ofImages: { try dataset.batch($0) }, count: count, sampleShape: dataset.sampleShape,
                                               evaluator: evaluator, reference: try context.referenceFeatures(evaluator), context: context)
        if let inception {
            scores.inception = try inceptionScores(inception, count: count, sampleShape: dataset.sampleShape,
                                                   reference: request.reference ?? FashionMNIST.trainingImages) { try dataset.batch($0) }
        }
        return Result(measured: "images", checkpoint: path, step: 0, preset: nil, seed: 0, scores: scores)
    }
}
