import Foundation
import TestSupport
import XCTest

/// Training across two hosts joined by a real network link (scripts/two-hosts.sh): two ranks on
/// each, every message between them over TCP on the link. Needs root and `ip netns`; skipped,
/// with the reason printed, elsewhere.
final class TwoHostTests: XCTestCase {
    var scratch: ScratchDirectory!
    var hosts: TwoHosts!

    override func setUpWithError() throws {
        scratch = try ScratchDirectory()
        hosts = try TwoHosts()
        // A teardown block runs even when the test fails or throws.
        addTeardownBlock { [hosts, scratch] in
            hosts?.remove()
            scratch?.remove()
        }
    }

    private let training = ["train", "--preset", "grid2d", "--threads", "1"]

    /// The same job on one host and across two trains the same model: only the transport differs.
    func testTrainingAcrossTwoHostsAgreesWithOneHost() throws {
        let arguments = ["--steps", "20", "--checkpoint-every", "20"]
        let across = try hosts.mpirun(ranks: 4, "launcher", training + arguments + ["--run-dir", scratch.file("across")])
        XCTAssertEqual(across.status, 0, across.combinedOutput)
        XCTAssertTrue(across.standardOutput.contains("batch 100 over 4 ranks"), across.standardOutput)
        let local = try Subprocess.mpirun(ranks: 4, "launcher", training + arguments + ["--run-dir", scratch.file("local")])
        XCTAssertEqual(local.status, 0, local.combinedOutput)
        let read = { (run: String) in try String(contentsOfFile: self.scratch.file("\(run)/metrics.jsonl"), encoding: .utf8) }
        let lines = try (read("across").split(separator: "\n"), read("local").split(separator: "\n"))
        XCTAssertEqual(lines.0.count, 20)
        for (across, local) in zip(lines.0, lines.1) {
            // The rates differ; the losses of the step must not.
            XCTAssertEqual(across.replacing(#/"images_per_second":[0-9.e+]*/#, with: ""),
                           local.replacing(#/"images_per_second":[0-9.e+]*/#, with: ""))
        }
    }

    /// The daemon that started nodeb's ranks killed (-9): those ranks exit by themselves, mpirun
    /// ends the ranks on nodea, and nothing is left on either host.
    func testRanksExitWhenTheirHostsDaemonDies() throws {
        let directory = scratch.file("run")
        let job = BackgroundJob(marker: directory) { [hosts = hosts!, training] in
            try hosts.mpirun(ranks: 4, "launcher", training + ["--steps", "1000000", "--stall-timeout", "300",
                                                                "--run-dir", directory], timeout: 300)
        }
        RunProgress.waitForSteps(in: directory, atLeast: 20)
        let daemon = try XCTUnwrap(Processes.all().first { process in
            process.command.first?.hasSuffix("orted") == true && (try? hosts.processes().contains(process.pid)) == true
        }, "nodeb's orted")
        let killed = Date()
        kill(daemon.pid, SIGKILL)
        let result = try job.wait(timeout: 60)
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(Processes.waitFor(timeout: 30) { (try? hosts.processes().isEmpty) ?? false },
                      "processes left on the hosts: \((try? hosts.processes()) ?? [])")
        XCTAssertLessThan(Date().timeIntervalSince(killed), 30)
    }

    /// The link cut in the middle of training: the job ends within the stall timeout plus 30 s,
    /// rank 0 names the two ranks behind the link, and no process is left on either host.
    func testCutLinkEndsTheJobAndLeavesNothingBehind() throws {
        let directory = scratch.file("run")
        let stallTimeout = 10.0
        let job = BackgroundJob(marker: directory) { [hosts = hosts!, training] in
            try hosts.mpirun(ranks: 4, "launcher", training + ["--steps", "1000000", "--stall-timeout", "\(Int(stallTimeout))",
                                                                "--run-dir", directory], timeout: 300)
        }
        RunProgress.waitForSteps(in: directory, atLeast: 20)
        let cut = Date()
        try hosts.cut()
        let result = try job.wait(timeout: stallTimeout + 60)
        let bound = stallTimeout + 30
        XCTAssertLessThan(Date().timeIntervalSince(cut), bound, result.combinedOutput)
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.standardError.contains("rank 0 has not heard from 2 ranks: rank 2 (host nodeb)"), result.standardError)
        XCTAssertTrue(result.standardError.contains("rank 3 (host nodeb)"), result.standardError)
        let remaining = max(0, bound - Date().timeIntervalSince(cut))
        XCTAssertTrue(Processes.waitFor(timeout: remaining) { (try? hosts.processes().isEmpty) ?? false },
                      "processes left on the hosts: \((try? hosts.processes()) ?? [])")
    }
}
