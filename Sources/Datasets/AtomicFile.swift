import Foundation

/// Writes a file whole or not at all: to a temporary name beside it, flushed to disk, then renamed
/// over the target, so a crash or a full disk never leaves a half file over a good one.
public enum AtomicFile {
    /// - Throws: the system's reason ("No such file or directory"), for the caller to name the file.
    public static func write(_ bytes: [UInt8], to path: String) throws(Failure) {
        let temporary = "\(path).partial-\(getpid())"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard descriptor >= 0 else { throw Failure() }
        var written = 0
        while written < bytes.count {
            let result = bytes.withUnsafeBytes { Foundation.write(descriptor, $0.baseAddress! + written, bytes.count - written) }
            guard result > 0 else {
                let failure = Failure()
                close(descriptor)
                unlink(temporary)
                throw failure
            }
            written += result
        }
        guard fsync(descriptor) == 0, close(descriptor) == 0, rename(temporary, path) == 0 else {
            let failure = Failure()
            unlink(temporary)
            throw failure
        }
    }

    /// Why a write failed, from `errno` at the moment it did.
    public struct Failure: Error, CustomStringConvertible {
        public let description = String(cString: strerror(errno))
    }
}
