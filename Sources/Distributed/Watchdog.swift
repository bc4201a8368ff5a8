import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Ends this rank when it stops making progress anywhere, in computation or inside a
/// collective, so that a hung or unreachable rank never leaves the job waiting forever.
///
/// MPI gives no timeout on a collective: when one rank stops (SIGSTOP, a swapping node) or a
/// link is cut, the others wait inside `MPI_Allreduce` indefinitely, and an abort sent over a
/// dead link never arrives. So every rank watches itself from a thread of its own: the work
/// marks each step and phase, and when the mark has not moved for `timeout` seconds the rank says
/// where it is stuck (and names the ranks whose heartbeats stopped: see `Heartbeats`) and exits.
/// mpirun then ends the ranks it can still reach; the ones it cannot reach time out the same way
/// on their own. The thread also exits the rank when its launcher (mpirun or the host's daemon)
/// or its supervisor dies, so no orphans stay behind. The thread makes no MPI call: nothing MPI
/// holds can keep it from deciding.
///
/// A rank started by a launcher has one watchdog for its whole life (`process`): from before
/// `MPI_Init` to the end of `MPI_Finalize` or `MPI_Abort`, whatever the command.
public final class Watchdog: @unchecked Sendable {
    private let rank: Int
    private let host: String
    private let condition = NSCondition()
    private let finished = DispatchSemaphore(value: 0)
    private var timeout: Double
    private var heartbeats: Heartbeats?
    private var step = 0
    private var phase = "starting"
    /// Moves with every mark and every `progressed()`; the supervisor's progress file carries it.
    private var marks = 0
    /// On the monotonic clock: a step of the wall clock (NTP, a resumed VM) neither kills a healthy
    /// rank nor blinds the watchdog.
    private var lastProgress = Watchdog.now()
    private var stopped = false
    private let launcher: Launcher?
    /// The `--max-restarts` supervisor this rank's job runs under, if any (`supervisorVariable`).
    private let supervisor: Launcher?
    /// Where rank 0 tells the supervisor it still makes progress (`progressFileVariable`).
    private let progressFile: String?
    /// A phase at which this rank stops itself (`stopVariable`), to provoke faults in tests.
    private let stopAt: String?

    /// The watchdog of this process, which long work tells of its progress: a rank started by a
    /// launcher has one from before `MPI_Init` (`MPIRuntime.world()`) to the end of
    /// `MPI_Finalize`; a process started alone, while it trains (`forThisProcess`).
    public private(set) nonisolated(unsafe) static var process: Watchdog?

    /// The process's watchdog, started now if it has none; the caller stops one it started.
    public static func forThisProcess(rank: Int, host: String, timeout: Double, launched: Bool) -> (watchdog: Watchdog, started: Bool) {
        if let process { return (process, false) }
        process = Watchdog(rank: rank, host: host, timeout: timeout, launched: launched)
        return (process!, true)
    }

    /// Seconds of silence allowed until a command says otherwise (`--stall-timeout`).
    public static let defaultTimeout: Double = 300

    /// The environment variable through which a supervisor gives its job its pid: a rank ends when
    /// that process is gone (killed with SIGKILL, it cannot pass a signal on), and as one rank's
    /// end ends the job, no job outlives its supervisor.
    public static let supervisorVariable = "LEARNEDLOSS_SUPERVISOR_PID"

    /// The environment variable naming a file rank 0 writes a counter to whenever it makes
    /// progress, so that a supervisor can tell a job that stalls as a whole (every rank stopped)
    /// from one that works.
    public static let progressFileVariable = "LEARNEDLOSS_PROGRESS_FILE"

    /// `RANK:TEXT`: that rank stops itself (SIGSTOP) on entering a phase whose name contains TEXT.
    /// For the fault tests, which must stop a rank in a phase too short to hit with a signal.
    public static let stopVariable = "LEARNEDLOSS_STOP_AT"

