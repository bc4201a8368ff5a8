import CPNG
import CTurboJPEG
import Foundation

/// One decoded image: 8-bit pixels, rows top to bottom, channels interleaved (`[H, W, C]`).
struct DecodedImage {
    let width: Int, height: Int
    /// 1 (gray) or 3 (RGB); an alpha channel is dropped.
    let channels: Int
    let pixels: [UInt8]
    /// Whether the file had an alpha channel, which was dropped.
    let droppedAlpha: Bool
}

/// The one Swift code that decodes PNG (libpng's simplified API) and JPEG (libjpeg-turbo).
enum ImageDecoding {
    /// Images above this many pixels are refused before their pixels are allocated: a header
    /// can claim any size, and 2^26 pixels (8192²) is past any image a GAN trains on.
    static let maximumPixels = 1 << 26
    /// Files above this size are refused before they are read.
    static let maximumFileBytes = 1 << 28

    /// The image in `path`, decoded by its signature; the error names the file and the reason.
    static func decode(contentsOf path: String) throws -> DecodedImage {
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        let size = (attributes?[.size] as? Int) ?? 0
        guard size <= maximumFileBytes else { throw DataError("\(path): \(size) bytes, more than the \(maximumFileBytes) an image may have") }
        guard let data = FileManager.default.contents(atPath: path) else { throw DataError("\(path): cannot read") }
        let bytes = [UInt8](data)
        if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47]) { return try png(bytes, path: path) }
        if bytes.starts(with: [0xFF, 0xD8, 0xFF]) { return try jpeg(bytes, path: path) }
        throw DataError("\(path): not a PNG or JPEG image (its first bytes are neither signature)")
    }

    private static func checkSize(width: Int, height: Int, path: String) throws {
        // libjpeg-turbo reads a header cut short before its frame as an image of no pixels.
        guard width > 0, height > 0 else { throw DataError("\(path): its header gives no size (\(width)×\(height)): truncated or damaged") }
        guard width <= maximumPixels / height else {
            throw DataError("\(path): \(width)×\(height) pixels; images may have at most \(maximumPixels)")
        }
    }

    private static func png(_ bytes: [UInt8], path: String) throws -> DecodedImage {
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        defer { png_image_free(&image) }
        func failure() -> DataError { DataError("\(path): not a readable PNG (libpng: \(image.messageText))") }
        guard png_image_begin_read_from_memory(&image, bytes, bytes.count) != 0 else { throw failure() }
        let (width, height) = (Int(image.width), Int(image.height))
        try checkSize(width: width, height: height, path: path)
        let color = image.format & UInt32(PNG_FORMAT_FLAG_COLOR) != 0, alpha = image.format & UInt32(PNG_FORMAT_FLAG_ALPHA) != 0
        // Read with the alpha channel when there is one, then drop it: no compositing onto a background.
        let read = (color ? 3 : 1) + (alpha ? 1 : 0)
        // PNG_FORMAT_GRAY is 0; colour and alpha are flags on it.
        image.format = (color ? UInt32(PNG_FORMAT_FLAG_COLOR) : 0) | (alpha ? UInt32(PNG_FORMAT_FLAG_ALPHA) : 0)
        var pixels = [UInt8](repeating: 0, count: width * height * read)
        guard png_image_finish_read(&image, nil, &pixels, 0, nil) != 0 else { throw failure() }
        let channels = color ? 3 : 1
        if alpha {
            pixels = (0..<width * height).flatMap { pixel in pixels[pixel * read..<pixel * read + channels] }
        }
        return DecodedImage(width: width, height: height, channels: channels, pixels: pixels, droppedAlpha: alpha)
    }

    private static func jpeg(_ bytes: [UInt8], path: String) throws -> DecodedImage {
        guard let handle = tjInitDecompress() else { throw DataError("\(path): libjpeg-turbo could not start a decompressor") }
        defer { tjDestroy(handle) }
        func failure() -> DataError { DataError("\(path): not a readable JPEG (libjpeg-turbo: \(String(cString: tjGetErrorStr2(handle))))") }
        var (width, height, subsampling, colorspace): (Int32, Int32, Int32, Int32) = (0, 0, 0, 0)
        guard tjDecompressHeader3(handle, bytes, UInt(bytes.count), &width, &height, &subsampling, &colorspace) == 0 else { throw failure() }
        try checkSize(width: Int(width), height: Int(height), path: path)
        let gray = colorspace == Int32(TJCS_GRAY.rawValue)
        let channels = gray ? 1 : 3
        var pixels = [UInt8](repeating: 0, count: Int(width) * Int(height) * channels)
        let format = gray ? Int32(TJPF_GRAY.rawValue) : Int32(TJPF_RGB.rawValue)
        guard tjDecompress2(handle, bytes, UInt(bytes.count), &pixels, width, 0, height, format, 0) == 0 else { throw failure() }
        return DecodedImage(width: Int(width), height: Int(height), channels: channels, pixels: pixels, droppedAlpha: false)
    }
}

extension png_image {
    /// libpng's message after a failed call of the simplified API.
    var messageText: String { withUnsafeBytes(of: message) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) } }
}
