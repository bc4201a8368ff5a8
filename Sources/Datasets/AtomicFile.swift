import Foundation
import HDF5

/// Writes bytes to a file whole or not at all (`AtomicReplacement`: a temporary beside it,
/// flushed to disk, renamed over the target, the directory flushed).
public enum AtomicFile {
    /// - Throws: the system's reason ("No such file or directory"), for the caller to name the file.
    public static func write(_ bytes: [UInt8], to path: String) throws(Failure) {
        do {
            try AtomicReplacement.replace(path) { temporary in
                // A temporary left by a dead process of the same pid goes first; a link planted
                // at the name is refused rather than followed.
                unlink(temporary)
                let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644)
                guard descriptor >= 0 else { throw Failure(description: String(cString: strerror(errno))) }
                defer { close(descriptor) }
                var written = 0
                while written < bytes.count {
                    let result = bytes.withUnsafeBytes { Foundation.write(descriptor, $0.baseAddress! + written, bytes.count - written) }
                    guard result > 0 else { throw Failure(description: String(cString: strerror(errno))) }
                    written += result
                }
            }
        } catch let failure as Failure {
            throw failure
        } catch {
            throw Failure(description: (error as? AtomicReplacement.Failure)?.reason ?? "\(error)")
        }
    }

    /// Why a write failed, as the system put it.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }
}