    /// Starts watching until `stop()`. `launched`: the rank was started by mpirun or srun, whose
    /// death should end it.
    public init(rank: Int, host: String, timeout: Double, launched: Bool) {
        (self.rank, self.host, self.timeout) = (rank, host, timeout)
        launcher = launched ? Launcher(pid: getppid()) : nil
        let environment = ProcessInfo.processInfo.environment
        supervisor = environment[Self.supervisorVariable].flatMap { pid_t($0) }.map { Launcher(pid: $0) }
        progressFile = rank == 0 ? environment[Self.progressFileVariable] : nil
        stopAt = environment[Self.stopVariable].flatMap { value in
            value.split(separator: ":", maxSplits: 1).first.flatMap { Int($0) } == rank ? String(value.drop { $0 != ":" }.dropFirst()) : nil
        }
        // The thread holds the watchdog until it sees `stop()`, so it never reads a freed one.
        let thread = Thread { [self] in watch() }
        thread.name = "watchdog"
        thread.start()
    }

    /// Sets the seconds of silence after which the rank ends, from now on.
    public func setTimeout(_ seconds: Double) {
        condition.withLock { timeout = seconds }
    }

    /// Starts naming silent peers from `heartbeats`, which this watchdog closes before MPI is finalized.
    func attach(_ heartbeats: Heartbeats?) {
        condition.withLock { self.heartbeats = heartbeats }
    }

    /// This rank's step and phase, for its heartbeats.
    public var position: @Sendable () -> (step: Int, phase: String) {
        { [unowned self] in condition.withLock { (step, phase) } }
    }

    /// Marks progress: the rank is now at `step`, doing `phase` (for example "waiting in the
    /// all-reduce of the discriminator's gradients").
    public func mark(step: Int? = nil, _ phase: String) {
        condition.lock()
        if let step { self.step = step }
        self.phase = phase
        lastProgress = Self.now()
        marks += 1
        condition.unlock()
        if let stopAt, phase.contains(stopAt) { raise(SIGSTOP) }
    }

    /// Marks progress within the current phase: long work (decoding a folder of images, writing a
    /// checkpoint, an evaluation's batches) calls this as it goes, and so may take longer than
    /// the timeout as a whole.
    public func progressed() {
        condition.withLock {
            lastProgress = Self.now()
            marks += 1
        }
    }

    /// Closes the heartbeats, which call MPI, and marks `phase`: MPI is about to end. Their last
    /// sightings still name the silent ranks if the rank stalls in what follows.
    func closeHeartbeats(entering phase: String) {
        condition.withLock { heartbeats }?.close()
        mark(phase)
    }

    /// Stops watching, at the end of the work. A watchdog never stopped ends the rank once it idles.
    public func stop() {
        if Self.process === self { Self.process = nil }
        let heartbeats = condition.withLock {
            stopped = true
            condition.signal()
            defer { self.heartbeats = nil }
            return self.heartbeats
        }
        heartbeats?.close()
        _ = finished.wait(timeout: .now() + 5)
    }

    private func watch() {
        var reported = -1
        while true {
            condition.lock()
            // Checks often enough that the rank ends within a second or two of the timeout.
            let interval = min(1, max(0.05, timeout / 20))
            if !stopped { _ = condition.wait(until: Date().addingTimeInterval(interval)) }
            let (done, idle, step, phase, timeout, marks) = (stopped, Self.now() - lastProgress, self.step, self.phase, self.timeout, self.marks)
            let heartbeats = self.heartbeats
            condition.unlock()
            if done {
                finished.signal()
                return
            }
            if let launcher, !launcher.isAlive {
                end("its launcher (process \(launcher.pid)) is gone; ending this rank at step \(step), \(phase)")
            }
            if let supervisor, !supervisor.isRunning {
                end("its supervisor (process \(supervisor.pid)) is gone; ending this rank at step \(step), \(phase)")
            }
            // A margin past the timeout lets a check-in's own timeout, which names the missing
            // ranks, speak first when the ranks are stuck at the start of a step.
            if idle > timeout + 2 {
                var message = "no progress for \(Int(idle.rounded())) s at step \(step), \(phase); ending this rank so the job ends"
                if let heartbeats {
                    // Silence this long, while the others' heartbeats keep coming, means a rank is stopped or cut off.
                    let silence = min(timeout, 10)
                    if let silent = heartbeats.describeSilentPeers(longerThan: silence) {
                        message += "\n" + silent
                    } else if rank == 0 {
                        message += "\nrank 0 heard from every rank within \(Int(silence)) s"
                    }
                }
                end(message)
            }
            if let progressFile, marks != reported {
                reported = marks
                Self.record(marks, in: progressFile)
            }
        }
    }

