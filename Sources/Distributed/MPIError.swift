import CMPI
#if canImport(Glibc)
import Glibc
#endif

/// A failed MPI call: the return code and the library's own text for it.
public struct MPIError: Error, CustomStringConvertible, Equatable {
    /// The MPI error code returned by the call.
    public let code: Int32
    /// The MPI function that failed, for example `MPI_Allreduce`.
    public let function: String
    /// `MPI_Error_string`'s text for `code`.
    public let message: String

    public var description: String { "\(function) failed: \(message) (MPI error \(code))" }

    init(code: Int32, function: String) {
        self.code = code
        self.function = function
        self.message = MPIError.text(for: code)
    }

    static func text(for code: Int32) -> String {
        var buffer = [CChar](repeating: 0, count: Int(MPI_MAX_ERROR_STRING) + 1)
        var length: Int32 = 0
        guard MPI_Error_string(code, &buffer, &length) == MPI_SUCCESS else { return "unknown MPI error" }
        return String(decoding: buffer.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// Turns an MPI return code into a thrown `MPIError`; every MPI call in this module goes through it.
@inline(__always)
func check(_ code: Int32, _ function: StaticString) throws(MPIError) {
    if code != MPI_SUCCESS { throw MPIError(code: code, function: "\(function)") }
}

/// Writes straight to file descriptor 2, unbuffered, so a message is out before an abort.
public func writeToStandardError(_ text: String) {
    var bytes = Array(text.utf8)[...]
    while !bytes.isEmpty {
        let written = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
        if written <= 0 { return }
        bytes = bytes.dropFirst(written)
    }
}
