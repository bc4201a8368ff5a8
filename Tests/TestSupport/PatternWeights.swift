import Foundation
import Models

/// Weights and inputs that a test and a PyTorch fixture script both compute from a formula, so
/// fixtures hold only results (the scripts' `pattern` and `set_pattern_weights`).
public enum PatternWeights {
    /// scale·sin(0.37·i + 1.1·seed) + shift over the flat index i, in Double then Float.
    public static func pattern(_ shape: [Int], seed: Int, scale: Double = 1, shift: Double = 0) -> Tensor {
        Tensor(shape: shape) { Float(shift + scale * sin(0.37 * Double($0) + 1.1 * Double(seed))) }
    }

    /// Every parameter and buffer of `network` but running statistics from `pattern`, its index in
    /// the state dict as the seed: matrices scaled by 1/√fan-in, BatchNorm scales around 1, the
    /// rest (biases, spectral normalization's u and v) small.
    public static func set(_ network: Layer) {
        for (index, (entryName, entry)) in network.state.enumerated() where !entryName.contains("running") {
            guard let shape = entry.tensor?.shape else { continue }
            if shape.count >= 2 {
                entry.tensor = pattern(shape, seed: index, scale: 1 / Double(shape.dropFirst().reduce(1, *)).squareRoot())
            } else if entryName.hasSuffix("weight") {
                entry.tensor = pattern(shape, seed: index, scale: 0.1, shift: 1)
            } else {
                entry.tensor = pattern(shape, seed: index, scale: 0.1)
            }
        }
    }

    /// shift + scale·(2u − 1), u uniform in [0, 1) from SplitMix64 of the flat index i + (seed + 1)·golden,
    /// in Double then Float: the fixture scripts' `hashed`, for networks too deep for `pattern`'s
    /// smooth values (they cancel the input out of the Inception network's deep features).
    public static func hashed(_ shape: [Int], seed: Int, scale: Double = 1, shift: Double = 0) -> Tensor {
        let golden: UInt64 = 0x9E37_79B9_7F4A_7C15
        let offset = UInt64(seed + 1) &* golden
        return Tensor(shape: shape) { index in
            var z = UInt64(index) &+ offset
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            z ^= z >> 31
            let u = Double(z >> 11) * 0x1p-53
            return Float(shift + scale * (2 * u - 1))
        }
    }

    /// Every tensor of `network`'s state from `hashed`, seeded by its index in the state (counters
    /// count too, as in PyTorch's state dict): kernels within 1/√fan-in, BatchNorm's scale around 1,
    /// running variances around 0.15 (the Inception fixture script's `hashed_weights`).
    public static func setHashed(_ network: Layer) {
        for (index, (name, entry)) in network.state.enumerated() {
            guard let shape = entry.tensor?.shape else { continue }
            if shape.count >= 2 {
                entry.tensor = hashed(shape, seed: index, scale: 1 / Double(shape.dropFirst().reduce(1, *)).squareRoot())
            } else if name.hasSuffix("running_var") {
                entry.tensor = hashed(shape, seed: index, scale: 0.0075, shift: 0.15)
            } else if name.hasSuffix("running_mean") {
                entry.tensor = hashed(shape, seed: index, scale: 0.05)
            } else if name.hasSuffix("weight") {
                entry.tensor = hashed(shape, seed: index, scale: 0.1, shift: 1)
            } else {
                entry.tensor = hashed(shape, seed: index, scale: 0.1)
            }
        }
    }
}
