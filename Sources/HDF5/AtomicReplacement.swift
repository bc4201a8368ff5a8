import Foundation

/// Replaces a file whole or not at all: the caller fills a temporary beside it, which is flushed
/// to disk and renamed over the target, and then the directory is flushed too, so that after a
/// crash, a full disk or a power loss the path holds the old file or the whole new one, never a
/// half file or a renamed empty one. HDF5 files and every other file LearnedLoss writes whole go
/// through here.
package enum AtomicReplacement {
    /// The step that failed ("write x to disk") and the system's reason.
    package struct Failure: Error, CustomStringConvertible {
        package let step: String
        package let reason: String
        package var description: String { "\(step): \(reason)" }

        init(_ step: String) { (self.step, reason) = (step, String(cString: strerror(errno))) }
    }

    /// Calls `fill` with the temporary's path, then puts the temporary in `path`'s place; the
    /// temporary is removed if anything fails. Rethrows `fill`'s errors, and `Failure` for the rest.
    package static func replace(_ path: String, fill: (_ temporary: String) throws -> Void) throws {
        let temporary = "\(path).partial-\(getpid())"
        let directory = (path as NSString).deletingLastPathComponent
        do {
            try fill(temporary)
            try synchronize(temporary)
            guard rename(temporary, path) == 0 else { throw Failure("move \(temporary) into place") }
            try synchronize(directory.isEmpty ? "." : directory)
        } catch {
            unlink(temporary)
            throw error
        }
    }

    private static func synchronize(_ file: String) throws(Failure) {
        let descriptor = open(file, O_RDONLY)
        guard descriptor >= 0, fsync(descriptor) == 0 else {
            let failure = Failure("write \(file) to disk")
            if descriptor >= 0 { close(descriptor) }
            throw failure
        }
        close(descriptor)
    }
}
