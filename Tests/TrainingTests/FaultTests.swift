import Checkpoints
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
    /// the watchdogs end the job within the stall timeout plus a few seconds, and the rank that
    /// still runs names the stopped one.
    func testStoppedRankEndsTheJobWithinTheStallTimeout() throws { try checkStopped(rank: 1) }
    func testStoppedRank0IsNamedByTheOther() throws { try checkStopped(rank: 0) }

    private func checkStopped(rank: Int) throws {
        let directory = scratch.file("run")
        let job = startJob(["--stall-timeout", "5", "--run-dir", directory])
        RunProgress.waitForSteps(in: directory, atLeast: 20)
        let process = try XCTUnwrap(rankProcesses(runningIn: directory)[rank], "rank \(rank)'s process")
        let stopped = Date()
        kill(process, SIGSTOP)
        let result = try job.wait(timeout: 60)
        let seconds = Date().timeIntervalSince(stopped)
        XCTAssertNotEqual(result.status, 0)
        XCTAssertLessThan(seconds, 5 + 30, "the job ended \(Int(seconds)) s after the stop")
        XCTAssertTrue(result.standardError.contains("): no progress for "), result.standardError)
        XCTAssertTrue(result.standardError.contains(" at step "), result.standardError)
        // The other rank names the stopped one: from its missing heartbeats, or at a step's check-in.
        let other = 1 - rank
        XCTAssertTrue(result.standardError.contains("rank \(other) has not heard from 1 rank: rank \(rank) (host")
                      || result.standardError.contains("rank \(rank) did not reach step"), result.standardError)
        XCTAssertTrue(rankProcesses(runningIn: directory).isEmpty, "no rank left behind")
    }

    /// mpirun killed outright: each rank sees its launcher gone and exits by itself.
    func testRanksDoNotOutliveTheirLauncher() throws {
        let directory = scratch.file("run")
        let job = startJob(["--stall-timeout", "300", "--run-dir", directory])
        RunProgress.waitForSteps(in: directory, atLeast: 5)
        XCTAssertEqual(rankProcesses(runningIn: directory).count, 2)
        kill(try XCTUnwrap(job.mpirunProcess()), SIGKILL)
        _ = try job.wait(timeout: 60)
        XCTAssertTrue(Processes.waitFor(timeout: 20) { rankProcesses(runningIn: directory).isEmpty }, "ranks outlived mpirun")
    }

    /// `--max-restarts 3` with two ranks killed (-9) during the run: the supervisor restarts the
    /// job from its checkpoints and it ends bit for bit as an uninterrupted run.
    func testMaxRestartsBringTheRunBackBitForBit() throws {
        let common = ["train", "--preset", "grid2d", "--batch-size", "20", "--steps", "60", "--checkpoint-every", "5", "--threads", "1",
                      "--processes", "2"]
        let launcher = try Subprocess.product("launcher")
        let straight = scratch.file("straight"), supervised = scratch.file("supervised")
        let uninterrupted = try Subprocess.run(launcher, common + ["--run-dir", straight], timeout: 300)
        XCTAssertEqual(uninterrupted.status, 0, uninterrupted.combinedOutput)

        let job = BackgroundJob(marker: supervised) {
            try Subprocess.run(launcher, common + ["--max-restarts", "3", "--run-dir", supervised], timeout: 300)
        }
        for (rank, step) in [(1, 15), (0, 40)] {
            RunProgress.waitForSteps(in: supervised, atLeast: step)
            let victim = try XCTUnwrap(rankProcesses(runningIn: supervised)[rank], "rank \(rank)'s process")
            kill(victim, SIGKILL)
            let deadline = Date().addingTimeInterval(60)
            while rankProcesses(runningIn: supervised)[rank] == victim && Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
        }
        let result = try job.wait(timeout: 300)
        XCTAssertEqual(result.status, 0, result.combinedOutput)
        XCTAssertTrue(result.standardOutput.contains("restart 1 of 3"), result.standardOutput)
        XCTAssertTrue(result.standardOutput.contains("restart 2 of 3"), result.standardOutput)
        XCTAssertFalse(result.standardOutput.contains("restart 3 of 3"), result.standardOutput)
        XCTAssertEqual(try CheckpointComparison.differences("\(straight)/checkpoint-00000060.h5", "\(supervised)/checkpoint-00000060.h5"), [],
                       "restarted twice, the same run bit for bit")
    }

    func testMaxRestartsNeedsARunDirectoryAndAFirstCheckpoint() throws {
        let launcher = try Subprocess.product("launcher")
        let bare = try Subprocess.run(launcher, ["train", "--preset", "grid2d", "--max-restarts", "2"])
        XCTAssertNotEqual(bare.status, 0)
        XCTAssertTrue(bare.standardError.contains("--max-restarts needs --run-dir"), bare.standardError)
        let early = try Subprocess.run(launcher, ["train", "--preset", "grid2d", "--max-restarts", "2", "--batch-size", "0",
                                                  "--run-dir", scratch.file("run")])
        XCTAssertNotEqual(early.status, 0)
        XCTAssertTrue(early.standardOutput.contains("before its first checkpoint"), early.standardOutput)
        XCTAssertFalse(early.standardOutput.contains("restart 1"), early.standardOutput)
    }

    /// A disk that fills up while a checkpoint is written: a clear error naming the last good
    /// checkpoint, an exit (not a crash: HDF5's exit handler used to dereference a null pointer
    /// after the failed write), no partial file, and the earlier checkpoint whole.
    func testFullDiskEndsWithAClearErrorAndKeepsTheLastCheckpoint() throws {
        let disk = scratch.file("disk")
        try FileManager.default.createDirectory(atPath: disk, withIntermediateDirectories: true)
        let mount = try Subprocess.run("/bin/mount", ["-t", "tmpfs", "-o", "size=16m", "tmpfs", disk])
        guard mount.status == 0 else { throw XCTSkip("a small tmpfs cannot be mounted here (needs root): \(mount.standardError)") }
        defer { _ = try? Subprocess.run("/bin/umount", [disk]) }
        let run = "\(disk)/run"
        let result = try Subprocess.run(try Subprocess.product("launcher"), ["train", "--preset", "grid2d", "--steps", "30",
                                                                          "--checkpoint-every", "10", "--threads", "1", "--run-dir", run])
        XCTAssertEqual(result.status, 1, result.combinedOutput)
        XCTAssertTrue(result.standardError.contains("No space left on device"), result.standardError)
        XCTAssertTrue(result.standardError.contains("the last good checkpoint is \(run)/checkpoint-00000010.h5"), result.standardError)
        let files = try FileManager.default.contentsOfDirectory(atPath: run)
        XCTAssertFalse(files.contains { $0.contains(".partial-") }, "\(files)")
        let inspect = try Subprocess.run(try Subprocess.product("launcher"), ["inspect", "\(run)/checkpoint-00000010.h5"])
        XCTAssertEqual(inspect.status, 0, inspect.combinedOutput)
    }

    /// SIGTERM (a batch system's cancel) and SIGINT (Ctrl-C) to a `--max-restarts` supervisor: it
    /// passes the signal on, the job ends and is not restarted, and no process of it is left.
    func testASignalledSupervisorEndsItsJobAndLeavesNothing() throws {
        for signal in [SIGTERM, SIGINT] {
            let directory = scratch.file("run-\(signal)")
            let (job, supervisor) = try startSupervisedJob(in: directory)
            let sent = Date()
            kill(supervisor, signal)
            let result = try job.wait(timeout: 60)
            XCTAssertEqual(result.status, 128 + signal, result.combinedOutput)
            XCTAssertTrue(result.combinedOutput.contains("supervisor: stopped by signal \(signal)"), result.combinedOutput)
            XCTAssertFalse(result.combinedOutput.contains("restart 1 of 2"), result.combinedOutput)
            let gone = Processes.waitFor(timeout: 10) { !Processes.all().contains { $0.command.contains { $0.contains(directory) } } }
            XCTAssertTrue(gone, "a process of the job outlived its supervisor by 10 s")
            XCTAssertLessThan(Date().timeIntervalSince(sent), 20, "signal \(signal)")
        }
    }

    /// A supervisor killed with SIGKILL cannot pass anything on: its job's ranks see it gone and end
    /// the job by themselves.
    func testAJobEndsByItselfWhenItsSupervisorIsKilled() throws {
        let directory = scratch.file("run")
        let (job, supervisor) = try startSupervisedJob(in: directory)
        kill(supervisor, SIGKILL)
        _ = try job.wait(timeout: 60)
        let gone = Processes.waitFor(timeout: 20) { !Processes.all().contains { $0.command.contains { $0.contains(directory) } } }
        XCTAssertTrue(gone, "the job outlived its supervisor by 20 s: \(Processes.all().filter { $0.command.contains { $0.contains(directory) } })")
    }

    /// One job per run directory: a second `train` into it is refused at once, naming the first;
    /// after the first is killed (-9) the kernel has released its lock and the run can go on.
    func testASecondJobInARunDirectoryIsRefusedWhileTheFirstRuns() throws {
        let directory = scratch.file("run")
        let job = startJob(["--checkpoint-every", "5", "--run-dir", directory])
        RunProgress.waitForSteps(in: directory, atLeast: 5)
        let second = try Subprocess.run(try Subprocess.product("launcher"), ["train", "--preset", "grid2d", "--steps", "10", "--threads", "1",
                                                                          "--resume", "auto", "--run-dir", directory], timeout: 60)
        XCTAssertNotEqual(second.status, 0, second.combinedOutput)
        XCTAssertTrue(second.standardError.contains("--run-dir \(directory) is in use by another job (pid "), second.standardError)
        let holder = try XCTUnwrap(rankProcesses(runningIn: directory)[0])
        XCTAssertTrue(second.standardError.contains("pid \(holder) on host "), second.standardError)

        killEverything(runningIn: directory)
        _ = try job.wait(timeout: 60)
        let after = try Subprocess.run(try Subprocess.product("launcher"), ["train", "--preset", "grid2d", "--steps", "10", "--threads", "1",
                                                                         "--resume", "auto", "--run-dir", directory], timeout: 120)
        XCTAssertEqual(after.status, 0, after.combinedOutput)
    }

    /// A reused run directory holding a later run's checkpoint: a new run is refused without
    /// `--resume`; a resumed one prunes (`--keep 1`) only checkpoints up to the step it wrote.
    func testAStaleCheckpointIsRefusedWithoutResumeAndNeverPrunesANewerCheckpoint() throws {
        let (first, reused) = (scratch.file("first"), scratch.file("reused"))
        let common = ["train", "--preset", "grid2d", "--batch-size", "20", "--threads", "1", "--checkpoint-every", "2", "--keep", "1"]
        let launcher = try Subprocess.product("launcher")
        let made = try Subprocess.run(launcher, common + ["--steps", "2", "--run-dir", first], timeout: 120)
        XCTAssertEqual(made.status, 0, made.combinedOutput)
        try FileManager.default.createDirectory(atPath: reused, withIntermediateDirectories: true)
        let stale = "\(reused)/checkpoint-00009000.h5"
        try FileManager.default.copyItem(atPath: "\(first)/checkpoint-00000002.h5", toPath: stale)

        let fresh = try Subprocess.run(launcher, common + ["--steps", "4", "--run-dir", reused], timeout: 120)
        XCTAssertNotEqual(fresh.status, 0, fresh.combinedOutput)
        XCTAssertTrue(fresh.standardError.contains("--run-dir \(reused) already holds checkpoints of a run (newest \(stale))"), fresh.standardError)

        let resumed = try Subprocess.run(launcher, common + ["--steps", "6", "--resume", "\(first)/checkpoint-00000002.h5", "--run-dir", reused],
                                         timeout: 120)
        XCTAssertEqual(resumed.status, 0, resumed.combinedOutput)
        let checkpoints = RunDirectory(reused).checkpoints().map(\.step)
        XCTAssertEqual(checkpoints, [6, 9000], "the newest of this run kept, the later one left alone")
    }

    /// A rank stopped outside the training steps, where the watchdog of a single run used not to
    /// reach: while rank 0 reads the checkpoint it resumes (the other waits in a broadcast), during
    /// an evaluation, in `MPI_Finalize` at the end, and in `doctor`'s checks. Each job ends within
    /// the timeout plus a few seconds, and a rank names the phase it was in.
    func testARankStoppedAtStartEvaluationOrExitEndsTheJobNamingThePhase() throws {
        let directory = scratch.file("run")
        let common = ["train", "--preset", "grid2d", "--batch-size", "20", "--threads", "1", "--stall-timeout", "4", "--run-dir", directory]
        let made = try Subprocess.mpirun(ranks: 2, "launcher", common + ["--steps", "4"], timeout: 120)
        XCTAssertEqual(made.status, 0, made.combinedOutput)
        let cases: [(stop: String, arguments: [String], phase: String)] = [
            ("0:reading the checkpoint", common + ["--resume", "auto", "--steps", "8"], "waiting for rank 0 to read the checkpoint"),
            ("1:evaluating", common + ["--resume", "auto", "--steps", "6", "--eval-every", "6"], "evaluating the generator"),
            ("1:finalizing", common + ["--resume", "auto", "--steps", "8"], "finalizing MPI (MPI_Finalize waits for every rank)"),
            ("1:all-gather", ["doctor", "--stall-timeout", "4", "--output-dir", scratch.path], "running the doctor's all-gather check"),
        ]
        for (stop, arguments, phase) in cases {
            let started = Date()
            let result = try Subprocess.mpirun(ranks: 2, "launcher", arguments, timeout: 120, environment: ["LEARNEDLOSS_STOP_AT": stop])
            let seconds = Date().timeIntervalSince(started)
            XCTAssertNotEqual(result.status, 0, stop + "\n" + result.combinedOutput)
            XCTAssertTrue(result.standardError.contains("): no progress for "), stop + "\n" + result.standardError)
            XCTAssertTrue(result.standardError.contains(phase + "; ending this rank"), stop + "\n" + result.standardError)
            XCTAssertLessThan(seconds, 4 + 25, "\(stop): the job ended \(Int(seconds)) s after it started")
            XCTAssertTrue(Processes.waitFor(timeout: 10) { rankProcesses(runningIn: directory).isEmpty }, "\(stop): no rank left behind")
        }
        // The stop at the exit came after the last checkpoint: the run is whole.
        XCTAssertEqual(RunDirectory(directory).checkpoints().last?.step, 8)
    }

    /// Every rank of a supervised job stopped at once (a paused job, a frozen node): no watchdog can
    /// fire, so the supervisor sees the job's progress reports stop, ends the whole job after the
    /// stall timeout plus its margin, and (with no restarts left) says so.
    func testASupervisorEndsAJobThatStallsAsAWhole() throws {
        let directory = scratch.file("run")
        let launcher = try Subprocess.product("launcher")
        let job = BackgroundJob(marker: directory) {
            try Subprocess.run(launcher, ["train", "--preset", "grid2d", "--steps", "1000000", "--threads", "1", "--processes", "2",
                                          "--max-restarts", "0", "--stall-timeout", "3", "--run-dir", directory], timeout: 300)
        }
        RunProgress.waitForSteps(in: directory, atLeast: 3)
        let ranks = rankProcesses(runningIn: directory)
        XCTAssertEqual(ranks.count, 2)
        let stopped = Date()
        for pid in ranks.values { kill(pid, SIGSTOP) }
        let result = try job.wait(timeout: 120)
        let seconds = Date().timeIntervalSince(stopped)
        XCTAssertNotEqual(result.status, 0, result.combinedOutput)
        XCTAssertTrue(result.standardOutput.contains("supervisor: the job reported no progress for "), result.combinedOutput)
        XCTAssertTrue(result.standardOutput.contains("--max-restarts 0 are used up"), result.combinedOutput)
        XCTAssertLessThan(seconds, 3 + 30 + 25, "the supervisor ended the job \(Int(seconds)) s after every rank stopped")
        XCTAssertTrue(Processes.waitFor(timeout: 10) { rankProcesses(runningIn: directory).isEmpty }, "no rank left behind")
    }

    // MARK: A job in the background, and its processes

    private func startJob(_ arguments: [String]) -> BackgroundJob {
        let marker = arguments[arguments.firstIndex(of: "--run-dir")! + 1]
        return BackgroundJob(marker: marker) {
            try Subprocess.mpirun(ranks: 2, "launcher", ["train", "--preset", "grid2d", "--steps", "1000000", "--threads", "1"] + arguments,
                                  timeout: 300)
        }
    }

    /// A `--max-restarts 2` supervisor of a 2-rank job in `directory`, once the job has logged step 5,
    /// and the supervisor's pid.
    private func startSupervisedJob(in directory: String) throws -> (job: BackgroundJob, supervisor: pid_t) {
        let launcher = try Subprocess.product("launcher")
        let job = BackgroundJob(marker: directory) {
            try Subprocess.run(launcher, ["train", "--preset", "grid2d", "--steps", "1000000", "--threads", "1", "--processes", "2",
                                          "--max-restarts", "2", "--checkpoint-every", "5", "--run-dir", directory], timeout: 300)
        }
        RunProgress.waitForSteps(in: directory, atLeast: 5)
        let supervisor = try XCTUnwrap(Processes.all().first { process in
            process.command.first?.hasSuffix("launcher") == true && process.command.contains("--max-restarts") && process.command.contains(directory)
        }?.pid, "the supervisor's process")
        return (job, supervisor)
    }

    /// The launcher processes training in `directory`, by rank.
    private func rankProcesses(runningIn directory: String) -> [Int: pid_t] {
        var ranks: [Int: pid_t] = [:]
        for process in Processes.all() where process.command.first?.hasSuffix("launcher") == true && process.command.contains(directory) {
            if let rank = Processes.mpiRank(of: process.pid) { ranks[rank] = process.pid }
        }
        return ranks
    }

    private func killEverything(runningIn directory: String) {
        for process in Processes.all() where process.command.contains(where: { $0.contains(directory) }) {
            kill(process.pid, SIGKILL)
            kill(process.pid, SIGCONT)
        }
    }
}
