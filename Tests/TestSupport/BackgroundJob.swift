import Dispatch
import Foundation
import XCTest

/// A child process run on another thread, for tests that act on it while it runs.
public final class BackgroundJob: @unchecked Sendable {
    private var result: ProcessResult?
    private var failure: Error?
    private let done = DispatchSemaphore(value: 0)
    /// A text on the job's command lines (its run directory) that finds its processes.
    public let marker: String

    public init(marker: String, _ body: @escaping @Sendable () throws -> ProcessResult) {
        self.marker = marker
        DispatchQueue.global().async {
            do { self.result = try body() } catch { self.failure = error }
            self.done.signal()
        }
    }

    /// The job's result, or an error if it has not ended within `timeout` seconds.
    public func wait(timeout: TimeInterval) throws -> ProcessResult {
        guard done.wait(timeout: .now() + timeout) == .success else {
            throw CocoaError(.executableLoad, userInfo: [NSLocalizedDescriptionKey: "the job did not end within \(Int(timeout)) s"])
        }
        if let failure { throw failure }
        return result!
    }

    /// The mpirun process whose command line carries the marker.
    public func mpirunProcess() -> pid_t? {
        Processes.all().first { $0.command.first.map { $0.hasSuffix("mpirun") } ?? false && $0.command.contains(marker) }?.pid
    }
}

/// The processes of this machine, read from /proc.
public enum Processes {
    /// Every process with its command line.
    public static func all() -> [(pid: pid_t, command: [String])] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { entry in
            guard let pid = pid_t(entry),
                  let line = try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(entry)/cmdline")), !line.isEmpty else { return nil }
            return (pid, line.split(separator: 0).map { String(decoding: $0, as: UTF8.self) })
        }
    }

    /// The MPI rank a process was started as, from its environment; nil for other processes.
    public static func mpiRank(of pid: pid_t) -> Int? {
        guard let environment = try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/environ")) else { return nil }
        let variables = environment.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        return variables.first(where: { $0.hasPrefix("OMPI_COMM_WORLD_RANK=") }).flatMap { Int($0.dropFirst(21)) }
    }

    /// Waits up to `timeout` seconds for `condition`; whether it came true.
    public static func waitFor(timeout: TimeInterval, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while !condition() {
            if Date() > deadline { return false }
            Thread.sleep(forTimeInterval: 0.2)
        }
        return true
    }
}

/// A training run's progress, from its metrics log.
public enum RunProgress {
    /// Waits up to `timeout` seconds for the run in `directory` to log step `steps` or later;
    /// fails the test if it does not.
    public static func waitForSteps(in directory: String, atLeast steps: Int, timeout: TimeInterval = 120,
                                    file: StaticString = #filePath, line: UInt = #line) {
        let reached = Processes.waitFor(timeout: timeout) {
            let log = (try? String(contentsOfFile: "\(directory)/metrics.jsonl", encoding: .utf8)) ?? ""
            let last = log.split(separator: "\n").last.flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            return (last?["step"] as? Int).map { $0 >= steps } ?? false
        }
        XCTAssertTrue(reached, "the job did not reach step \(steps) in \(Int(timeout)) s", file: file, line: line)
    }
}
