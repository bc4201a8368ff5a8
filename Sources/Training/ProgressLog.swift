import Checkpoints
import Datasets
import Distributed
import Foundation
import TensorBoard

/// What rank 0 shows and records while training: one progress line (redrawn in place on a
/// terminal, a plain line every few seconds otherwise), one JSON line per step and per
/// evaluation in metrics.jsonl, and the same figures with the sample grids in a TensorBoard event file.
final class ProgressLog {
    private let metrics: FileHandle?
    private let events: EventFile?
    private let print: (String) -> Void
    /// mpirun gives ranks a pseudo-terminal whatever the user's output is, so under a launcher
    /// the line is never redrawn in place.
    private let terminal = isatty(STDOUT_FILENO) != 0 && MPIRuntime.launchRank == nil
    private let interval: TimeInterval
    private var lastShown = Date.distantPast
    private let started = Date()
    private let firstStep: Int

    /// - Parameters:
    ///   - directory: the run directory on rank 0, nil on the other ranks. metrics.jsonl there is
    ///     appended to (a resumed run continues it, and its lines for a step replace earlier ones).
    ///   - tensorboard: whether to start an event file there; a resumed run's new file first marks
    ///     a restart at `firstStep + 1`, so TensorBoard drops what the stopped run logged after its checkpoint.
    init(directory: RunDirectory?, tensorboard: Bool, firstStep: Int, interval: TimeInterval = 5, print: @escaping (String) -> Void) throws {
        if let directory {
            let path = directory.metricsPath
            if !FileManager.default.fileExists(atPath: path) {
                guard FileManager.default.createFile(atPath: path, contents: nil) else {
                    throw ConfigurationError("\(path): cannot create the metrics log")
                }
            }
            metrics = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
            try metrics?.seekToEnd()
            events = tensorboard ? try EventFile(directory: directory.path) : nil
            if firstStep > 0 { try events?.restart(at: firstStep + 1) }
        } else {
            (metrics, events) = (nil, nil)
        }
        (self.firstStep, self.interval, self.print) = (firstStep, interval, print)
    }

    func record(step: Int, of total: Int, metrics values: StepMetrics, imagesPerSecond: Double,
                learningRates: (generator: Float, discriminator: Float)) throws {
        guard let metrics else { return }
        let fields = values.present
        let line = "{\"step\":\(step)," + fields.map { String(format: "\"%@\":%.6g,", $0.key, $0.value) }.joined()
            + String(format: "\"lr_g\":%.6g,\"lr_d\":%.6g,\"images_per_second\":%.2f}\n",
                     learningRates.generator, learningRates.discriminator, imagesPerSecond)
        metrics.write(Data(line.utf8))
        let tags = StepMetrics.tags
        try events?.scalars(fields.map { ($0.tag, Double($0.value)) } + [(tags["lr_g"]!, Double(learningRates.generator)),
                            (tags["lr_d"]!, Double(learningRates.discriminator)), (tags["images_per_second"]!, imagesPerSecond)], step: step)

        let now = Date()
        guard step == total || now.timeIntervalSince(lastShown) >= (terminal ? 0.25 : interval) else { return }
        lastShown = now
        let done = Double(step - firstStep), left = Double(total - step)
        let eta = done > 0 ? now.timeIntervalSince(started) / done * left : 0
        let text = "step \(step)/\(total)  " + fields.map { String(format: "%@ %.4f  ", $0.label, $0.value) }.joined()
            + String(format: "%.0f images/s  ETA %@", imagesPerSecond, Self.duration(eta))
        show(text, ending: step == total)
    }

    /// An evaluation during training: its figures and its cost in seconds, in metrics.jsonl under
    /// their TensorBoard tags ("eval/FID").
    func recordEvaluation(_ scores: EvaluationDuringTraining.Scores, step: Int, seconds: Double, isBest: Bool) throws {
        guard let metrics else { return }
        let values = scores.scalars + [("eval/seconds", seconds)]
        let fields = values.map { String(format: "\"%@\":%.6g", $0.tag, $0.value) }.joined(separator: ",")
        metrics.write(Data("{\"step\":\(step),\(fields)}\n".utf8))
        try events?.scalars(values, step: step)
        show(String(format: "step %d: %@ %.4g%@ (evaluated in %.1f s)", step, scores.best.metric, scores.best.value,
                    isBest ? ", the best so far: best.h5" : "", seconds), ending: true)
    }

    /// A sample grid, as a TensorBoard image.
    func recordSamples(_ grid: Picture, step: Int) throws {
        try events?.image(png: grid.pngBytes(), width: grid.width, height: grid.height, channels: grid.channels, tag: "samples", step: step)
    }

    private func show(_ text: String, ending: Bool) {
        if terminal {
            FileHandle.standardOutput.write(Data("\r\u{1B}[K\(text)\(ending ? "\n" : "")".utf8))
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
