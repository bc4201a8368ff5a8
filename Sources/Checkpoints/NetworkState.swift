import HDF5
import Models

/// A network's state in an HDF5 group: one dataset per state entry, named as PyTorch's state_dict.
/// Shared by checkpoints and the evaluator network's file.
package enum NetworkState {
    package static func write(_ network: Layer, into group: HDF5Group) throws {
        for (name, entry) in network.state {
            if let tensor = entry.tensor {
                try group.write(tensor.scalars, shape: tensor.shape, to: name)
            } else if case .counter(let counter) = entry {
                try group.write([counter.value], shape: [], to: name)
            }
        }
    }

    /// Loads every entry of `network` from `group`, checking that each exists with the network's shape.
    /// - Parameter describe: the message for a missing entry or a wrong shape (the entry's name, its
    ///   stored shape or nil when missing, the expected shape).
    package static func read(_ network: Layer, from group: HDF5Group,
                     failure describe: (String, [Int]?, [Int]) -> String) throws {
        for (name, entry) in network.state {
            if let tensor = entry.tensor {
                entry.tensor = try group.tensor(name, shape: tensor.shape) { describe(name, $0, tensor.shape) }
            } else if case .counter(let counter) = entry {
                guard group.contains(name) else { throw CheckpointError(describe(name, nil, [])) }
                counter.value = try group.read(name, as: Int64.self).values.first ?? 0
            }
        }
    }
}

extension HDF5Group {
    /// The float dataset `name` as a tensor of `shape`; `failure` gives the message when it is
    /// missing (nil) or has another shape (the stored one).
    package func tensor(_ name: String, shape: [Int], failure: ([Int]?) -> String) throws -> Tensor {
        guard contains(name) else { throw CheckpointError(failure(nil)) }
        let stored = try self.shape(of: name)
        guard stored == shape else { throw CheckpointError(failure(stored)) }
        return Tensor(shape: shape, scalars: try read(name, as: Float.self).values)
    }
}
