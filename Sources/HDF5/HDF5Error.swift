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
    static let silenced: Void = { H5Eset_auto2(H5E_DEFAULT, nil, nil) }()

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
        let entries = lines.items.map { $0.split(whereSeparator: \.isNewline).first.map(String.init) ?? $0 }
        guard let outer = entries.first, let inner = entries.last else { return "HDF5 reported an error" }
        return outer == inner ? outer : "\(outer) (\(inner))"
    }
}
