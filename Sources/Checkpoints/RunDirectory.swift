import Foundation

/// A run's folder: its checkpoints, sample grids and metrics log.
public struct RunDirectory {
    public let path: String

    public init(_ path: String) { self.path = path }

    public func create() throws {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw ConfigurationError("--run-dir \(path): cannot create the directory (\(error.localizedDescription))")
        }
        guard FileManager.default.isWritableFile(atPath: path) else { throw ConfigurationError("--run-dir \(path): not writable") }
    }

    public func checkpointPath(step: Int) -> String { (path as NSString).appendingPathComponent(CheckpointFormat.fileName(step: step)) }
    public func samplesPath(step: Int) -> String {
        (path as NSString).appendingPathComponent("samples-" + CheckpointFormat.fileName(step: step).dropFirst("checkpoint-".count).dropLast(3) + ".png")
    }
    public var metricsPath: String { (path as NSString).appendingPathComponent("metrics.jsonl") }
    public var evaluationsPath: String { (path as NSString).appendingPathComponent("evaluations.jsonl") }
    /// The file a job holds locked while it trains here (`RunLock`).
    public var lockPath: String { (path as NSString).appendingPathComponent(".lock") }
    /// The checkpoint of the best evaluation during training so far; never pruned.
    public var bestPath: String { (path as NSString).appendingPathComponent("best.h5") }

    /// Checkpoint files by step, oldest first.
    public func checkpoints() -> [(step: Int, path: String)] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        return names.compactMap { name in CheckpointFormat.step(inFileName: name).map { ($0, (path as NSString).appendingPathComponent(name)) } }
            .sorted { $0.step < $1.step }
    }

    /// The newest checkpoint that opens as ours and whose checksums all match; newer unreadable
    /// or damaged ones are reported through `skipped`.
    public func newestValidCheckpoint(skipped: (String) -> Void = { _ in }) throws -> CheckpointFile {
        for candidate in checkpoints().reversed() {
            do { return try CheckpointFile(path: candidate.path) } catch { skipped("skipping \(candidate.path): \(error)") }
        }
        throw CheckpointError("--resume auto: no valid checkpoint in \(path)")
    }

    /// Sample grid files by step, oldest first.
    public func sampleGrids() -> [(step: Int, path: String)] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        return names.compactMap { name in
            guard name.hasPrefix("samples-"), name.hasSuffix(".png"), let step = Int(name.dropFirst("samples-".count).dropLast(4)) else { return nil }
            return (step, (path as NSString).appendingPathComponent(name))
        }.sorted { $0.step < $1.step }
    }

    /// The marks of best.h5, nil when there is none; throws when it cannot be read.
    public func best() throws -> BestCheckpoint? {
        guard FileManager.default.fileExists(atPath: bestPath) else { return nil }
        return try BestCheckpoint(of: CheckpointFile(path: bestPath))
    }

    /// Deletes all but the newest `keep` checkpoints up to `step`, the one just written; a
    /// checkpoint of a later step is not this run's to delete.
    public func prune(keep: Int, through step: Int) {
        for old in checkpoints().filter({ $0.step <= step }).dropLast(keep) { try? FileManager.default.removeItem(atPath: old.path) }
    }
}
