import Datasets
import Foundation

/// The safetensors format (Hugging Face): an 8-byte little-endian header length, a JSON header
/// mapping each tensor's name to its dtype, shape and byte range in the data that follows, then
/// the raw little-endian data. Written by hand: it is a JSON object and a byte copy.
public enum Safetensors {
    /// One stored tensor: float32 values, or int64 ones (BatchNorm's `num_batches_tracked`).
    public struct Tensor: Equatable, Sendable {
        public enum Values: Equatable, Sendable {
            case float32([Float])
            case int64([Int64])
        }
        public let name: String
        public let shape: [Int]
        public let values: Values

        public init(name: String, shape: [Int], values: Values) {
            (self.name, self.shape, self.values) = (name, shape, values)
        }

        var dtype: String {
            switch values {
            case .float32: "F32"
            case .int64: "I64"
            }
        }

        /// The values' bytes, little-endian as the format stores them: the machine's own order on
        /// every CPU LearnedLoss builds for, so one copy.
        var bytes: [UInt8] {
            precondition(1.littleEndian == 1, "safetensors stores little-endian values; this CPU is big-endian")
            switch values {
            case .float32(let values): return values.withUnsafeBytes { Array($0) }
            case .int64(let values): return values.withUnsafeBytes { Array($0) }
            }
        }
    }

    /// The file's bytes: tensors in name order, back to back, as the format's loaders require
    /// (no gaps); `metadata` goes under `__metadata__`.
    public static func encode(_ tensors: [Tensor], metadata: [String: String]) throws -> [UInt8] {
        var header: [String: Any] = ["__metadata__": metadata]
        var data: [UInt8] = []
        for tensor in tensors.sorted(by: { $0.name < $1.name }) {
            let bytes = tensor.bytes
            header[tensor.name] = ["dtype": tensor.dtype, "shape": tensor.shape, "data_offsets": [data.count, data.count + bytes.count]]
            data += bytes
        }
        var json = Array(try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys, .withoutEscapingSlashes]))
        // Padding with spaces to a multiple of 8 keeps the data aligned for loaders that map the file.
        json += [UInt8](repeating: UInt8(ascii: " "), count: (8 - json.count % 8) % 8)
        return withUnsafeBytes(of: UInt64(json.count).littleEndian) { Array($0) } + json + data
    }

    /// Writes `encode(tensors, metadata:)` to `path`, whole or not at all.
    public static func write(_ tensors: [Tensor], metadata: [String: String], to path: String) throws {
        let bytes = try encode(tensors, metadata: metadata)
        do { try AtomicFile.write(bytes, to: path) } catch { throw ConfigurationError("--out \(path): cannot write (\(error))") }
    }
}

extension CheckpointFile {
    /// The groups that hold a network's state (its PyTorch state_dict names), in name order.
    public func networkNames() throws -> [String] {
        let other: Set = ["optimizer", "rng", "sampler", "samples"]
        return try root.childNames().filter { root.isGroup($0) && !other.contains($0) }
    }

    /// Every entry of network group `name`, under its PyTorch name, with its stored type.
    public func tensors(ofNetwork name: String) throws -> [Safetensors.Tensor] {
        let networks = try networkNames()
        guard networks.contains(name) else {
            throw CheckpointError("\(path): holds no network \(name); its networks are \(networks.joined(separator: ", "))")
        }
        let group = try root.group(name)
        return try group.childNames().map { entry in
            let shape = try group.shape(of: entry)
            return Safetensors.Tensor(name: entry, shape: shape, values: try group.storesIntegers(entry)
                                      ? .int64(try group.read(entry, as: Int64.self).values) : .float32(try group.read(entry, as: Float.self).values))
        }
    }
}

extension Safetensors {
    /// Writes network `network` of the checkpoint at `checkpointPath` to `path`. "generator" means
    /// the generator average when the checkpoint has one, unless `raw`, as for sample and evaluate.
    /// - Returns: the group exported and its number of tensors.
    @discardableResult
    public static func export(checkpoint checkpointPath: String, network: String, raw: Bool, to path: String) throws -> (group: String, tensors: Int) {
        guard (path as NSString).pathExtension.lowercased() == "safetensors" else {
            throw ConfigurationError("--out \(path): expected a file ending in .safetensors")
        }
        let checkpoint = try CheckpointFile(path: checkpointPath)
        let group = network == "generator" && !raw && checkpoint.holds(CheckpointFormat.generatorAverage) ? CheckpointFormat.generatorAverage : network
        let tensors = try checkpoint.tensors(ofNetwork: group)
        try write(tensors, metadata: ["format": "pt", "preset": checkpoint.configuration.preset.rawValue, "network": group,
                                      "step": String(checkpoint.step), "source": checkpointPath], to: path)
        return (group, tensors.count)
    }
}
