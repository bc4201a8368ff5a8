import HDF5
import Models

/// A network's state in an HDF5 group: one dataset per state entry, named as PyTorch's state_dict.
/// Shared by checkpoints and the evaluator network's file.
package enum NetworkState {
    package static func write(_ network: Layer, into group: HDF5Group) throws {
        for (name, entry) in network.state {
            switch entry {
            case .parameter(let parameter): try group.write(parameter.value.scalars, shape: parameter.value.shape, to: name)
            case .buffer(let buffer): try group.write(buffer.value.scalars, shape: buffer.value.shape, to: name)
            case .counter(let counter): try group.write([counter.value], shape: [], to: name)
            }
        }
    }

    /// Loads every entry of `network` from `group`, checking that each exists with the network's shape.
    /// - Parameter describe: the message for a missing entry or a wrong shape (the entry's name, its
    ///   stored shape or nil when missing, the expected shape).
    package static func read(_ network: Layer, from group: HDF5Group,
                     failure describe: (String, [Int]?, [Int]) -> String) throws {
        func tensor(_ name: String, _ shape: [Int]) throws -> Tensor {
            guard group.contains(name) else { throw CheckpointError(describe(name, nil, shape)) }
            let stored = try group.shape(of: name)
            guard stored == shape else { throw CheckpointError(describe(name, stored, shape)) }
            return Tensor(shape: shape, scalars: try group.read(name, as: Float.self).values)
        }
        for (name, entry) in network.state {
            switch entry {
            case .parameter(let parameter): parameter.value = try tensor(name, parameter.value.shape)
            case .buffer(let buffer): buffer.value = try tensor(name, buffer.value.shape)
            case .counter(let counter):
                guard group.contains(name) else { throw CheckpointError(describe(name, nil, [])) }
                counter.value = try group.read(name, as: Int64.self).values.first ?? 0
            }
        }
    }
}
