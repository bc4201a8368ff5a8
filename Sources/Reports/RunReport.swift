import Checkpoints
import Datasets
import Foundation
import Training

/// `launcher report`: one self-contained HTML page of a run directory, from what the run wrote
/// (metrics.jsonl, its checkpoints, best.h5, the sample grids). Reads a running run as well as a
/// finished one: a half-written last line of metrics.jsonl is skipped.
public struct RunReport {
    public let directory: RunDirectory
    /// Each step's numbers from the step lines of metrics.jsonl; a resumed run's lines replace the
    /// stopped run's for the same step.
    let steps: [(step: Int, values: [String: Double])]
    /// Each evaluation's numbers, by their tags ("eval/FID"), the same way.
    let evaluations: [(step: Int, values: [String: Double])]
    /// The newest valid checkpoint's configuration, nil before the first checkpoint.
    let configuration: TrainingConfiguration?
    let best: BestCheckpoint?
    /// The sample grids, by step.
    let samples: [(step: Int, path: String)]

    /// Sample grids shown at most: evenly spaced over the run, the last always among them.
    static let maximumGrids = 16

    public init(directory path: String) throws {
        directory = RunDirectory(path)
        let metrics = directory.metricsPath
        guard let text = try? String(contentsOfFile: metrics, encoding: .utf8) else {
            throw ConfigurationError("\(path): no readable metrics.jsonl; expected the run directory of `launcher train`, which writes it from the first step")
        }
        var stepLines: [Int: [String: Double]] = [:], evaluationLines: [Int: [String: Double]] = [:]
        for line in text.split(separator: "\n") {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let step = object["step"] as? Int else { continue }
            let values = object.compactMapValues { ($0 as? NSNumber)?.doubleValue }.filter { $0.key != "step" }
            if values.keys.contains(where: { $0.hasPrefix("eval/") }) { evaluationLines[step] = values } else { stepLines[step] = values }
        }
        guard !stepLines.isEmpty else { throw ConfigurationError("\(metrics): no step recorded yet") }
        steps = stepLines.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        evaluations = evaluationLines.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        configuration = try? directory.newestValidCheckpoint().configuration
        best = (try? directory.best()) ?? nil
        samples = directory.sampleGrids()
    }

    /// Writes the page to `path`, whole or not at all.
    public func write(to path: String) throws {
        do { try AtomicFile.write(Array(html().utf8), to: path) } catch {
            throw ConfigurationError("--out \(path): cannot write the report (\(error))")
        }
    }

    public func html() -> String {
        let lastStep = steps.last!.step
        let title = "LearnedLoss run \((directory.path as NSString).lastPathComponent)"
        var page = """
            <!DOCTYPE html>
            <html><head><meta charset="utf-8"><title>\(HTML.escape(title))</title>
            <style>body{font-family:sans-serif;margin:24px;max-width:1100px}table{border-collapse:collapse}\
            td,th{border:1px solid #ccc;padding:2px 8px;text-align:left}h2{margin-top:28px}\
            figure{display:inline-block;margin:6px;text-align:center}img{image-rendering:pixelated;border:1px solid #ccc}</style>
            </head><body>
            <h1>\(HTML.escape(title))</h1>
            <p>\(HTML.escape(directory.path)): \(status(lastStep: lastStep)). Report written \(ISO8601DateFormatter().string(from: Date())).</p>
            """
        page += configurationSection()
        page += "<h2>Training</h2>" + trainingPlots().map { $0.render() }.joined(separator: "<br>")
        page += evaluationSection()
        page += samplesSection()
        page += timingSection()
        return page + "</body></html>\n"
    }

    private func status(lastStep: Int) -> String {
        guard let configuration else { return "step \(lastStep), no checkpoint yet" }
        return lastStep >= configuration.steps ? "finished at step \(lastStep) of \(configuration.steps)"
            : "at step \(lastStep) of \(configuration.steps) (still running, or stopped: resume with --resume auto)"
    }

    private func configurationSection() -> String {
        guard let configuration, let json = try? configuration.json(),
              let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else {
            return "<h2>Configuration</h2><p>No valid checkpoint yet; the configuration is stored in the first one.</p>"
        }
        let rows = object.sorted { $0.key < $1.key }.map { "<tr><th>\(HTML.escape($0.key))</th><td>\(HTML.escape("\($0.value)"))</td></tr>" }
        return "<h2>Configuration</h2><table>\(rows.joined())</table>"
    }

