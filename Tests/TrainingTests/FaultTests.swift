import Foundation
import TestSupport
import XCTest

/// Real `mpirun` jobs with one rank made to misbehave: the job must end by itself, say where
/// it was stuck, and leave no process behind.
final class FaultTests: XCTestCase {
    var scratch: ScratchDirectory!

    override func setUpWithError() throws { scratch = try ScratchDirectory() }
    override func tearDown() {
        killEverything(runningIn: scratch.path)
        scratch.remove()
    }

    /// A rank stopped in the middle of a step (SIGSTOP) leaves the other inside a collective;
    /// the watchdogs end the job within the stall timeout plus a few seconds.
    func testStoppedRankEndsTheJobWithinTheStallTimeout() throws {
        let directory = scratch.file("run")
        let job = startJob(["--stall-timeout", "5", "--run-dir", directory])
        try waitForSteps(in: directory, atLeast: 20)
        let rank1 = try XCTUnwrap(rankProcesses(runningIn: directory)[1], "rank 1's process")
        let stopped = Date()
        kill(rank1, SIGSTOP)
        let result = try job.wait(timeout: 60)
        let seconds = Date().timeIntervalSince(stopped)
        XCTAssertNotEqual(result.status, 0)
        XCTAssertLessThan(seconds, 5 + 30, "the job ended \(Int(seconds)) s after the stop")
        XCTAssertTrue(result.standardError.contains("): no progress for "), result.standardError)
        XCTAssertTrue(result.standardError.contains(" at step "), result.standardError)
        XCTAssertTrue(rankProcesses(runningIn: directory).isEmpty, "no rank left behind")
    }

    /// mpirun killed outright: each rank sees its launcher gone and exits by itself.
    func testRanksDoNotOutliveTheirLauncher() throws {
        let directory = scratch.file("run")
        let job = startJob(["--stall-timeout", "300", "--run-dir", directory])
        try waitForSteps(in: directory, atLeast: 5)
        XCTAssertEqual(rankProcesses(runningIn: directory).count, 2)
        kill(try XCTUnwrap(job.mpirunProcess()), SIGKILL)
        _ = try job.wait(timeout: 60)
        let deadline = Date().addingTimeInterval(20)
        while !rankProcesses(runningIn: directory).isEmpty && Date() < deadline { Thread.sleep(forTimeInterval: 0.2) }
        XCTAssertTrue(rankProcesses(runningIn: directory).isEmpty, "ranks outlived mpirun")
    }

    // MARK: A job in the background, and its processes

    final class Job: @unchecked Sendable {
        private var result: ProcessResult?
        private var failure: Error?
        private let done = DispatchSemaphore(value: 0)
        let marker: String

        init(marker: String, _ body: @escaping @Sendable () throws -> ProcessResult) {
            self.marker = marker
            DispatchQueue.global().async {
                do { self.result = try body() } catch { self.failure = error }
                self.done.signal()
            }
        }

        func wait(timeout: TimeInterval) throws -> ProcessResult {
            guard done.wait(timeout: .now() + timeout) == .success else { throw CocoaError(.executableLoad) }
            if let failure { throw failure }
            return result!
        }

        /// The mpirun process whose command line names this job's run directory.
        func mpirunProcess() -> pid_t? {
            processes().first { $0.command.first.map { $0.hasSuffix("mpirun") } ?? false && $0.command.contains(marker) }?.pid
        }
    }

    private func startJob(_ arguments: [String]) -> Job {
        let marker = arguments[arguments.firstIndex(of: "--run-dir")! + 1]
        return Job(marker: marker) {
            try Subprocess.mpirun(ranks: 2, "launcher", ["train", "--preset", "grid2d", "--steps", "1000000", "--threads", "1"] + arguments,
                                  timeout: 300)
        }
    }

    private func waitForSteps(in directory: String, atLeast steps: Int) throws {
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline {
            let log = (try? String(contentsOfFile: "\(directory)/metrics.jsonl", encoding: .utf8)) ?? ""
            if log.split(separator: "\n").count >= steps { return }
            Thread.sleep(forTimeInterval: 0.2)
        }
        XCTFail("the job did not reach step \(steps) in 120 s")
    }

    /// The launcher processes training in `directory`, by rank.
    private func rankProcesses(runningIn directory: String) -> [Int: pid_t] {
        var ranks: [Int: pid_t] = [:]
        for process in processes() where process.command.first?.hasSuffix("launcher") == true && process.command.contains(directory) {
            guard let environment = try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(process.pid)/environ")) else { continue }
            let variables = environment.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            if let rank = variables.first(where: { $0.hasPrefix("OMPI_COMM_WORLD_RANK=") }).flatMap({ Int($0.dropFirst(21)) }) {
                ranks[rank] = process.pid
            }
        }
        return ranks
    }

    private func killEverything(runningIn directory: String) {
        for process in processes() where process.command.contains(where: { $0.contains(directory) }) {
            kill(process.pid, SIGKILL)
            kill(process.pid, SIGCONT)
        }
    }
}

/// Every process on the machine with its command line.
private func processes() -> [(pid: pid_t, command: [String])] {
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    return entries.compactMap { entry in
        guard let pid = pid_t(entry),
              let line = try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(entry)/cmdline")), !line.isEmpty else { return nil }
        return (pid, line.split(separator: 0).map { String(decoding: $0, as: UTF8.self) })
    }
}
