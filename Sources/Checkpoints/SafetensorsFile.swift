import Foundation

/// A safetensors file opened for reading (weights a user gives, such as the FID Inception's).
///
/// Everything the header claims is checked against the file before any tensor is read: the
/// header's length against the file's size, each entry's dtype, shape and byte range against
/// each other and against the data that follows, with no arithmetic that can overflow. A file
/// that fails any check is refused naming it and what is wrong, before anything sized by it is
/// allocated.
public struct SafetensorsFile {
    /// One tensor's description in the header; `bytes` is its range within the data section.
    public struct Entry: Equatable, Sendable {
        public let dtype: String
        public let shape: [Int]
        public let bytes: Range<Int>
    }

    public let path: String
    public let entries: [String: Entry]
    public let metadata: [String: String]
    /// Where the data section starts in the file: after the 8-byte length and the header.
    private let dataStart: Int

    /// The bytes of one element of each dtype the format defines.
    static let elementBytes: [String: Int] = [
        "BOOL": 1, "U8": 1, "I8": 1, "F8_E4M3": 1, "F8_E5M2": 1, "I16": 2, "U16": 2, "F16": 2, "BF16": 2,
        "I32": 4, "U32": 4, "F32": 4, "I64": 8, "U64": 8, "F64": 8,
    ]

    /// The format's own bound on the header, which its reference reader enforces too.
    static let maximumHeaderBytes = 100 << 20

