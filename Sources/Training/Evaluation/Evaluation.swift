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
        public var checkpoint: String
        /// Samples to draw; nil for the metric's default.
        public var samples: Int?
        /// Seed of the noise; nil for the run's seed.
        public var seed: UInt64?
        public init(checkpoint: String) { self.checkpoint = checkpoint }
    }

    /// One evaluation, as printed with `--json` and appended to `<run-dir>/evaluations.jsonl`.
    public struct Result: Codable, Sendable {
        public let checkpoint: String
        public let step: Int
        public let preset: Preset
        public let seed: UInt64
        public let evaluated: String
        public let modeCoverage: ModeCoverage?
    }

    /// The fewest samples that make the 2-D figures meaningful: a few per mode.
    public static let minimumPointSamples = 100

    let world: Communicator
    let request: Request

    public init(world: Communicator, request: Request) {
        self.world = world
        self.request = request
    }

    public func run() throws -> Result {
        let description = try world.onRoot {
            let checkpoint = try CheckpointFile(path: request.checkpoint)
            guard checkpoint.configuration.preset.mixture != nil else {
                throw ConfigurationError("\(request.checkpoint): evaluating \(checkpoint.configuration.preset.rawValue) needs the image metrics "
                                         + "(FID, KID, precision and recall in an evaluator network's features), which this build does not have yet")
            }
            if let samples = request.samples, samples < Self.minimumPointSamples {
                throw ConfigurationError("--samples \(samples): mode coverage needs at least \(Self.minimumPointSamples) samples")
            }
            return try checkpoint.configuration.json()
        }
        let configuration = try TrainingConfiguration.fromJSON(description)
        let count = request.samples ?? 2500
        let seed = request.seed ?? configuration.seed
        let points = try world.agree { try drawSamples(count: count, seed: seed, latentSize: configuration.preset.latentSize) }
        let coverage = configuration.preset.mixture!.coverage(of: points)
        let step = Int(try world.onRoot { "\(try CheckpointFile(path: request.checkpoint).step)" })!
        let result = Result(checkpoint: request.checkpoint, step: step, preset: configuration.preset, seed: seed,
                            evaluated: ISO8601DateFormatter().string(from: Date()), modeCoverage: coverage)
        _ = try world.onRoot {
            try Self.append(result, to: ((request.checkpoint as NSString).deletingLastPathComponent as NSString)
                .appendingPathComponent("evaluations.jsonl"))
            return ""
        }
        return result
    }

    /// All `count` samples on every rank; each rank generates a contiguous share.
    private func drawSamples(count: Int, seed: UInt64, latentSize: Int) throws -> Tensor {
        let checkpoint = try CheckpointFile(path: request.checkpoint)
        var random = RandomStream(seed: checkpoint.configuration.seed, purpose: "init")
        let generator = checkpoint.configuration.preset.makeGenerator(random: &random)
        try checkpoint.restore(generator, from: "generator")
        generator.setTraining(false)
        let share = (count + world.size - 1) / world.size
        let mine = min(count, world.rank * share)..<min(count, (world.rank + 1) * share)
        var noise = [Float]()
        for index in mine {
            var stream = RandomStream(seed: seed, purpose: "evaluate", indices: [UInt64(index)])
            noise += stream.normal(count: latentSize)
        }
        var samples = mine.isEmpty ? [] : generator(Variable(Tensor(shape: [mine.count, latentSize], scalars: noise))).value.scalars
        let sampleSize = checkpoint.configuration.preset.sampleShape.reduce(1, *)
        samples += [Float](repeating: 0, count: (share - mine.count) * sampleSize)  // equal counts for the gather
        let gathered = try world.allGather(samples)
        var rows = [Float]()
        for rank in 0..<world.size {
            let start = rank * share
            let rowsOfRank = min(share, max(0, count - start))
            rows += gathered[(start * sampleSize)..<((start + rowsOfRank) * sampleSize)]
        }
        return Tensor(shape: [count] + checkpoint.configuration.preset.sampleShape, scalars: rows)
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
        var lines = ["\(result.preset.rawValue) at step \(result.step) (\(result.checkpoint)), seed \(result.seed)"]
        if let coverage = result.modeCoverage {
            lines += [
                "  samples              \(coverage.samples)",
                "  modes covered        \(coverage.modesCovered) of \(coverage.modes)",
                String(format: "  high quality         %.1f%%", coverage.highQualityPercent),
                "  reverse KL           " + (coverage.reverseKL.map { String(format: "%.4f", $0) } ?? "undefined (no high-quality sample)"),
            ]
        }
        return lines.joined(separator: "\n")
    }
}
