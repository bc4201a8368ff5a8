import Foundation

/// A seeded, counter-based random stream whose whole state is two integers.
///
/// Each value is a hash of (key, counter), so a stream can be saved and restored exactly
/// and streams keyed differently are independent: the noise for sample `i` of step `s`
/// comes from `RandomStream(seed:, purpose:, indices: [s, i])` whichever rank draws it.
public struct RandomStream: Equatable, Codable, Sendable {
    /// Identifies the stream: derived from the seed, the purpose and the indices.
    public var key: UInt64
    /// How many 64-bit values the stream has produced.
    public var counter: UInt64

    public init(key: UInt64, counter: UInt64 = 0) {
        self.key = key
        self.counter = counter
    }

    /// The stream for `purpose` (say "latent" or "init") and `indices` under `seed`.
    public init(seed: UInt64, purpose: String, indices: [UInt64] = []) {
        var key = RandomStream.mix(seed ^ 0x6C65_6172_6E65_644C)
        for byte in purpose.utf8 { key = RandomStream.mix(key ^ UInt64(byte)) }
        for index in indices { key = RandomStream.mix(key ^ RandomStream.mix(index &+ 0x9E37_79B9_7F4A_7C15)) }
        self.init(key: key)
    }

    /// SplitMix64's finalizer: a bijection on 64 bits with full avalanche.
    @inline(__always)
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    @inline(__always)
    public mutating func next() -> UInt64 {
        counter &+= 1
        return RandomStream.mix(key &+ counter &* 0x9E37_79B9_7F4A_7C15)
    }

    /// Uniform in [0, 1), with 24 random bits (every `Float` step in that range).
    public mutating func uniform() -> Float {
        Float(next() >> 40) * 0x1p-24
    }

    /// Uniform in [low, high).
    public mutating func uniform(_ low: Float, _ high: Float) -> Float {
        low + (high - low) * uniform()
    }

    /// A uniform integer in `0..<bound`.
    public mutating func integer(below bound: Int) -> Int {
        precondition(bound > 0)
        return Int(next() % UInt64(bound))
    }

    /// `count` draws from N(mean, std²) by the Box–Muller transform, computed in `Double`.
    public mutating func normal(count: Int, mean: Float = 0, std: Float = 1) -> [Float] {
        var values = [Float]()
        values.reserveCapacity(count + 1)
        while values.count < count {
            // 53-bit uniforms; 1 - u keeps the logarithm's argument in (0, 1].
            let u1 = 1 - Double(next() >> 11) * 0x1p-53
            let u2 = Double(next() >> 11) * 0x1p-53
            let radius = (-2 * log(u1)).squareRoot()
            values.append(mean + std * Float(radius * cos(2 * .pi * u2)))
            values.append(mean + std * Float(radius * sin(2 * .pi * u2)))
        }
        return Array(values.prefix(count))
    }

    /// Rows `[keys.count, width]` from N(0, 1), row r from its own stream (seed, purpose, keys[r]):
    /// the noise of samples that any rank, in any batch, must draw the same.
    public static func normalRows(seed: UInt64, purpose: String, keys: [[UInt64]], width: Int) -> Tensor {
        var scalars = [Float]()
        scalars.reserveCapacity(keys.count * width)
        for key in keys {
            var stream = RandomStream(seed: seed, purpose: purpose, indices: key)
            scalars += stream.normal(count: width)
        }
        return Tensor(shape: [keys.count, width], scalars: scalars)
    }

    /// A tensor of `shape` filled from N(mean, std²).
    public mutating func normal(shape: [Int], mean: Float = 0, std: Float = 1) -> Tensor {
        Tensor(shape: shape, scalars: normal(count: shape.reduce(1, *), mean: mean, std: std))
    }

    /// A tensor of `shape` filled from U(low, high).
    public mutating func uniform(shape: [Int], low: Float, high: Float) -> Tensor {
        Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in uniform(low, high) })
    }

    /// A permutation of `0..<count` (Fisher–Yates).
    public mutating func permutation(_ count: Int) -> [Int] {
        var order = Array(0..<count)
        for index in stride(from: count - 1, to: 0, by: -1) { order.swapAt(index, integer(below: index + 1)) }
        return order
    }
}
