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
    /// The job's `--stall-timeout`: its ranks end themselves after this long without progress,
    /// and the supervisor ends a job that has not reported progress for this long plus `margin`.
    let stallTimeout: Double
    let say: (String) -> Void

    /// Seconds past the stall timeout the supervisor waits for a silent job's own watchdogs (which
    /// fire at the timeout and give mpirun `Watchdog.launcherGrace` seconds) before ending it itself.
    static let margin: Double = 30

    public init(command: [String], runDirectory: String, maxRestarts: Int, stallTimeout: Double,
                say: @escaping (String) -> Void = { print($0) }) {
        (self.command, self.runDirectory, self.maxRestarts, self.stallTimeout, self.say) = (command, runDirectory, maxRestarts, stallTimeout, say)
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
        let progress = try JobProgress()
        defer { progress.remove() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = command + (resume.map { ["--resume", $0] } ?? [])
        process.environment = ProcessInfo.processInfo.environment.merging(
            [Watchdog.supervisorVariable: "\(getpid())", Watchdog.progressFileVariable: progress.path]) { $1 }
        do { try process.run() } catch {
            throw ConfigurationError("--max-restarts: cannot start \(command[0]): \(error.localizedDescription)")
        }
        StopSignals.child = process.processIdentifier
        // A signal that came while the job was starting is passed on now.
        if let signal = StopSignals.received { kill(process.processIdentifier, signal) }
        var killAt: DispatchTime?
        var stalled: Int?
        while process.isRunning {
            if StopSignals.received != nil, killAt == nil { killAt = .now() + StopSignals.grace }
            if killAt == nil, progress.silentSeconds > stallTimeout + Self.margin {
                // Every rank stopped at once (a paused job, a frozen node) leaves no watchdog to end it.
                stalled = Int(progress.silentSeconds.rounded())
                say("supervisor: the job reported no progress for \(stalled!) s (--stall-timeout \(Self.seconds(stallTimeout)) plus "
                    + "\(Int(Self.margin)) s) and its ranks did not end it; ending it")
                kill(process.processIdentifier, SIGTERM)
                killAt = .now() + StopSignals.grace
            }
            if let killAt, DispatchTime.now() > killAt {
                // The job's processes too: a stopped rank keeps no watch on its launcher.
                for pid in Self.descendants(of: process.processIdentifier) + [process.processIdentifier] { kill(pid, SIGKILL) }
            }
            Thread.sleep(forTimeInterval: 0.1)
        }
        StopSignals.child = 0
        process.waitUntilExit()
        let code = process.terminationStatus
        let reason = stalled.map { "no progress for \($0) s; " } ?? ""
        switch process.terminationReason {
        case .uncaughtSignal: return (128 + code, reason + "killed by signal \(code)")
        default: return (code == 0 && stalled != nil ? 1 : code, reason + "exit status \(code)")
        }
    }

    private static func seconds(_ value: Double) -> String { value == value.rounded() ? "\(Int(value))" : "\(value)" }

    /// Every process below `pid`, from /proc's parent links.
    static func descendants(of pid: pid_t) -> [pid_t] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        var parents: [pid_t: pid_t] = [:]
        for entry in entries {
            guard let child = pid_t(entry), let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                  let end = stat.lastIndex(of: ")") else { continue }
            let fields = stat[stat.index(after: end)...].split(separator: " ")
            if fields.count > 1, let parent = pid_t(fields[1]) { parents[child] = parent }
        }
        var found: [pid_t] = [], frontier = [pid]
        while let next = frontier.popLast() {
            let children = parents.filter { $0.value == next }.map(\.key)
            found += children
            frontier += children
        }
        return found
    }
}

/// The file through which a supervised job's rank 0 reports progress (`Watchdog.progressFileVariable`),
/// in a private temporary directory, and how long it has been unchanged on the supervisor's monotonic clock.
private final class JobProgress {
    let path: String
    private let directory: String
    private var lastContent = ""
    private var lastChange = DispatchTime.now()

    init() throws {
        var template = Array((NSTemporaryDirectory() as NSString).appendingPathComponent("learnedloss-supervisor-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else {
            throw ConfigurationError("--max-restarts: cannot make a temporary directory in \(NSTemporaryDirectory()): \(String(cString: strerror(errno)))")
        }
        directory = String(cString: made)
        path = directory + "/progress"
    }

    /// Seconds since the file last changed (or since the job started, before its first report).
    var silentSeconds: Double {
        let content = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        if content != lastContent { (lastContent, lastChange) = (content, .now()) }
        return Double(DispatchTime.now().uptimeNanoseconds - lastChange.uptimeNanoseconds) / 1e9
    }

    func remove() { try? FileManager.default.removeItem(atPath: directory) }
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
