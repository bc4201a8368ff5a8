import CHDF5
import Foundation

/// An open HDF5 file; its root group is `root`. Closed when released.
public final class HDF5File {
    private let file: Handle
    /// The path the file was opened or created at.
    public let path: String
    /// The group "/".
    public let root: HDF5Group

    private init(id: hid_t, path: String) throws(HDF5Error) {
        self.file = Handle(id, close: H5Fclose)
        self.path = path
        let rootID = H5Gopen2(id, "/", H5P_DEFAULT)
        guard rootID >= 0 else {
            throw HDF5Error(file: path, object: "/", operation: "open root group", message: ErrorStack.drain())
        }
        self.root = HDF5Group(handle: Handle(rootID, close: H5Gclose), filePath: path, path: "/")
    }

    /// Creates (or truncates) a file for writing, in HDF5 1.10's format: its superblock, object
    /// headers (which hold attributes and small datasets) and indexes carry checksums that HDF5
    /// verifies on every read, as the datasets' own Fletcher32 checksums cover their values.
    public static func create(_ path: String) throws(HDF5Error) -> HDF5File {
        ErrorStack.silenced
        let access = H5Pcreate(H5P_FILE_ACCESS)
        guard access >= 0 else { throw HDF5Error(file: path, object: "/", operation: "create file", message: ErrorStack.drain()) }
        defer { H5Pclose(access) }
        guard H5Pset_libver_bounds(access, H5F_LIBVER_V110, H5F_LIBVER_V110) >= 0 else {
            throw HDF5Error(file: path, object: "/", operation: "choose the 1.10 file format", message: ErrorStack.drain())
        }
        // No 2 KiB blocks of metadata and small data: their unused tails are bytes that no
        // checksum covers and no reader reads, so damage there would pass unseen.
        guard H5Pset_meta_block_size(access, 0) >= 0, H5Pset_small_data_block_size(access, 0) >= 0 else {
            throw HDF5Error(file: path, object: "/", operation: "turn off block allocation", message: ErrorStack.drain())
        }
        // The root group is made with the file: its links and attributes stay compact too.
        let creation = H5Pcreate(H5P_FILE_CREATE)
        guard creation >= 0 else { throw HDF5Error(file: path, object: "/", operation: "create file", message: ErrorStack.drain()) }
        defer { H5Pclose(creation) }
        guard H5Pset_attr_phase_change(creation, 65535, 65535) >= 0, H5Pset_link_phase_change(creation, 65535, 65535) >= 0 else {
            throw HDF5Error(file: path, object: "/", operation: "keep the root group's entries compact", message: ErrorStack.drain())
        }
        let id = H5Fcreate(path, H5F_ACC_TRUNC, creation, access)
        guard id >= 0 else { throw HDF5Error(file: path, object: "/", operation: "create file", message: ErrorStack.drain()) }
        return try HDF5File(id: id, path: path)
    }

    /// Opens an existing file, read-only unless `writable`.
    public static func open(_ path: String, writable: Bool = false) throws(HDF5Error) -> HDF5File {
        ErrorStack.silenced
        guard FileManager.default.fileExists(atPath: path) else {
            throw HDF5Error(file: path, object: "/", operation: "open file", message: "no such file")
        }
        guard H5Fis_hdf5(path) > 0 else {
            H5Eclear2(H5E_DEFAULT)
            throw HDF5Error(file: path, object: "/", operation: "open file", message: "not an HDF5 file, or truncated")
        }
        let id = H5Fopen(path, writable ? H5F_ACC_RDWR : H5F_ACC_RDONLY, H5P_DEFAULT)
        guard id >= 0 else { throw HDF5Error(file: path, object: "/", operation: "open file", message: ErrorStack.drain()) }
        return try HDF5File(id: id, path: path)
    }

    /// Writes everything buffered for this file to disk.
    public func flush() throws(HDF5Error) {
        if H5Fflush(file.id, H5F_SCOPE_GLOBAL) < 0 {
            throw HDF5Error(file: path, object: "/", operation: "flush file", message: ErrorStack.drain())
        }
    }

    /// Writes a file through `body` under a temporary name beside `path`, then renames it
    /// into place, so a crash or a thrown error never leaves a half-written file at `path`.
    public static func writeAtomically(_ path: String, _ body: (HDF5File) throws -> Void) throws {
        let directory = (path as NSString).deletingLastPathComponent
        var isDirectory: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: directory.isEmpty ? "." : directory, isDirectory: &isDirectory)
        guard exists, isDirectory.boolValue, access(directory.isEmpty ? "." : directory, W_OK) == 0 else {
            let reason = !exists ? "no such directory" : !isDirectory.boolValue ? "not a directory" : String(cString: strerror(errno))
            throw HDF5Error(file: path, object: "/", operation: "create file", message: "directory \(directory): \(reason)")
        }
        do {
            try AtomicReplacement.replace(path) { temporary in
                // Closed (the handle released) before the temporary is flushed and renamed.
                try withExtendedLifetime(try create(temporary)) { file in
                    try body(file)
                    try file.flush()
                }
            }
        } catch let failure as AtomicReplacement.Failure {
            throw HDF5Error(file: path, object: "/", operation: failure.step, message: failure.reason)
        }
    }

    /// The version of the headers this module was compiled against, "1.10.8".
    public static var headerVersion: String { "\(H5_VERS_MAJOR).\(H5_VERS_MINOR).\(H5_VERS_RELEASE)" }

    /// The linked HDF5 library's version, "major.minor.release".

    public static var libraryVersion: String {
        var major: UInt32 = 0, minor: UInt32 = 0, release: UInt32 = 0
        H5get_libversion(&major, &minor, &release)
        return "\(major).\(minor).\(release)"
    }
}
