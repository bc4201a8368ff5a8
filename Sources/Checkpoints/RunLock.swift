import Foundation

/// One job per run directory: an exclusive `flock` on `RunDirectory.lockPath`, held by rank 0 for
/// the life of the job and released by the kernel however the process ends (a job killed with
/// SIGKILL leaves the directory free). The file names its holder, for the job refused.
public final class RunLock {
    private let descriptor: Int32

    /// Takes the lock of `directory`, which must exist, or throws naming the job that holds it.
    /// Holding it, removes the temporaries (`*.partial-PID`) a dead writer left: no other job
    /// can be writing them.
    public init(_ directory: RunDirectory, host: String) throws {
        let path = directory.lockPath
        descriptor = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw ConfigurationError("--run-dir \(directory.path): cannot open its lock file \(path): \(String(cString: strerror(errno)))")
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let reason = errno
            let holder = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            close(descriptor)
            guard reason == EWOULDBLOCK else {
                throw ConfigurationError("--run-dir \(directory.path): cannot lock \(path): \(String(cString: strerror(reason)))")
            }
            throw ConfigurationError("--run-dir \(directory.path) is in use by another job (\(holder.isEmpty ? "holder unknown" : holder)); "
                                     + "wait for it to end, or give this run its own --run-dir")
        }
        let holder = Array("pid \(getpid()) on host \(host)\n".utf8)
        // The holder's name is a courtesy to the job refused: a failed write leaves the lock held.
        if ftruncate(descriptor, 0) == 0 { _ = holder.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, 0) } }
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [] where name.contains(".partial-") {
            unlink((directory.path as NSString).appendingPathComponent(name))
        }
    }

    deinit { close(descriptor) }
}