    /// One plot per kind of number: the losses, D's scores, the learning rates, the speed.
    func trainingPlots() -> [SVGPlot] {
        let tags = StepMetrics.tags
        let keys = Set(steps.flatMap(\.values.keys))
        func plot(_ title: String, _ wanted: (String) -> Bool) -> SVGPlot? {
            let chosen = keys.filter(wanted).sorted { (tags[$0] ?? $0) < (tags[$1] ?? $1) }
            guard !chosen.isEmpty else { return nil }
            return SVGPlot(title: title, series: chosen.map { key in
                SVGPlot.Series(name: tags[key] ?? key, points: steps.compactMap { entry in entry.values[key].map { (Double(entry.step), $0) } })
            })
        }
        return [plot("Losses") { tags[$0]?.hasPrefix("loss/") ?? false },
                plot("Discriminator's mean score of real and generated data") { $0 == "d_real" || $0 == "d_fake" },
                plot("Learning rates") { $0.hasPrefix("lr_") },
                plot("Images per second") { $0 == "images_per_second" }].compactMap { $0 }
    }

    /// One plot per evaluation figure, the best evaluation marked on its figure's plot.
    func evaluationPlots() -> [SVGPlot] {
        let keys = Set(evaluations.flatMap(\.values.keys)).filter { $0 != "eval/seconds" }.sorted()
        return keys.map { key in
            let name = String(key.dropFirst("eval/".count))
            var plot = SVGPlot(title: name, series: [SVGPlot.Series(name: name, points: evaluations.compactMap { entry in
                entry.values[key].map { (Double(entry.step), $0) } })])
            if let best, best.metric == name {
                plot.mark = (Double(best.step), best.value, "best: step \(best.step)")
            }
            return plot
        }
    }

    private func evaluationSection() -> String {
        guard !evaluations.isEmpty else {
            return "<h2>Evaluations</h2><p>None: train with <code>--eval-every N</code> to measure the generator during training.</p>"
        }
        var section = "<h2>Evaluations</h2>"
        if let best {
            section += "<p>Best so far: \(HTML.escape(best.metric)) \(SVGPlot.label(best.value)) at step \(best.step), kept as "
                + "<code>\(HTML.escape(directory.bestPath))</code>.</p>"
        }
        return section + evaluationPlots().map { $0.render() }.joined(separator: "<br>")
    }

    private func samplesSection() -> String {
        guard !samples.isEmpty else { return "<h2>Samples</h2><p>No sample grid yet.</p>" }
        let shown = samples.evenlySpaced(atMost: Self.maximumGrids)
        let figures = shown.compactMap { sample -> String? in
            guard let data = FileManager.default.contents(atPath: sample.path) else { return nil }
            return "<figure><img alt=\"samples at step \(sample.step)\" src=\"data:image/png;base64,\(data.base64EncodedString())\">"
                + "<figcaption>step \(sample.step)</figcaption></figure>"
        }
        let note = shown.count < samples.count ? "<p>Showing \(shown.count) of \(samples.count) grids, evenly spaced.</p>" : ""
        return "<h2>Samples</h2>\(note)" + figures.joined()
    }

    private func timingSection() -> String {
        var rows: [(String, String)] = [("steps recorded", "\(steps.count) (steps \(steps.first!.step) to \(steps.last!.step))")]
        let rates = steps.suffix(100).compactMap { $0.values["images_per_second"] }.sorted()
        if !rates.isEmpty { rows.append(("images per second (median of the last \(rates.count) steps)", String(format: "%.0f", rates[rates.count / 2]))) }
        let trainingSeconds = configuration.map { configuration in
            steps.compactMap { $0.values["images_per_second"] }.reduce(0.0) { $0 + Double(configuration.batchSize * configuration.discriminatorSteps) / $1 }
        }
        if let trainingSeconds { rows.append(("training time (from the step rates)", String(format: "%.1f s", trainingSeconds))) }
        let evaluationSeconds = evaluations.compactMap { $0.values["eval/seconds"] }
        if !evaluationSeconds.isEmpty {
            let total = evaluationSeconds.reduce(0, +)
            var text = String(format: "%d, %.1f s each", evaluationSeconds.count, total / Double(evaluationSeconds.count))
            if let trainingSeconds { text += String(format: ", %.1f%% of training and evaluation", 100 * total / (total + trainingSeconds)) }
            rows.append(("evaluations", text))
        }
        for checkpoint in directory.checkpoints() {
            let size = (try? FileManager.default.attributesOfItem(atPath: checkpoint.path)[.size] as? Int) ?? 0
            rows.append(("checkpoint", String(format: "%@ (%.1f MB)", (checkpoint.path as NSString).lastPathComponent, Double(size) / 1e6)))
        }
        return "<h2>Timing and files</h2><table>" + rows.map { "<tr><th>\(HTML.escape($0.0))</th><td>\(HTML.escape($0.1))</td></tr>" }.joined() + "</table>"
    }
}
