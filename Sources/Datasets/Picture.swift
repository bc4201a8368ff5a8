import CPNG
import Foundation
import Models

/// An 8-bit picture, grayscale or RGB, row-major with the channels of a pixel together: what
/// sample grids are stored as, in HDF5 and PNG.
public struct Picture: Equatable, Sendable {
    public let width: Int
    public let height: Int
    /// 1 for grayscale, 3 for RGB.
    public let channels: Int
    public var pixels: [UInt8]

    public init(width: Int, height: Int, channels: Int = 1, fill: UInt8 = 0) {
        precondition(channels == 1 || channels == 3, "a picture is grayscale or RGB")
        (self.width, self.height, self.channels) = (width, height, channels)
        pixels = [UInt8](repeating: fill, count: width * height * channels)
    }

    /// The HDF5 shape of `pixels`: `[height, width]` or `[height, width, 3]`.
    public var shape: [Int] { channels == 1 ? [height, width] : [height, width, channels] }

    /// The picture as PNG bytes, through libpng's simplified API.
    public func pngBytes() throws -> [UInt8] {
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        image.width = UInt32(width)
        image.height = UInt32(height)
        image.format = channels == 1 ? UInt32(PNG_FORMAT_GRAY) : UInt32(PNG_FORMAT_FLAG_COLOR)
        defer { png_image_free(&image) }
        func failure() -> DataError { DataError("cannot encode a PNG: \(image.messageText)") }
        return try pixels.withUnsafeBytes { pixels in
            // A first call with no buffer asks for the size; the second writes.
            var size = 0
            guard png_image_write_to_memory(&image, nil, &size, 0, pixels.baseAddress, Int32(width * channels), nil) != 0 else { throw failure() }
            var bytes = [UInt8](repeating: 0, count: size)
            guard bytes.withUnsafeMutableBytes({ png_image_write_to_memory(&image, $0.baseAddress, &size, 0, pixels.baseAddress, Int32(width * channels), nil) }) != 0
            else { throw failure() }
            return Array(bytes.prefix(size))
        }
    }

    /// Writes a PNG whole or not at all.
    public func writePNG(to path: String) throws {
        let bytes: [UInt8]
        do { bytes = try pngBytes() } catch { throw DataError("\(path): \(error)") }
        do { try AtomicFile.write(bytes, to: path) } catch { throw DataError("\(path): cannot write PNG: \(error)") }
    }

    /// Images `[N, C, H, W]` in [−1, 1], C 1 (gray) or 3 (RGB), tiled `columns` wide on a 2-pixel
    /// black border.
    public static func grid(of images: Tensor, columns: Int = 8) -> Picture {
        let (count, channels, height, width) = (images.shape[0], images.shape[1], images.shape[2], images.shape[3])
        let rows = (count + columns - 1) / columns, border = 2
        var grid = Picture(width: columns * (width + border) + border, height: rows * (height + border) + border, channels: channels)
        for index in 0..<count {
            let top = border + (index / columns) * (height + border), left = border + (index % columns) * (width + border)
            for channel in 0..<channels {
                for y in 0..<height {
                    for x in 0..<width {
                        let value = images.scalars[((index * channels + channel) * height + y) * width + x]
                        grid.pixels[((top + y) * grid.width + left + x) * channels + channel] = UInt8(max(0, min(255, ((value + 1) * 127.5).rounded())))
                    }
                }
            }
        }
        return grid
    }

    /// A scatter plot of points `[N, 2]` over `[−extent, extent]²`: the real modes as grey rings,
    /// the samples as black dots on white.
    public static func scatter(of points: Tensor, modes: [[Float]], extent: Float, size: Int = 400) -> Picture {
        var plot = Picture(width: size, height: size, fill: 255)
        /// Points off the plot (a diverged generator's are) land just outside it and are not drawn.
        func pixel(_ x: Float, _ y: Float) -> (Int, Int) {
            func place(_ fraction: Float) -> Int {
                fraction.isFinite ? Int((min(max(fraction, -0.01), 1.01) * Float(size - 1)).rounded()) : -1
            }
            return (place((x + extent) / (2 * extent)), place((extent - y) / (2 * extent)))
        }
        func set(_ column: Int, _ row: Int, _ value: UInt8) {
            if (0..<size).contains(column) && (0..<size).contains(row) { plot.pixels[row * size + column] = min(plot.pixels[row * size + column], value) }
        }
        for mode in modes {
            let (cx, cy) = pixel(mode[0], mode[1])
            for step in 0..<48 {
                let angle = Double(step) / 48 * 2 * .pi
                set(cx + Int((6 * cos(angle)).rounded()), cy + Int((6 * sin(angle)).rounded()), 170)
            }
        }
        for index in 0..<points.shape[0] {
            let (column, row) = pixel(points.scalars[2 * index], points.scalars[2 * index + 1])
            for dy in 0...1 { for dx in 0...1 { set(column + dx, row + dy, 0) } }
        }
        return plot
    }
}
