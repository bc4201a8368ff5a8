import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Ends this rank when it stops making progress anywhere, in computation or inside a
/// collective, so that a hung or unreachable rank never leaves the job waiting forever.
///
/// MPI gives no timeout on a collective: when one rank stops (SIGSTOP, a swapping node) or a
/// link is cut, the others wait inside `MPI_Allreduce` indefinitely, and an abort sent over a
/// dead link never arrives. So every rank watches itself from a thread of its own that calls no
/// MPI: the training loop marks each step and phase, and when the mark has not moved for
/// `timeout` seconds the rank says where it is stuck and exits. mpirun then ends the ranks it
/// can still reach; the ones it cannot reach time out the same way on their own. The thread
/// also exits the rank when its launcher (mpirun or the host's daemon) dies, so no orphans
/// stay behind.
public final class Watchdog: @unchecked Sendable {
    private let rank: Int
    private let host: String
    private let timeout: Double
    private let lock = NSLock()
    private var step = 0
    private var phase = "starting"
    private var lastProgress = Date()
    private var stopped = false
    private let launcher: pid_t?

    /// Starts watching until `stop()`. `launched`: the rank was started by mpirun or srun, whose
    /// death should end it.
    public init(rank: Int, host: String, timeout: Double, launched: Bool) {
        (self.rank, self.host, self.timeout) = (rank, host, timeout)
        launcher = launched ? getppid() : nil
        // The thread holds the watchdog until it sees `stop()`, so it never reads a freed one.
        let thread = Thread { [self] in watch() }
        thread.name = "watchdog"
        thread.start()
    }

    /// Marks progress: the rank is now at `step`, doing `phase` (for example "waiting in the
    /// all-reduce of the discriminator's gradients").
    public func mark(step: Int? = nil, _ phase: String) {
        lock.lock()
        if let step { self.step = step }
        self.phase = phase
        lastProgress = Date()
        lock.unlock()
    }

    /// Stops watching, at the end of the work; a watchdog never stopped ends the rank once it idles.
    public func stop() {
        lock.lock()
        stopped = true
        lock.unlock()
    }

    private func watch() {
        // Checks often enough that the rank ends within a second or two of the timeout.
        let interval = min(1, max(0.05, timeout / 20))
        while true {
            Thread.sleep(forTimeInterval: interval)
            lock.lock()
            let (done, idle, step, phase) = (stopped, Date().timeIntervalSince(lastProgress), self.step, self.phase)
            lock.unlock()
            if done { return }
            if let launcher, getppid() != launcher {
                end("its launcher (process \(launcher)) is gone; ending this rank at step \(step), \(phase)")
            }
            // A margin past the timeout lets a check-in's own timeout, which names the missing
            // ranks, speak first when the ranks are stuck at the start of a step.
            if idle > timeout + 2 {
                end("no progress for \(Int(idle.rounded())) s at step \(step), \(phase); ending this rank so the job ends")
            }
        }
    }

    private func end(_ message: String) -> Never {
        let line = "error: rank \(rank) (host \(host)): \(message)\n"
        _ = line.withCString { write(STDERR_FILENO, $0, strlen($0)) }
        // _exit: no atexit handlers or MPI_Finalize, which would wait for the stuck ranks.
        _exit(Self.exitStatus)
    }

    /// The status a rank ended by its watchdog exits with, for supervisors to tell it apart.
    public static let exitStatus: Int32 = 75
}
