import Checkpoints
import Foundation
import Metrics

extension Evaluation {
    /// One evaluation, as printed with `--json` and appended to `<run-dir>/evaluations.jsonl`.
    public struct Result: Codable, Sendable {
        /// "generator" for a checkpoint's samples, "images" for real images measured with --images.
        public let measured: String
        public let checkpoint: String
        public let step: Int
        /// The checkpoint's preset; nil for real images.
        public let preset: Preset?
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
        /// pix2pix's outputs for its held-out pairs.
        public var paired: PairedScores? = nil
        /// FID in the FID Inception's features (`--inception`), with the weights' SHA-256.
        public var inception: InceptionScores? = nil
        /// Whether the generator measured was the moving average (`/generator_ema`); nil for real images.
        public var movingAverage: Bool? = nil
    }
}

extension Evaluation.Result {
    init(measured: String, checkpoint: String, step: Int, preset: Preset?, seed: UInt64, scores: MeasuredScores) {
        (self.measured, self.checkpoint, self.step, self.preset, self.seed) = (measured, checkpoint, step, preset, seed)
        evaluated = ISO8601DateFormatter().string(from: Date())
        (modeCoverage, images, reconstruction, completion, colorization) = (scores.modeCoverage, scores.images, scores.reconstruction,
                                                                             scores.completion, scores.colorization)
        (paired, inception) = (scores.paired, scores.inception)
    }

    /// The figures measured, by kind.
    var scores: MeasuredScores {
        var scores = MeasuredScores()
        (scores.modeCoverage, scores.images, scores.reconstruction, scores.completion, scores.colorization) = (modeCoverage, images, reconstruction,
                                                                                                               completion, colorization)
        (scores.paired, scores.inception) = (paired, inception)
        return scores
    }
}

extension Evaluation {
    /// Appends `result` as one JSON line to `path` (a run's evaluations.jsonl).
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
        var title = "real images \(result.checkpoint)"
        if let preset = result.preset {
            let generator = result.movingAverage == true ? ", generator average" : result.movingAverage == false ? ", trained generator" : ""
            title = "\(preset.rawValue) at step \(result.step) (\(result.checkpoint)), seed \(result.seed)\(generator)"
        }
        return ([title] + result.scores.tableLines).joined(separator: "\n")
    }
}