    public init(path: String) throws {
        self.path = path
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw CheckpointError("\(path): cannot open (\(FileManager.default.fileExists(atPath: path) ? "not readable" : "no such file"))")
        }
        defer { try? handle.close() }
        let fileBytes = Int(try handle.seekToEnd())
        try handle.seek(toOffset: 0)
        guard fileBytes >= 8, let prefix = try handle.read(upToCount: 8), prefix.count == 8 else {
            throw CheckpointError("\(path): \(fileBytes) bytes, too short for a safetensors file (an 8-byte header length, then the header)")
        }
        let declared = prefix.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard declared <= UInt64(fileBytes - 8) else {
            throw CheckpointError("\(path): its header claims \(declared) bytes, past the file's end (\(fileBytes) bytes); the file is truncated or not safetensors")
        }
        guard declared <= UInt64(Self.maximumHeaderBytes) else {
            throw CheckpointError("\(path): its header claims \(declared) bytes, more than the format's \(Self.maximumHeaderBytes)")
        }
        let headerBytes = Int(declared)
        guard let header = try handle.read(upToCount: headerBytes), header.count == headerBytes else {
            throw CheckpointError("\(path): the header ended early")
        }
        dataStart = 8 + headerBytes
        (entries, metadata) = try Self.parse(header, dataBytes: fileBytes - dataStart, path: path)
    }

    /// The entries and metadata of `header`, every entry's range within `dataBytes`.
    private static func parse(_ header: Data, dataBytes: Int, path: String) throws -> ([String: Entry], [String: String]) {
        guard let object = (try? JSONSerialization.jsonObject(with: header)) as? [String: Any] else {
            throw CheckpointError("\(path): its header is not a JSON object")
        }
        var entries: [String: Entry] = [:], metadata: [String: String] = [:]
        for (name, value) in object {
            if name == "__metadata__" {
                guard let pairs = value as? [String: Any], pairs.values.allSatisfy({ $0 is String }) else {
                    throw CheckpointError("\(path): __metadata__ must map names to strings")
                }
                metadata = pairs.mapValues { $0 as! String }
                continue
            }
            guard let fields = value as? [String: Any], let dtype = fields["dtype"] as? String,
                  let shape = integers(fields["shape"]), let offsets = integers(fields["data_offsets"]), offsets.count == 2 else {
                throw CheckpointError("\(path): tensor \(name) needs dtype (a string), shape and data_offsets (lists of integers)")
            }
            guard let size = elementBytes[dtype] else { throw CheckpointError("\(path): tensor \(name) has dtype \(dtype), which safetensors does not define") }
            guard shape.allSatisfy({ $0 >= 0 }) else { throw CheckpointError("\(path): tensor \(name) has shape \(shape), with a negative size") }
            let (begin, end) = (offsets[0], offsets[1])
            guard 0 <= begin, begin <= end, end <= dataBytes else {
                throw CheckpointError("\(path): tensor \(name) claims bytes \(begin)..<\(end), outside the file's \(dataBytes) bytes of data (truncated?)")
            }
            // The product is bounded by the range it must equal, so it is checked step by step.
            var expected = size
            for extent in shape {
                let (product, overflow) = expected.multipliedReportingOverflow(by: extent)
                guard !overflow, product <= dataBytes else {
                    throw CheckpointError("\(path): tensor \(name) of shape \(shape) and dtype \(dtype) needs more bytes than the file holds")
                }
                expected = product
            }
            guard expected == end - begin else {
                throw CheckpointError("\(path): tensor \(name) of shape \(shape) and dtype \(dtype) needs \(expected) bytes, its data_offsets give \(end - begin)")
            }
            entries[name] = Entry(dtype: dtype, shape: shape, bytes: begin..<end)
        }
        // The format's tensors tile the data section: no gap, no overlap, nothing after.
        var covered = 0
        for (name, entry) in entries.sorted(by: { ($0.value.bytes.lowerBound, $0.key) < ($1.value.bytes.lowerBound, $1.key) }) {
            guard entry.bytes.lowerBound == covered else {
                throw CheckpointError("\(path): tensor \(name) starts at byte \(entry.bytes.lowerBound) of the data, expected \(covered) (a gap or an overlap)")
            }
            covered = entry.bytes.upperBound
        }
        guard covered == dataBytes else {
            throw CheckpointError("\(path): its tensors cover \(covered) bytes of data, the file holds \(dataBytes)")
        }
        return (entries, metadata)
    }

    /// A JSON list of integers (NSNumber or Int in Foundation's reading), or nil.
    private static func integers(_ value: Any?) -> [Int]? {
        guard let list = value as? [Any] else { return nil }
        var result: [Int] = []
        for item in list {
            guard let number = item as? NSNumber, let integer = Int(exactly: number.doubleValue),
                  Double(integer) == number.doubleValue else { return nil }
            result.append(integer)
        }
        return result
    }

    /// Tensor `name`'s values, which must be float32 of `shape`.
    public func floats(_ name: String, shape expected: [Int]) throws -> [Float] {
        guard let entry = entries[name] else { throw CheckpointError("\(path): holds no tensor \(name)") }
        guard entry.dtype == "F32" else { throw CheckpointError("\(path): tensor \(name) is \(entry.dtype); expected F32 (float32)") }
        guard entry.shape == expected else { throw CheckpointError("\(path): tensor \(name) has shape \(entry.shape); expected \(expected)") }
        guard let handle = FileHandle(forReadingAtPath: path) else { throw CheckpointError("\(path): cannot open") }
        defer { try? handle.close() }
        try handle.seek(toOffset: UInt64(dataStart + entry.bytes.lowerBound))
        guard let data = try handle.read(upToCount: entry.bytes.count), data.count == entry.bytes.count else {
            throw CheckpointError("\(path): tensor \(name) ended early (the file changed while it was read?)")
        }
        return data.withUnsafeBytes { raw in
            (0..<entry.bytes.count / 4).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
        }
    }

    /// Refuses the file unless its tensors are exactly `expected` (name to shape), float32, naming
    /// the first missing, unexpected or misshapen one; `optional` names may be there too (in any
    /// dtype and shape, unread). `what` says what the file should be, for the message.
    public func require(_ expected: [String: [Int]], optional: Set<String> = [], being what: String) throws {
        if let missing = expected.keys.sorted().first(where: { entries[$0] == nil }) {
            throw CheckpointError("\(path): holds no tensor \(missing); expected \(what) (\(expected.count) tensors)")
        }
        if let extra = entries.keys.sorted().first(where: { expected[$0] == nil && !optional.contains($0) }) {
            throw CheckpointError("\(path): holds tensor \(extra), which \(what) does not have")
        }
        for name in expected.keys.sorted() {
            let entry = entries[name]!
            if entry.shape != expected[name]! { throw CheckpointError("\(path): tensor \(name) has shape \(entry.shape); expected \(expected[name]!)") }
            if entry.dtype != "F32" { throw CheckpointError("\(path): tensor \(name) is \(entry.dtype); expected F32 (float32)") }
        }
    }
}
