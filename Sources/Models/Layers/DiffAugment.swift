import Foundation

/// Differentiable augmentation (DiffAugment, Zhao et al. 2020) of the images a discriminator
/// judges, real and generated alike, so a small data set does not let D memorise it: each
/// transform is a differentiable function of the image, and the generator learns through it.
/// What each sample gets is drawn per sample, from a row of `drawsPerSample` normal variates that
/// the caller takes from its seeded streams (so a run's augmentations do not depend on how its
/// batch is split over ranks), mapped to uniforms u = Φ(z).
///
/// As the reference implementation: `color` adds a brightness in [−0.5, 0.5), scales the
/// saturation (around the mean over channels) by [0, 2) and the contrast (around the image's mean)
/// by [0.5, 1.5); `translation` shifts by up to 1/8 of each side, filling with zeros; `cutout`
/// zeroes a square of half the side at a random place. `mirror` flips half of the real images
/// left to right (not differentiated: it is for the data alone).
public struct DiffAugment: Sendable, Equatable {
    public enum Transform: String, CaseIterable, Codable, Sendable {
        case color, translation, cutout, mirror
    }

    public let transforms: Set<Transform>
    /// The normal variates each sample's augmentation is drawn from.
    public static let drawsPerSample = 8

    public init(_ transforms: Set<Transform>) { self.transforms = transforms }

    /// The transforms in the order they apply.
    public var ordered: [Transform] { Transform.allCases.filter(transforms.contains) }

    /// images `[N, C, H, W]` (any layout) → augmented `[N, C, H, W]` (plain), with `draws`
    /// `[N, drawsPerSample]`; `real` allows `mirror`.
    public func callAsFunction(_ images: Variable, draws: Tensor, real: Bool) -> Variable {
        let shape = images.value.shape
        precondition(shape.count == 4 && draws.shape == [shape[0], Self.drawsPerSample], "DiffAugment of \(shape) with draws \(draws.shape)")
        let u = draws.scalars.map { Float(0.5 * erfc(-Double($0) / 2.0.squareRoot())) }
        func uniform(_ sample: Int, _ index: Int) -> Float { u[sample * Self.drawsPerSample + index] }
        var x = images.converted(to: .plain)
        if real && transforms.contains(.mirror) {
            x = x.mirrored((0..<shape[0]).map { uniform($0, 7) < 0.5 })
        }
        if transforms.contains(.color) {
            x = x.brightened((0..<shape[0]).map { uniform($0, 0) - 0.5 })
            x = x.saturated((0..<shape[0]).map { uniform($0, 1) * 2 })
            x = x.contrasted((0..<shape[0]).map { uniform($0, 2) + 0.5 })
        }
        let (height, width) = (shape[2], shape[3])
        if transforms.contains(.translation) {
            func shift(_ u: Float, side: Int) -> Int {
                let limit = Int(Double(side) * 0.125 + 0.5)
                return min(Int(u * Float(2 * limit + 1)), 2 * limit) - limit
            }
            x = x.translated((0..<shape[0]).map { (shift(uniform($0, 3), side: height), shift(uniform($0, 4), side: width)) })
        }
        if transforms.contains(.cutout) {
            func span(_ u: Float, side: Int) -> Range<Int> {
                let size = Int(Double(side) * 0.5 + 0.5)
                let places = side + 1 - size % 2
                let start = min(Int(u * Float(places)), places - 1) - size / 2
                return max(0, start)..<min(side, start + size)
            }
            x = x.cutOut((0..<shape[0]).map { (span(uniform($0, 5), side: height), span(uniform($0, 6), side: width)) })
        }
        return x
    }
}

/// The augmentations as operations on plain `[N, C, H, W]` images, one value per sample.
extension Variable {
    /// Each sample flipped left to right where `flip` says so.
    func mirrored(_ flip: [Bool]) -> Variable {
        let shape = value.shape
        let (planeCount, width) = (shape[1] * shape[2], shape[3])
        func apply(_ x: Tensor) -> Tensor {
            Tensor(shape: shape) { index in
                let (sample, column) = (index / (planeCount * width), index % width)
                return flip[sample] ? x.scalars[index - column + width - 1 - column] : x.scalars[index]
            }
        }
        return Variable.result(apply(value), of: [self]) { self.accumulate(apply($0)) }
    }

