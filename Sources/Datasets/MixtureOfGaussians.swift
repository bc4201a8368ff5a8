import Foundation

import Models

/// PacGAN's synthetic 2-D sets (Lin et al. 2018): equally weighted Gaussians around fixed modes.
public struct MixtureOfGaussians: Sendable {
    /// The centres, `[x, y]` each.
    public let modes: [[Float]]
    /// The standard deviation around every mode.
    public let standardDeviation: Float

    /// 25 modes at {−4, −2, 0, 2, 4}², std 0.05.
    public static let grid = MixtureOfGaussians(
        modes: (-2...2).flatMap { x in (-2...2).map { y in [Float(2 * x), Float(2 * y)] } }, standardDeviation: 0.05)

    /// 8 modes evenly on the unit circle, std 0.01.
    public static let ring = MixtureOfGaussians(
        modes: (0..<8).map { k in
            let angle = 2 * Double.pi * Double(k) / 8
            return [Float(cos(angle)), Float(sin(angle))]
        }, standardDeviation: 0.01)

    /// `count` points `[count, 2]`, each from a uniformly chosen mode, all drawn from `seed`.
    public func sample(count: Int, seed: UInt64, name: String) -> Dataset {
        var random = RandomStream(seed: seed, purpose: .dataset)
        var values = [Float]()
        values.reserveCapacity(2 * count)
        for _ in 0..<count {
            let mode = modes[random.integer(below: modes.count)]
            let noise = random.normal(count: 2, std: standardDeviation)
            values += [mode[0] + noise[0], mode[1] + noise[1]]
        }
        return Dataset(source: name, sampleShape: [2], count: count, storage: .values(values))
    }
}
