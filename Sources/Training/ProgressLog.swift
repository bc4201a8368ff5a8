import Checkpoints
import Distributed
import Foundation

/// What rank 0 shows and records while training: one progress line (redrawn in place on a
/// terminal, a plain line every few seconds otherwise) and one JSON line per step in metrics.jsonl.
final class ProgressLog {
    private let metrics: FileHandle?
    private let print: (String) -> Void
    /// mpirun gives ranks a pseudo-terminal whatever the user's output is, so under a launcher
    /// the line is never redrawn in place.
    private let terminal = isatty(STDOUT_FILENO) != 0 && MPIRuntime.launchRank == nil
    private let interval: TimeInterval
    private var lastShown = Date.distantPast
    private let started = Date()
    private let firstStep: Int

    /// - Parameters:
    ///   - metricsPath: the JSON-lines file, appended to (a resumed run continues it); nil on ranks other than 0.
    init(metricsPath: String?, firstStep: Int, interval: TimeInterval = 5, print: @escaping (String) -> Void) throws {
        if let metricsPath {
            if !FileManager.default.fileExists(atPath: metricsPath) {
                guard FileManager.default.createFile(atPath: metricsPath, contents: nil) else {
                    throw ConfigurationError("\(metricsPath): cannot create the metrics log")
                }
            }
            metrics = try FileHandle(forWritingTo: URL(fileURLWithPath: metricsPath))
            try metrics?.seekToEnd()
        } else {
            metrics = nil
        }
        (self.firstStep, self.interval, self.print) = (firstStep, interval, print)
    }

    func record(step: Int, of total: Int, metrics values: StepMetrics, imagesPerSecond: Double,
                learningRates: (generator: Float, discriminator: Float)) {
        guard let metrics else { return }
        let fields = values.present
        let line = "{\"step\":\(step)," + fields.map { String(format: "\"%@\":%.6g,", $0.key, $0.value) }.joined()
            + String(format: "\"lr_g\":%.6g,\"lr_d\":%.6g,\"images_per_second\":%.2f}\n",
                     learningRates.generator, learningRates.discriminator, imagesPerSecond)
        metrics.write(Data(line.utf8))

        let now = Date()
        guard step == total || now.timeIntervalSince(lastShown) >= (terminal ? 0.25 : interval) else { return }
        lastShown = now
        let done = Double(step - firstStep), left = Double(total - step)
        let eta = done > 0 ? now.timeIntervalSince(started) / done * left : 0
        let text = "step \(step)/\(total)  " + fields.map { String(format: "%@ %.4f  ", $0.label, $0.value) }.joined()
            + String(format: "%.0f images/s  ETA %@", imagesPerSecond, Self.duration(eta))
        if terminal {
            FileHandle.standardOutput.write(Data("\r\u{1B}[K\(text)\(step == total ? "\n" : "")".utf8))
        } else {
            print(text)
        }
    }

    static func duration(_ seconds: TimeInterval) -> String {
        let whole = Int(seconds.rounded())
        return whole >= 3600 ? "\(whole / 3600)h\(String(format: "%02d", whole / 60 % 60))m"
            : whole >= 60 ? "\(whole / 60)m\(String(format: "%02d", whole % 60))s" : "\(whole)s"
    }
}
