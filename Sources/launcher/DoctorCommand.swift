import ArgumentParser
import Diagnostics
import Distributed
import Foundation
import Models

struct DoctorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check that MPI, oneDNN, OpenBLAS and HDF5 work on every rank.",
        discussion: """
            Prints, once from rank 0, the MPI library, the world size and the ranks on each host, \
            oneDNN's version and instruction set, OpenBLAS's version and core type, the threads per \
            rank, and HDF5's version. Then every rank runs an all-reduce, broadcast and all-gather \
            check, a GEMM against a naive loop, a oneDNN convolution against its definition, and an \
            HDF5 write and read-back, and the report names any rank that failed. \
            Exits 0 only if every check passes on every rank.

              launcher doctor
              mpirun -np 4 launcher doctor --output-dir /shared/scratch
            """
    )

    @Option(name: .customLong("output-dir"), help: ArgumentHelp("Directory each rank writes its small HDF5 test file to.", valueName: "dir"))
    var outputDirectory: String = FileManager.default.temporaryDirectory.path

    @Option(help: "Threads per rank for OpenBLAS and oneDNN (default: the node's cores divided by its ranks, at least 1).")
    var threads: Int?

    @OptionGroup var stallTimeout: StallTimeoutOption

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
    }

    func run() throws {
        let world = try MPIRuntime.world()
        stallTimeout.apply()
        let passed = world.endingJobOnError {
            // The node's cores shared among its ranks, unless --threads says otherwise.
            Kernels.threads = try threads ?? BLAS.defaultThreads(ranksOnNode: world.nodeLocal().size)
            return try Doctor(world: world, outputDirectory: outputDirectory).run()
        }
        if !passed { throw ExitCode.failure }
    }
}
