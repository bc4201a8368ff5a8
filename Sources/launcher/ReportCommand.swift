import ArgumentParser
import Foundation
import Reports

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Draw a run directory on one self-contained HTML page.",
        discussion: """
            The run's configuration, its loss, score, learning-rate and speed curves over steps, the \
            evaluation curves of --eval-every with the best step marked, the sample grids over time and a \
            timing summary: inline SVG and PNG, no script and nothing fetched. Works while the run is \
            still going.

              launcher report checkpoints/fashion
              launcher report checkpoints/fashion --out fashion.html
            """
    )

    @Argument(help: ArgumentHelp("The run directory (--run-dir of launcher train).", valueName: "run-dir"))
    var runDirectory: String

    @Option(help: ArgumentHelp("The page to write (default RUN_DIR/report.html).", valueName: "file.html"))
    var out: String?

    func run() throws {
        let path = out ?? (runDirectory as NSString).appendingPathComponent("report.html")
        try RunReport(directory: runDirectory).write(to: path)
        print("wrote \(path)")
    }
}
