import Foundation
import XCTest

/// What a finished child process left behind.
public struct ProcessResult {
    public let status: Int32
    public let standardOutput: String
    public let standardError: String
    /// Whether the process had to be killed at the timeout.
    public let timedOut: Bool
    /// Whether it ended by a signal (a crash, or the kill at the timeout); `status` is then the signal.
    public var killedBySignal = false

    public var combinedOutput: String { standardOutput + standardError }
}

/// Runs the package's executables, directly or under a real `mpirun`, for the multi-process tests.
public enum Subprocess {
    /// Where `swift build` put this package's executables: beside the test bundle.
    public static let productsDirectory: URL = {
        let besideTests = Bundle.main.bundleURL.deletingLastPathComponent()
        for candidate in [Bundle.main.bundleURL, besideTests] where FileManager.default.fileExists(atPath: candidate.appendingPathComponent("launcher").path) {
            return candidate
        }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(".build/debug")
    }()

    /// The path of one of the package's executables, failing the test if it was not built.
    public static func product(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let path = productsDirectory.appendingPathComponent(name).path
        guard FileManager.default.isExecutableFile(atPath: path) else {
            XCTFail("\(path) was not built; run `swift build` first", file: file, line: line)
            throw CocoaError(.fileNoSuchFile)
        }
        return path
    }

    /// Runs `executable` with `arguments`, killing it after `timeout` seconds.
    public static func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:],
                           timeout: TimeInterval = 120) throws -> ProcessResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        // The test process itself may have started MPI as a singleton, which exports its job's
        // identity; a child mpirun that inherits it would join that job instead of starting its own.
        let inherited = ProcessInfo.processInfo.environment.filter { name, _ in
            !["OMPI_", "PMIX_", "PMI_", "OPAL_", "ORTE_"].contains { name.hasPrefix($0) }
        }
        process.environment = inherited.merging(environment) { $1 }
        // Files rather than pipes: a chatty child can never block on a full pipe.
        let outputURL = FileManager.default.temporaryDirectory.appendingPathComponent("ll-out-\(UUID().uuidString)")
        let errorURL = FileManager.default.temporaryDirectory.appendingPathComponent("ll-err-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: outputURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errorURL.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: outputURL); try? FileManager.default.removeItem(at: errorURL) }
        process.standardOutput = try FileHandle(forWritingTo: outputURL)
        process.standardError = try FileHandle(forWritingTo: errorURL)
        process.standardInput = FileHandle.nullDevice

        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        var timedOut = false
        while process.isRunning {
            if Date() > deadline {
                timedOut = true
                process.terminate()
                Thread.sleep(forTimeInterval: 2)
                if process.isRunning { kill(process.processIdentifier, SIGKILL) }
                break
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        process.waitUntilExit()
        return ProcessResult(status: process.terminationStatus,
                             standardOutput: (try? String(contentsOf: outputURL, encoding: .utf8)) ?? "",
                             standardError: (try? String(contentsOf: errorURL, encoding: .utf8)) ?? "",
                             timedOut: timedOut, killedBySignal: process.terminationReason == .uncaughtSignal)
    }

    /// Runs one of the package's executables under `mpirun -np ranks`, oversubscribed and root-safe.
    public static func mpirun(ranks: Int, _ product: String, _ arguments: [String], timeout: TimeInterval = 180,
                              environment: [String: String] = [:]) throws -> ProcessResult {
        let executable = try Subprocess.product(product)
        let mpiEnvironment = [
            "OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
            "OMPI_MCA_rmaps_base_oversubscribe": "1",
        ].merging(environment) { $1 }
        let result = try run("/usr/bin/env", ["mpirun", "-np", "\(ranks)", executable] + arguments,
                             environment: mpiEnvironment, timeout: timeout)
        return ProcessResult(status: result.status, standardOutput: result.standardOutput,
                             standardError: withoutMPIRunNotices(result.standardError), timedOut: result.timedOut)
    }

    /// mpirun writes its own notices ("1 process returned a non-zero exit code", between rules of
    /// dashes) into the stream it forwards the ranks' standard error to, at times in the middle of a
    /// rank's line; tests count what the ranks printed, so the notices go.
    public static func withoutMPIRunNotices(_ text: String) -> String {
        text.replacing(#/-{70,}\n[\s\S]*?\n-{70,}\n?/#, with: "")
    }
}
