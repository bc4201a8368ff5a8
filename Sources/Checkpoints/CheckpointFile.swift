import Datasets
import Foundation
import HDF5
import Models

/// A checkpoint opened for reading, its identity checked (ours, a format this build reads) and
/// every checksum verified, so nothing is sampled, evaluated or resumed from a damaged file.
public final class CheckpointFile {
    public let path: String
    let root: HDF5Group
    public let step: Int
    public let worldSize: Int
    public let threadsPerRank: Int
    public let created: String
    public let configuration: TrainingConfiguration

    public init(path: String) throws {
        self.path = path
        let file: HDF5File
        do { file = try HDF5File.open(path) } catch {
            throw CheckpointError("\(path): not a readable checkpoint: \(error.message)")
        }
        root = file.root
        guard root.hasAttribute("format"), try root.stringAttribute("format") == CheckpointFormat.name else {
            throw CheckpointError("\(path): not a LearnedLoss checkpoint (no format attribute \"\(CheckpointFormat.name)\")")
        }
        let version = try root.attribute("format_version", as: Int64.self)
        guard version <= CheckpointFormat.version else {
            throw CheckpointError("\(path): checkpoint format version \(version) is newer than this LearnedLoss reads (\(CheckpointFormat.version)); update LearnedLoss")
        }
        step = Int(try root.attribute("step", as: Int64.self))
        worldSize = Int(try root.attribute("world_size", as: Int64.self))
        threadsPerRank = root.hasAttribute("threads_per_rank") ? Int(try root.attribute("threads_per_rank", as: Int64.self)) : 1
        created = try root.stringAttribute("created")
        do {
            configuration = try TrainingConfiguration.fromJSON(try root.stringAttribute("config"))
        } catch let error as HDF5Error { throw error } catch {
            throw CheckpointError("\(path): its config attribute is not a configuration this LearnedLoss reads: \(error)")
        }
        try verify()
    }

    /// Reads every stored value, so every checksum is checked (format 2 and later; version 1
    /// files carry none): a flipped bit anywhere in weights, optimizer, sampler or sample data
    /// is an error naming the file and dataset. An 11 MB dcgan28 checkpoint reads in milliseconds.
    private func verify() throws {
        do { try root.verifyEveryDataset() } catch {
            throw CheckpointError("\(path): damaged: \(error.object) does not match its checksum or cannot be read (\(error.message))")
        }
    }

    /// Whether the checkpoint has a group `name` (a network).
    public func holds(_ name: String) -> Bool { root.contains(name) }

    /// The entries of group `name` ("0.weight", ...); empty when there is no such group.
    public func entryNames(in name: String) -> Set<String> {
        guard let group = try? root.group(name) else { return [] }
        return Set((try? group.childNames()) ?? [])
    }

    /// Loads a network's parameters, buffers and counters from group `name`, checking every shape.
    public func restore(_ network: Layer, from name: String) throws {
        guard root.contains(name) else { throw CheckpointError("\(path): no /\(name) group; this checkpoint holds no \(name)") }
        let preset = configuration.preset.rawValue
        let group = try root.group(name)
        try NetworkState.read(network, from: group) { entry, stored, expected in
            stored.map { "\(path): /\(name)/\(entry) has shape \($0), the \(preset) network expects \(expected)" }
                ?? "\(path): missing /\(name)/\(entry) for the \(preset) \(name)\(otherLayout(of: network, in: group, named: name))"
        }
    }

    /// For a missing entry's message: the entries of `group` that `network` does not have, if any.
    private func otherLayout(of network: Layer, in group: HDF5Group, named name: String) -> String {
        let expected = Set(network.state.map(\.name))
        let unexpected = ((try? group.childNames()) ?? []).filter { !expected.contains($0) }.sorted()
        guard !unexpected.isEmpty else { return "" }
        return "; the file's /\(name) also holds \(unexpected.prefix(4).joined(separator: ", "))"
            + "\(unexpected.count > 4 ? ", ..." : ""), which it does not: a layout of the network from another version of LearnedLoss"
    }

    /// Loads an Adam state written for `network`'s parameters from /optimizer/`name`.
    public func restore(_ optimizer: Adam, of network: Layer, from name: String) throws {
        let group = try root.group("optimizer").group(name)
        var first: [Tensor] = [], second: [Tensor] = []
        for (entryName, parameter) in network.parameterNames {
            let moments = try group.group(entryName)
            first.append(try read(moments, "exp_avg", expecting: parameter.value.shape, of: "optimizer/\(name)/\(entryName)"))
            second.append(try read(moments, "exp_avg_sq", expecting: parameter.value.shape, of: "optimizer/\(name)/\(entryName)"))
        }
        try optimizer.restore(stepCount: Int(try group.attribute("step", as: Int64.self)), firstMoments: first, secondMoments: second)
    }

    /// The sampler's place: (epoch, position).
    public func samplerPosition() throws -> (epoch: Int, position: Int) {
        let group = try root.group("sampler")
        return (Int(try group.attribute("epoch", as: Int64.self)), Int(try group.attribute("position", as: Int64.self)))
    }

    /// The fingerprint of the data set the run trained on (`Dataset.fingerprint()`); nil in
    /// checkpoints from before it was recorded.
    public func dataFingerprint() throws -> String? {
        let group = try root.group("sampler")
        return group.hasAttribute("data_fingerprint") ? try group.stringAttribute("data_fingerprint") : nil
    }

    /// Every dataset of a group with its shape, for `launcher inspect`.
    public func shapes(in name: String) throws -> [(name: String, shape: [Int])] {
        let group = try root.group(name)
        return try group.childNames().map { ($0, try group.shape(of: $0)) }
    }

    private func read(_ group: HDF5Group, _ name: String, expecting shape: [Int], of owner: String) throws -> Tensor {
        try group.tensor(name, shape: shape) { stored in
            stored.map { "\(path): /\(owner)/\(name) has shape \($0), the \(configuration.preset.rawValue) network expects \(shape)" }
                ?? "\(path): missing /\(owner)/\(name)"
        }
    }
}

/// A checkpoint that cannot be used, naming the file and what was expected.
public struct CheckpointError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
