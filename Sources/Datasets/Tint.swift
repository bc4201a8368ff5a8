import Models

/// The colours of colorize28's data: each grayscale image is painted red or green, at random and
/// whatever the garment, so that the right colouring of a gray image is one of two. Their average,
/// yellow, is what a loss that averages paints, and no image has it.
public enum Tint: String, CaseIterable, Codable, Sendable {
    case red, green, yellow

    /// RGB in [0, 1]: a colour image is the gray value g in [0, 1] times this, per pixel.
    public var rgb: [Float] {
        switch self {
        case .red: [1, 0.15, 0.15]
        case .green: [0.15, 1, 0.15]
        case .yellow: [0.575, 0.575, 0.15]
        }
    }

    /// The tints the data is painted with; yellow is only measured.
    public static let painted: [Tint] = [.red, .green]

    /// The seed of the tint stream, fixed so that every run and `evaluate` see the same colours.
    public static let dataSeed: UInt64 = 28

    /// Image `index`'s tint: red or green with probability 1/2, from the stream (`dataSeed`, "tint", index).
    public static func ofImage(_ index: Int) -> Tint {
        var random = RandomStream(seed: dataSeed, purpose: .tint, indices: [UInt64(index)])
        return random.uniform() < 0.5 ? .red : .green
    }

    /// The tint nearest a colour `[r, g, b]` in chromaticity (each scaled to unit length), so that
    /// a dark red and a bright red are both red.
    public static func nearest(to colour: [Float]) -> Tint {
        func unit(_ v: [Float]) -> [Float] {
            let length = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
            return length > 0 ? v.map { $0 / length } : v
        }
        let target = unit(colour)
        return allCases.min { a, b in
            zip(unit(a.rgb), target).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
                < zip(unit(b.rgb), target).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
        }!
    }
}

extension Dataset {
    /// These single-channel images painted with their tints (`Tint.ofImage`): `[3, H, W]` samples,
    /// channel c of pixel p being 2 · g · tint[c] − 1 for the gray value g = (x + 1) / 2 in [0, 1].
    public func tinted() throws -> Dataset {
        guard sampleShape.count == 3, sampleShape[0] == 1 else {
            throw DataError("\(source): colouring needs single-channel images [N, 1, H, W], the file holds samples of shape \(sampleShape)")
        }
        return Dataset(source: source, sampleShape: [3] + sampleShape.dropFirst(), count: count,
                       storage: .tinted(storage, tints: (0..<count).map(Tint.ofImage)))
    }
}
