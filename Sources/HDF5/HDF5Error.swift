import CHDF5

/// A failed HDF5 call, naming the file and object and carrying HDF5's own message.
public struct HDF5Error: Error, CustomStringConvertible {
    /// The file the operation was on.
    public let file: String
    /// The object inside the file (a group, dataset or attribute path), or "/" for the file itself.
    public let object: String
    /// What was being done, for example "read dataset".
    public let operation: String
    /// HDF5's error-stack text, or our own explanation.
    public let message: String

    public var description: String {
        let place = object == "/" ? file : "\(file):\(object)"
        return "\(place): cannot \(operation): \(message)"
    }
}

/// HDF5 prints its error stack to stderr by default; we turn it off once and put
/// the stack's text into `HDF5Error` instead.
enum ErrorStack {
    static let silenced: Void = {
        // HDF5's exit handler closes whatever is still open, and after a write that failed (a
        // full disk) it dereferences a null pointer doing so. Every file here has an owner that
        // closes it, so the handler has nothing to do; it must be declined before HDF5 starts.
        H5dont_atexit()
        H5Eset_auto2(H5E_DEFAULT, nil, nil)
    }()

    /// The innermost descriptions on HDF5's current error stack, then clears it.
    static func drain() -> String {
        final class Lines { var items: [String] = [] }
        let lines = Lines()
        _ = withExtendedLifetime(lines) {
            H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, { _, entry, context in
                let lines = Unmanaged<Lines>.fromOpaque(context!).takeUnretainedValue()
                if let entry, let text = entry.pointee.desc { lines.items.append(String(cString: text)) }
                return 0
            }, Unmanaged.passUnretained(lines).toOpaque())
        }
        H5Eclear2(H5E_DEFAULT)
        // The outermost entry says what failed, the innermost why; the ones between repeat them.
        // A failed read or write says why in the middle of a long entry (after a date and a newline).
        let entries = lines.items.map { entry in
            let reason = entry.firstMatch(of: #/error message = '([^']*)'/#).map { ": " + $0.1 } ?? ""
            return (entry.split(whereSeparator: \.isNewline).first.map(String.init) ?? entry)
                .replacing(#/: time = .*/#, with: "") + reason
        }
        guard let outer = entries.first, let inner = entries.last else { return "HDF5 reported an error" }
        return outer == inner ? outer : "\(outer) (\(inner))"
    }
}
