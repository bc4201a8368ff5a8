import Checkpoints
import Distributed
import Foundation

/// `launcher train --max-restarts K`: runs the training job as a child and, when it fails (a
/// rank killed, a watchdog fired, a node lost), starts it again from the newest valid checkpoint
/// of its run directory, up to K times. Resuming is bit-exact, so the result is the run that
/// would have finished without the failures.
public struct Supervisor {
    /// The job's command (`mpirun -np N launcher train ...`, or the launcher alone), without `--resume`.
    let command: [String]
    let runDirectory: String
    let maxRestarts: Int
    let say: (String) -> Void

    public init(command: [String], runDirectory: String, maxRestarts: Int, say: @escaping (String) -> Void = { print($0) }) {
        (self.command, self.runDirectory, self.maxRestarts, self.say) = (command, runDirectory, maxRestarts, say)
    }

    /// Runs the job until it succeeds or has failed `maxRestarts + 1` times; returns its last exit
    /// status. SIGINT, SIGTERM or SIGHUP to the supervisor is passed on to the job, which is waited
    /// for (`StopSignals.grace` seconds, then killed) and not restarted.
    public func run(firstResume: String?) throws -> Int32 {
        StopSignals.install()
        var resume = firstResume
        var restarts = 0
        while true {
            let status = try runOnce(resume: resume)
            if status.code == 0 { return 0 }
            if let signal = StopSignals.received {
                say("supervisor: stopped by signal \(signal); the job ended (\(status.reason)), no restart")
                return 128 + signal
            }
            guard restarts < maxRestarts else {
                say("supervisor: the job failed (\(status.reason)) and --max-restarts \(maxRestarts) are used up; stopping")
                return status.code
            }
            guard let newest = RunDirectory(runDirectory).checkpoints().last else {
                say("supervisor: the job failed (\(status.reason)) before its first checkpoint in \(runDirectory); nothing to restart from")
                return status.code
            }
            restarts += 1
            say("supervisor: the job failed (\(status.reason)); restart \(restarts) of \(maxRestarts), with --resume auto "
                + "(newest checkpoint: \((newest.path as NSString).lastPathComponent))")
            resume = "auto"
        }
    }

    private func runOnce(resume: String?) throws -> (code: Int32, reason: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = command + (resume.map { ["--resume", $0] } ?? [])
        process.environment = ProcessInfo.processInfo.environment.merging([Watchdog.supervisorVariable: "\(getpid())"]) { $1 }
        do { try process.run() } catch {
            throw ConfigurationError("--max-restarts: cannot start \(command[0]): \(error.localizedDescription)")
        }
        StopSignals.child = process.processIdentifier
        // A signal that came while the job was starting is passed on now.
        if let signal = StopSignals.received { kill(process.processIdentifier, signal) }
        var killAt: DispatchTime?
        while process.isRunning {
            if StopSignals.received != nil, killAt == nil { killAt = .now() + StopSignals.grace }
            if let killAt, DispatchTime.now() > killAt { kill(process.processIdentifier, SIGKILL) }
            Thread.sleep(forTimeInterval: 0.1)
        }
        StopSignals.child = 0
        process.waitUntilExit()
        let code = process.terminationStatus
        switch process.terminationReason {
        case .uncaughtSignal: return (128 + code, "killed by signal \(code)")
        default: return (code, "exit status \(code)")
        }
    }
}

/// The signals that stop a supervised run, caught so the supervisor outlives them long enough to
/// end its job. The handler only forwards (`kill` is async-signal-safe) and records; a caught
/// signal reverts to its default in the job's processes at exec, where an ignored or blocked one
/// would stay ignored or blocked.
enum StopSignals {
    /// Seconds the job has to end after the signal before it is killed (its ranks then see their
    /// launcher gone and exit by themselves).
    static let grace: TimeInterval = 10
    // Written by the handler and the supervisor's one thread only: a pid and a signal number.
    nonisolated(unsafe) static var child: pid_t = 0
    nonisolated(unsafe) private static var signal: Int32 = 0

    /// The first stop signal received, if any.
    static var received: Int32? { signal == 0 ? nil : signal }

    static func install() {
        // A launcher started from a thread that blocks them (a dispatch worker's) inherits the block.
        var unblocked = sigset_t()
        sigemptyset(&unblocked)
        for number in [SIGINT, SIGTERM, SIGHUP] { sigaddset(&unblocked, number) }
        pthread_sigmask(SIG_UNBLOCK, &unblocked, nil)
        for number in [SIGINT, SIGTERM, SIGHUP] {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { number in
                if StopSignals.signal == 0 { StopSignals.signal = number }
                if StopSignals.child > 0 { kill(StopSignals.child, number) }
            }
            sigemptyset(&action.sa_mask)
            sigaction(number, &action, nil)
        }
    }
}