    /// Writes `count` over the file's first bytes; the supervisor watches it change.
    private static func record(_ count: Int, in path: String) {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NONBLOCK, 0o600)
        guard descriptor >= 0 else { return }
        var text = Array("\(count)\n".utf8)
        _ = pwrite(descriptor, &text, text.count, 0)
        close(descriptor)
    }

    /// Seconds on the monotonic clock.
    static func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

    private func end(_ message: String) -> Never {
        let line = "error: rank \(rank) (host \(host)): \(message)\n"
        _ = line.withCString { write(STDERR_FILENO, $0, strlen($0)) }
        launcher?.killIfStillAlive(after: Self.launcherGrace)
        // _exit: no atexit handlers or MPI_Finalize, which would wait for the stuck ranks.
        _exit(Self.exitStatus)
    }

    /// The status a rank ended by its watchdog exits with, for supervisors to tell it apart.
    public static let exitStatus: Int32 = 75

    /// Seconds an MPI launcher gets to end the job after a watchdog fired, before it is killed.
    public static let launcherGrace = 10
}

/// The process that started this rank (or the supervisor above it), recognised by its pid and
/// start time so that a reused pid is never taken for it.
private struct Launcher {
    let pid: pid_t
    private let startTime: String?
    private let isMPILauncher: Bool
    /// A host's daemon (orted, prted) rather than the job's own mpirun: it may serve other jobs.
    private let isDaemon: Bool

    init(pid: pid_t) {
        self.pid = pid
        startTime = Self.startTime(of: pid)
        let name = (try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
        isMPILauncher = ["mpirun", "mpiexec", "orterun", "orted", "prterun", "prted"].contains(name ?? "")
        isDaemon = ["orted", "prted"].contains(name ?? "")
    }

    var isAlive: Bool { getppid() == pid }

    /// Whether the process still runs, for one that is not this rank's parent.
    var isRunning: Bool { startTime != nil && Self.startTime(of: pid) == startTime }

    /// Field 22 of /proc/PID/stat, the process's start time in clock ticks since boot.
    private static func startTime(of pid: pid_t) -> String? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let end = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: end)...].split(separator: " ")
        return fields.count > 19 ? String(fields[19]) : nil
    }

    /// Leaves behind a process that kills the launcher if it is still there after `seconds`.
    ///
    /// An MPI launcher ends the job when a rank exits, but first tells every host's daemon to end
    /// its ranks and waits for the answers; across a cut link those never come, and mpirun and the
    /// far host's daemon then wait for each other forever. Slurm's step daemons are not touched:
    /// Slurm ends a step whose node is lost by itself.
    func killIfStillAlive(after seconds: Int) {
        guard isMPILauncher, let startTime else { return }
        // Waits no longer than the launcher lives; kills it only if the pid still has its start time.
        var script = "i=0; while [ $i -lt \(seconds) ] && [ -e /proc/\(pid) ]; do sleep 1; i=$((i + 1)); done; "
            + "[ \"$(cut -d' ' -f22 /proc/\(pid)/stat 2>/dev/null)\" = \(startTime) ] || exit 0; "
        if isDaemon, let namespace = ProcessInfo.processInfo.environment["PMIX_NAMESPACE"], namespace.allSatisfy(\.isNumber) {
            // A persistent daemon (a DVM) serves other jobs too: this job's ranks under it are
            // killed, and the daemon only when no other job's process runs under it.
            script += "other=0; for stat in /proc/[0-9]*/stat; do "
                + "[ \"$(cut -d' ' -f4 $stat 2>/dev/null)\" = \(pid) ] || continue; child=${stat%/stat}; "
                + "if tr '\\0' '\\n' < $child/environ 2>/dev/null | grep -qx PMIX_NAMESPACE=\(namespace); then kill -KILL ${child#/proc/}; "
                + "else other=1; fi; done; [ $other = 0 ] || exit 0; "
        }
        script += "kill -KILL \(pid)"
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // Its own session: mpirun ends a rank by signalling its process group, which must not take
        // the killer with it. 0x80 is glibc's POSIX_SPAWN_SETSID, which Swift cannot see (_GNU_SOURCE).
        posix_spawnattr_setflags(&attributes, 0x80)
        var child: pid_t = 0
        let command: [String] = ["/bin/sh", "-c", script]
        let arguments: [UnsafeMutablePointer<CChar>?] = command.map { strdup($0) } + [nil]
        defer { arguments.forEach { free($0) } }
        _ = posix_spawn(&child, "/bin/sh", nil, &attributes, arguments, environ)
    }
}
