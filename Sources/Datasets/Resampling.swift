/// Resizing an image plane with an antialiased filter: area averaging when it shrinks (each
/// output pixel the mean of the input it covers, parts of pixels weighted by their share, as
/// OpenCV's INTER_AREA and Pillow's BOX), bilinear interpolation between pixel centres when it
/// grows (as Pillow's BILINEAR). Never nearest-neighbour, which aliases.
enum Resampling {
    /// Each output index's input indices and weights (summing to 1), `input` pixels to `output`.
    static func weights(from input: Int, to output: Int) -> [[(index: Int, weight: Double)]] {
        let scale = Double(input) / Double(output)
        return (0..<output).map { o in
            if output <= input {
                let (start, end) = (Double(o) * scale, Double(o + 1) * scale)
                return (Int(start.rounded(.down))..<min(input, Int(end.rounded(.up)))).compactMap { i in
                    let covered = min(end, Double(i + 1)) - max(start, Double(i))
                    return covered > 0 ? (i, covered / scale) : nil
                }
            }
            let centre = (Double(o) + 0.5) * scale - 0.5
            let left = Int(centre.rounded(.down)), fraction = centre - Double(left)
            return [(max(0, min(input - 1, left)), 1 - fraction), (max(0, min(input - 1, left + 1)), fraction)]
        }
    }

    /// `plane` `[height, width]` resized to `[size, size]`, rounded to the nearest byte.
    static func resize(_ plane: ArraySlice<UInt8>, height: Int, width: Int, to size: Int) -> [UInt8] {
        let (rows, columns) = (weights(from: height, to: size), weights(from: width, to: size))
        let base = plane.startIndex
        // Columns first, into doubles [height, size], then rows.
        var horizontal = [Double](repeating: 0, count: height * size)
        for y in 0..<height {
            for (x, taps) in columns.enumerated() {
                horizontal[y * size + x] = taps.reduce(0) { $0 + $1.weight * Double(plane[base + y * width + $1.index]) }
            }
        }
        var result = [UInt8](repeating: 0, count: size * size)
        for (y, taps) in rows.enumerated() {
            for x in 0..<size {
                let value = taps.reduce(0) { $0 + $1.weight * horizontal[$1.index * size + x] }
                result[y * size + x] = UInt8(max(0, min(255, value.rounded())))
            }
        }
        return result
    }
}
