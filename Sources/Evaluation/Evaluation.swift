import Checkpoints
import Datasets
import Distributed
import Foundation
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
        /// Reference images for image metrics; nil for Fashion-MNIST's test set.
        public var reference: String?
        /// The evaluator network's weights; nil to look in the usual places.
        public var evaluator: String?
        /// Measure the trained generator rather than its moving average (`/generator_ema`).
        public var rawGenerator = false
        public init(checkpoint: String) { self.checkpoint = checkpoint }
    }

    /// One evaluation, as printed with `--json` and appended to `<run-dir>/evaluations.jsonl`.
    public struct Result: Codable, Sendable {
        /// "generator" for a checkpoint's samples, "images" for real images measured with --images.
        public let measured: String
        public let checkpoint: String
        public let step: Int
        public let preset: Preset
        public let seed: UInt64
        public let evaluated: String
        public let modeCoverage: ModeCoverage?
        public let images: ImageScores?
        /// alphagan28's reconstructions of the test set.
        public var reconstruction: ReconstructionScores? = nil
        /// completion28's completions of the test set (no sample metrics: it has no unconditional samples).
        public var completion: CompletionScores? = nil
        /// colorize28's colourings of the test set.
        public var colorization: ColorizationScores? = nil
        /// Whether the generator measured was the moving average (`/generator_ema`); nil for real images.
        public var movingAverage: Bool? = nil
    }

    /// The fewest samples that make the 2-D figures meaningful: a few per mode.
    public static let minimumPointSamples = 100
    /// The fewest samples for KID's subsets and precision and recall's neighbourhoods to mean anything.
    public static let minimumImageSamples = 200

    let world: Communicator
    let request: Request

    public init(world: Communicator, request: Request) {
        self.world = world
        self.request = request
    }

    public func run() throws -> Result {
        if let path = request.images { return try measureImages(path) }
        // Each rank opens (and so verifies) the checkpoint once and builds its networks from it.
        let checkpoint = try world.agree { try CheckpointFile(path: request.checkpoint) }
        let configuration = checkpoint.configuration
        try world.agree {
            let minimum = configuration.preset.mixture == nil ? Self.minimumImageSamples : Self.minimumPointSamples
            if let samples = request.samples, samples < minimum {
                throw ConfigurationError("--samples \(samples): \(configuration.preset.mixture == nil ? "KID, precision and recall need" : "mode coverage needs") at least \(minimum) samples")
            }
        }
        let samples = request.samples ?? (configuration.preset.mixture == nil ? 10_000 : 2500)
        let subject = try world.agree { try CheckpointNetworks.subject(of: checkpoint, raw: request.rawGenerator, samples: samples) }
        let result = try measure(subject, seed: request.seed ?? configuration.seed, measured: "generator")
        _ = try world.onRoot {
            try Self.append(result, to: RunDirectory((request.checkpoint as NSString).deletingLastPathComponent).evaluationsPath)
            return ""
        }
        return result
    }

    /// What the preset measures of `subject`'s generator, its noise from `seed`; `measured` says
    /// what the result is of ("generator" for a checkpoint's, "training" for a live one's).
    func measure(_ subject: EvaluationSubject, seed: UInt64, measured: String) throws -> Result {
        let count = subject.samples
        var coverage: ModeCoverage?
        var images: ImageScores?
        var reconstruction: ReconstructionScores?
        var completion: CompletionScores?
        var colorization: ColorizationScores?
        switch subject.configuration.preset.measurement {
        case .modeCoverage(let mixture):
            let points = try world.agree { try gather(count: count, seed: seed, from: subject) { $0 } }
            coverage = mixture.coverage(of: points)
        case .completions:
            completion = try measureCompletions(count: count, seed: seed, from: subject)
        case .colorizations:
            colorization = try measureColorizations(count: count, seed: seed, from: subject)
        case .images(let measuresReconstructions):
            let evaluator = try world.agree { try ImageScores.loadEvaluator(request.evaluator) }
            let embedded = try world.agree {
                try gather(count: count, seed: seed, from: subject) { samples in
                    let (features, probabilities) = Classifier.embed(samples, with: evaluator.network)
                    return Tensor.concatenate([features, probabilities], axis: 1)
                }
            }
            images = try world.agree {
                let reference = try ImageScores.referenceFeatures(request.reference, evaluator: evaluator)
                return try ImageScores(embedded: embedded, reference: reference)
            }
            if measuresReconstructions {
                reconstruction = try measureReconstructions(count: count, evaluator: evaluator, from: subject)
            }
        }
        var result = Result(measured: measured, checkpoint: subject.label, step: subject.step, preset: subject.configuration.preset, seed: seed,
                            evaluated: ISO8601DateFormatter().string(from: Date()), modeCoverage: coverage, images: images)
        (result.reconstruction, result.completion, result.colorization) = (reconstruction, completion, colorization)
        result.movingAverage = subject.movingAverage
        return result
    }

    /// `transform` of all `count` samples of the subject's generator (sample i from noise stream
    /// (seed, "evaluate", i), evaluation mode), rows in sample order, on every rank.
    private func gather(count: Int, seed: UInt64, from subject: EvaluationSubject, transform: (Tensor) throws -> Tensor) throws -> Tensor {
        let (preset, generator) = (subject.configuration.preset, subject.generator)
        return try gather(count: count, sampleShape: preset.sampleShape, transform: transform) { rows in
            generator(Variable(RandomStream.normalRows(seed: seed, purpose: .evaluate, keys: rows.map { [UInt64($0)] },
                                                       width: preset.latentSize))).value
        }
    }

    /// `transform` of samples `0..<count` from `source`, on every rank: each rank takes a contiguous
    /// share, transforms it in chunks (embeds images, say), and the results are gathered in order.
    func gather(count: Int, sampleShape: [Int], transform: (Tensor) throws -> Tensor,
                        source: (Range<Int>) throws -> Tensor) throws -> Tensor {
        let share = (count + world.size - 1) / world.size
        let mine = min(count, world.rank * share)..<min(count, (world.rank + 1) * share)
        var rows: [Float] = []
        var width = try transform(Tensor(shape: [1] + sampleShape)).count
        for start in stride(from: mine.lowerBound, to: mine.upperBound, by: 500) {
            let chunk = start..<min(start + 500, mine.upperBound)
            let transformed = try transform(try source(chunk))
            width = transformed.count / chunk.count
            rows += transformed.scalars
        }
        return Tensor(shape: [count, width], scalars: try world.allGather(varying: rows).flatMap { $0 })
    }

    /// alphagan28: G(E(x)) of the first `count` test images (at most all of them), their mean L1 to
    /// the images and the FID of the reconstructions against the reference.
    private func measureReconstructions(count requested: Int, evaluator: ImageScores.Evaluator,
                                        from subject: EvaluationSubject) throws -> ReconstructionScores {
        guard let encoder = subject.encoder else { preconditionFailure("a preset that measures reconstructions has an encoder") }
        let generator = subject.trainedGenerator
        let test = try world.agree { try CheckpointNetworks.testImages(for: "reconstructions") }
        let count = min(requested, test.count)
        // Each row: the reconstruction's features, then its mean absolute difference to the image.
        let rows = try world.agree {
            try gather(count: count, sampleShape: [Classifier.featureSize + 1], transform: { $0 }) { range in
                let images = test.batch(range)
                let reconstructions = CheckpointNetworks.reconstruct(images, encoder: encoder, generator: generator)
                let features = Classifier.embed(reconstructions, with: evaluator.network).features
                let size = images.count / range.count
                let l1 = (0..<range.count).map { row in
                    (row * size..<(row + 1) * size).reduce(Float(0)) { $0 + abs(images.scalars[$1] - reconstructions.scalars[$1]) } / Float(size)
                }
                return Tensor.concatenate([features, Tensor(shape: [range.count, 1], scalars: l1)], axis: 1)
            }
        }
        return try world.agree {
            let reference = try ImageScores.referenceFeatures(request.reference, evaluator: evaluator)
            let features = rows.slice(0..<Classifier.featureSize, axis: 1)
            let l1 = rows.slice(Classifier.featureSize..<Classifier.featureSize + 1, axis: 1).scalars.reduce(0.0) { $0 + Double($1) } / Double(count)
            let distance = try ImageMetrics.frechetDistance(ImageMetrics.Gaussian(features: features), ImageMetrics.Gaussian(features: reference))
            return ReconstructionScores(samples: count, l1: l1, frechetDistance: distance)
        }
    }

    /// Top halves each completed per test image, for diversity.
    static let completionsPerTop = 8
    /// Test images whose tops are completed `completionsPerTop` times for the diversity figure.
    static let diversityTops = 1000

    /// completion28: completes the top halves of the first `count` test images (completion i from
    /// noise stream (seed, "evaluate", i)) and measures the completions.
    /// What each completion's row holds after its features, in this order.
    private enum CompletionColumn: Int, CaseIterable {
        /// The evaluator's confidence in the completed image and in the real one.
        case confidence, realConfidence
        /// The completed bottom's mean absolute and squared difference to the real one.
        case l1, l2
        /// The gradient magnitudes of the completed and the real bottom.
        case sharpness, realSharpness
        /// The spread of the top's other completions (0 beyond the first `diversityTops`).
        case diversity
    }

    private func measureCompletions(count requested: Int, seed: UInt64, from subject: EvaluationSubject) throws -> CompletionScores {
        let (preset, generator) = (subject.configuration.preset, subject.generator)
        let evaluator = try world.agree { try ImageScores.loadEvaluator(request.evaluator) }
        let test = try world.agree { try CheckpointNetworks.testImages(for: "completions") }
        let count = min(requested, test.count)
        let diversityTops = min(Self.diversityTops, count)
        let features = Classifier.featureSize
        func noise(_ purpose: RandomPurpose, _ indices: [Int]) -> Tensor {
            RandomStream.normalRows(seed: seed, purpose: purpose, keys: indices.map { [UInt64($0)] }, width: Completion28.noiseSize)
        }
        // Each row: the completed image's features, then its `CompletionColumn`s.
        let width = features + CompletionColumn.allCases.count
        let rows = try world.agree {
            try gather(count: count, sampleShape: [width], transform: { $0 }) { range in
                let images = test.batch(range)
                let (top, bottom) = Completion28.halves(of: images)
                let generated = preset.samples(of: generator, input: Completion28.generatorInput(top: top, noise: noise(.evaluate, Array(range))))
                let completed = Completion28.halves(of: generated).bottom
                let (completedFeatures, completedProbabilities) = Classifier.embed(generated, with: evaluator.network)
                let realProbabilities = Classifier.embed(images, with: evaluator.network).probabilities
                // The diversity completions of this chunk's first tops in one batch: top t's k-th
                // completion is row t·K + k, from noise stream (seed, "diversity", index·K + k).
                let perTop = Self.completionsPerTop
                let diverse = range.lowerBound..<max(range.lowerBound, min(range.upperBound, diversityTops))
                let repeatedTops = Completion28.halves(of: test.batch(diverse.flatMap { Array(repeating: $0, count: perTop) })).top
                let variants = diverse.isEmpty ? nil : Completion28.halves(of: preset.samples(
                    of: generator, input: Completion28.generatorInput(top: repeatedTops, noise: noise(.diversity, diverse.flatMap { i in (0..<perTop).map { i * perTop + $0 } })))).bottom
                var scalars: [Float] = []
                for (row, index) in range.enumerated() {
                    let one = row..<row + 1
                    let (fake, real) = (completed.slice(one, axis: 0), bottom.slice(one, axis: 0))
                    let difference = fake - real
                    let diversity = index < diversityTops ? CompletionMetrics.diversity(variants!.slice(row * perTop..<(row + 1) * perTop, axis: 0)) : 0
                    let measured: [CompletionColumn: Float] = [
                        .confidence: Float(CompletionMetrics.confidence(completedProbabilities.slice(one, axis: 0))),
                        .realConfidence: Float(CompletionMetrics.confidence(realProbabilities.slice(one, axis: 0))),
                        .l1: difference.map { abs($0) }.mean(), .l2: (difference * difference).mean(),
                        .sharpness: Float(CompletionMetrics.gradientMagnitude(fake)), .realSharpness: Float(CompletionMetrics.gradientMagnitude(real)),
                        .diversity: Float(diversity),
                    ]
                    scalars += completedFeatures.slice(one, axis: 0).scalars + CompletionColumn.allCases.map { measured[$0]! }
                }
                return Tensor(shape: [range.count, width], scalars: scalars)
            }
        }
        return try world.agree {
            let reference = try ImageScores.referenceFeatures(request.reference, evaluator: evaluator)
            func mean(_ column: CompletionColumn, over n: Int = count) -> Double {
                (0..<n).reduce(0.0) { $0 + Double(rows.scalars[$1 * width + features + column.rawValue]) } / Double(n)
            }
            let distance = try ImageMetrics.frechetDistance(ImageMetrics.Gaussian(features: rows.slice(0..<features, axis: 1)),
                                                            ImageMetrics.Gaussian(features: reference))
            return CompletionScores(samples: count, diversity: mean(.diversity, over: diversityTops), diversityTops: diversityTops,
                                    completionsPerTop: Self.completionsPerTop, sharpness: mean(.sharpness) / max(mean(.realSharpness), 1e-12),
                                    frechetDistance: distance, confidence: mean(.confidence), realConfidence: mean(.realConfidence),
                                    l1: mean(.l1), l2: mean(.l2))
        }
    }

    /// Image metrics of real images in place of a generator's.
    private func measureImages(_ path: String) throws -> Result {
        let evaluator = try world.agree { try ImageScores.loadEvaluator(request.evaluator) }
        let dataset = try world.agree { () throws -> Dataset in
            let dataset = try Dataset.images(at: path)
            try dataset.require(sampleShape: DCGAN28.imageShape, for: "--images")
            return dataset
        }
        let count = min(request.samples ?? 10_000, dataset.count)
        if count < Self.minimumImageSamples {
            throw JobFailure("--images \(path): KID, precision and recall need at least \(Self.minimumImageSamples) samples, measuring \(count)")
        }
        let embedded = try world.agree {
            try gather(count: count, sampleShape: DCGAN28.imageShape, transform: { samples in
                let (features, probabilities) = Classifier.embed(samples, with: evaluator.network)
                return Tensor.concatenate([features, probabilities], axis: 1)
            }, source: { dataset.batch($0) })
        }
        let scores = try world.agree { try ImageScores(embedded: embedded, reference: try ImageScores.referenceFeatures(request.reference, evaluator: evaluator)) }
        return Result(measured: "images", checkpoint: path, step: 0, preset: .dcgan28, seed: 0, evaluated: ISO8601DateFormatter().string(from: Date()),
                      modeCoverage: nil, images: scores)
    }

    static func append(_ result: Result, to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let line = String(decoding: try encoder.encode(result), as: UTF8.self) + "\n"
        if !FileManager.default.fileExists(atPath: path) {
            guard FileManager.default.createFile(atPath: path, contents: nil) else { throw ConfigurationError("\(path): cannot create the evaluations log") }
        }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        try handle.seekToEnd()
        handle.write(Data(line.utf8))
    }

    /// The result as a small table.
    public static func table(_ result: Result) -> String {
        var lines = [result.measured == "images" ? "real images \(result.checkpoint)"
                     : "\(result.preset.rawValue) at step \(result.step) (\(result.checkpoint)), seed \(result.seed)"
                       + (result.movingAverage == true ? ", generator average" : result.movingAverage == false ? ", trained generator" : "")]
        if let coverage = result.modeCoverage {
            lines += [
                "  samples              \(coverage.samples)",
                "  modes covered        \(coverage.modesCovered) of \(coverage.modes)",
                String(format: "  high quality         %.1f%%", coverage.highQualityPercent),
                "  reverse KL           " + (coverage.reverseKL.map { String(format: "%.4f", $0) } ?? "undefined (no high-quality sample)"),
            ]
        }
        if let images = result.images { lines += images.tableLines }
        if let reconstruction = result.reconstruction { lines += reconstruction.tableLines }
        if let completion = result.completion { lines += completion.tableLines }
        if let colorization = result.colorization { lines += colorization.tableLines }
        return lines.joined(separator: "\n")
    }
}
