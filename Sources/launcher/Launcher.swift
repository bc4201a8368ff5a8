import ArgumentParser
import Datasets
import Distributed
import Foundation
import Models

@main
struct Launcher: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "launcher",
        abstract: "LearnedLoss: distributed GAN training on CPU clusters over MPI.",
        discussion: """
            Run a subcommand directly for one process, or under mpirun for many:
              mpirun -np 4 launcher doctor
            Start with `launcher doctor` on a new machine or cluster.
            """,
        subcommands: [TrainCommand.self, DatasetCommand.self, EvaluateCommand.self, SampleCommand.self, ReconstructCommand.self, InspectCommand.self, ExportCommand.self, ReportCommand.self, EvaluatorCommand.self, BenchCommand.self, DoctorCommand.self]
    )

    /// Under mpirun every rank parses the same command line; only the first prints a usage
    /// error, so the user reads it once instead of interleaved N times.
    static func main() {
        // Process-wide settings belong to the program, not the libraries. oneDNN's OpenMP pool
        // starts with a thread per core; under mpirun every rank would take them all. Commands
        // with --threads set their own count after this.
        Kernels.threads = BLAS.defaultThreads(ranksOnNode: MPIRuntime.launchRanksOnNode ?? 1)
        Memory.keepLargeAllocationsInHeap()
        LongWork.progressed = { Watchdog.process?.progressed() }
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            if MPIRuntime.launchRank ?? 0 == 0 { exit(withError: error) }
            Foundation.exit(exitCode(for: error).rawValue)
        }
    }
}
