import Distributed
import Foundation
import Models

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
        let description = try world.onRoot {
            let checkpoint = try CheckpointFile(path: request.checkpoint)
            let preset = checkpoint.configuration.preset
            let minimum = preset.mixture == nil ? Self.minimumImageSamples : Self.minimumPointSamples
            if let samples = request.samples, samples < minimum {
                throw ConfigurationError("--samples \(samples): \(preset.mixture == nil ? "KID, precision and recall need" : "mode coverage needs") at least \(minimum) samples")
            }
            return try checkpoint.configuration.json()
        }
        let configuration = try TrainingConfiguration.fromJSON(description)
        let seed = request.seed ?? configuration.seed
        let step = try world.valueFromRoot { try CheckpointFile(path: request.checkpoint).step }
        var coverage: ModeCoverage?
        var images: ImageScores?
        if let mixture = configuration.preset.mixture {
            let count = request.samples ?? 2500
            let points = try world.agree { try gather(count: count, seed: seed) { $0 } }
            coverage = mixture.coverage(of: points)
        } else {
            let count = request.samples ?? 10_000
            let evaluator = try world.agree { try ImageScores.loadEvaluator(request.evaluator) }
            let embedded = try world.agree {
                try gather(count: count, seed: seed) { samples in
                    let (features, probabilities) = Classifier.embed(samples, with: evaluator.network)
                    return Tensor.concatenate([features, probabilities], axis: 1)
                }
            }
            images = try world.agree {
                let reference = try ImageScores.referenceFeatures(request.reference, evaluator: evaluator)
                return try ImageScores(embedded: embedded, reference: reference)
            }
        }
        let result = Result(measured: "generator", checkpoint: request.checkpoint, step: step, preset: configuration.preset, seed: seed,
                            evaluated: ISO8601DateFormatter().string(from: Date()), modeCoverage: coverage, images: images)
        _ = try world.onRoot {
            try Self.append(result, to: ((request.checkpoint as NSString).deletingLastPathComponent as NSString)
                .appendingPathComponent("evaluations.jsonl"))
            return ""
        }
        return result
    }

    /// `transform` of all `count` samples of the checkpoint's generator (sample i from noise stream
    /// (seed, "evaluate", i), evaluation mode), rows in sample order, on every rank.
    private func gather(count: Int, seed: UInt64, transform: (Tensor) throws -> Tensor) throws -> Tensor {
        let checkpoint = try CheckpointFile(path: request.checkpoint)
        let preset = checkpoint.configuration.preset
        var random = RandomStream(seed: checkpoint.configuration.seed, purpose: "init")
        let generator = preset.makeGenerator(random: &random)
        try checkpoint.restore(generator, from: "generator")
        generator.setTraining(false)
        return try gather(count: count, sampleShape: preset.sampleShape, transform: transform) { rows in
            var noise = [Float]()
            for index in rows {
                var stream = RandomStream(seed: seed, purpose: "evaluate", indices: [UInt64(index)])
                noise += stream.normal(count: preset.latentSize)
            }
            return generator(Variable(Tensor(shape: [rows.count, preset.latentSize], scalars: noise))).value
        }
    }

    /// `transform` of samples `0..<count` from `source`, on every rank: each rank takes a contiguous
    /// share, transforms it in chunks (embeds images, say), and the results are gathered in order.
    private func gather(count: Int, sampleShape: [Int], transform: (Tensor) throws -> Tensor,
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
        rows += [Float](repeating: 0, count: (share - mine.count) * width)  // equal counts for the gather
        let gathered = try world.allGather(rows)
        var ordered = [Float]()
        for rank in 0..<world.size {
            let start = rank * share
            ordered += gathered[(start * width)..<((start + min(share, max(0, count - start))) * width)]
        }
        return Tensor(shape: [count, width], scalars: ordered)
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
                     : "\(result.preset.rawValue) at step \(result.step) (\(result.checkpoint)), seed \(result.seed)"]
        if let coverage = result.modeCoverage {
            lines += [
                "  samples              \(coverage.samples)",
                "  modes covered        \(coverage.modesCovered) of \(coverage.modes)",
                String(format: "  high quality         %.1f%%", coverage.highQualityPercent),
                "  reverse KL           " + (coverage.reverseKL.map { String(format: "%.4f", $0) } ?? "undefined (no high-quality sample)"),
            ]
        }
        if let images = result.images { lines += images.tableLines }
        return lines.joined(separator: "\n")
    }
}