    /// x + b per sample.
    func brightened(_ shift: [Float]) -> Variable {
        let size = value.count / value.shape[0]
        return Variable.result(Tensor(shape: value.shape) { value.scalars[$0] + shift[$0 / size] }, of: [self]) { self.accumulate($0) }
    }

    /// (x − m)·s + m per sample, m the mean over channels at each pixel.
    func saturated(_ scale: [Float]) -> Variable {
        let (channels, pixels) = (value.shape[1], value.shape[2] * value.shape[3])
        return blended(scale, groups: value.shape[0] * pixels) { index in index / (channels * pixels) * pixels + index % pixels }
    }

    /// (x − m)·k + m per sample, m the mean over the whole image.
    func contrasted(_ scale: [Float]) -> Variable {
        let size = value.count / value.shape[0]
        return blended(scale, groups: value.shape[0]) { $0 / size }
    }

    /// s·x + (1 − s)·(mean of x over the element's group), s per sample, the `groups` of equal size
    /// lying within samples. The map is s·I + (1 − s)·A with A the averaging, which is symmetric,
    /// so the gradient is the same map of dy.
    private func blended(_ scale: [Float], groups: Int, group: (Int) -> Int) -> Variable {
        let sampleSize = value.count / value.shape[0], groupSize = Float(value.count / groups)
        let membership = (0..<value.count).map(group)
        func apply(_ x: Tensor) -> Tensor {
            var sums = [Float](repeating: 0, count: groups)
            for (index, member) in membership.enumerated() { sums[member] += x.scalars[index] }
            return Tensor(shape: x.shape) { index in
                let mean = sums[membership[index]] / groupSize
                return (x.scalars[index] - mean) * scale[index / sampleSize] + mean
            }
        }
        return Variable.result(apply(value), of: [self]) { self.accumulate(apply($0)) }
    }

    /// Each sample shifted by (rows, columns): y[h, w] = x[h + rows, w + columns], 0 outside.
    func translated(_ shifts: [(Int, Int)]) -> Variable {
        let shape = value.shape
        let (height, width) = (shape[2], shape[3])
        let sampleSize = value.count / shape[0]
        /// The index read for `index`, or nil where the shifted image has no pixel.
        let sources: [Int?] = (0..<value.count).map { index in
            let (row, column) = ((index / width) % height, index % width)
            let (dh, dw) = shifts[index / sampleSize]
            guard (0..<height).contains(row + dh), (0..<width).contains(column + dw) else { return nil }
            return index + dh * width + dw
        }
        let y = Tensor(shape: shape) { sources[$0].map { value.scalars[$0] } ?? 0 }
        return Variable.result(y, of: [self]) { dy in
            var dx = Tensor(shape: shape)
            for (index, source) in sources.enumerated() { if let source { dx.scalars[source] += dy.scalars[index] } }
            self.accumulate(dx)
        }
    }

    /// Each sample with the rectangle (rows, columns) set to zero.
    func cutOut(_ rectangles: [(Range<Int>, Range<Int>)]) -> Variable {
        let shape = value.shape
        let (height, width) = (shape[2], shape[3])
        let sampleSize = value.count / shape[0]
        let mask = Tensor(shape: shape) { index in
            let (rows, columns) = rectangles[index / sampleSize]
            return rows.contains((index / width) % height) && columns.contains(index % width) ? 0 : 1
        }
        return Variable.result(value * mask, of: [self]) { self.accumulate($0 * mask) }
    }
}

extension DiffAugment: LosslessStringConvertible, Codable {
    /// "color,translation,cutout": the transforms separated by commas, in any order; "none" for none.
    public init?(_ description: String) {
        guard description != "none" else { self.init([]); return }
        let names = description.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        let transforms = names.compactMap(Transform.init(rawValue:))
        guard !names.isEmpty, transforms.count == names.count else { return nil }
        self.init(Set(transforms))
    }

    public var description: String { transforms.isEmpty ? "none" : ordered.map(\.rawValue).joined(separator: ",") }

    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let value = DiffAugment(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "augmentations \(text)"))
        }
        self = value
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
