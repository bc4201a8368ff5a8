import Dispatch
import Foundation
import HDF5
import Models

/// `launcher dataset`: a folder of images (or an IDX or HDF5 image file) made square and resized
/// once, into one HDF5 file that trains without decoding or resizing: `images` uint8
/// `[N, C, R, R]` (layout attribute NCHW), `labels` `[N]` and the `class_names` attribute for
/// labelled data, and `sources`, each image's source (its path, or the file and index), one a
/// line. Every dataset carries HDF5's Fletcher32 checksum, verified whenever it is read.
public enum DatasetPacking {
    public enum Crop: String, CaseIterable, Sendable {
        /// The largest centred square.
        case center
        /// None: a non-square image is refused.
        case none
    }

    public struct Options: Sendable {
        public var resolution: Int
        public var crop: Crop = .none
        /// 1 or 3; nil keeps the source's (3 when any image has colour).
        public var channels: Int?
        public var skipBad = false
        /// At most this many images, the first in order (sorted paths, or the file's order); nil for all.
        public var maximumCount: Int?
        /// An IDX label file giving a file source's images their classes (MNIST's `*-labels-idx1-ubyte`).
        public var labels: String?
        /// Paint each image's gray values with a hue of its own (`RandomHue`), making 3 channels.
        public var randomHue = false
        public init(resolution: Int) { self.resolution = resolution }
    }

    /// What was written.
    public struct Summary: Sendable {
        public let count: Int, channels: Int, classes: Int, skipped: Int
    }

    /// Packs `source` into `output` (whole or not at all); `say` hears progress and skipped files.
    public static func pack(_ source: String, to output: String, options: Options, say: (String) -> Void) throws -> Summary {
        guard (1...4096).contains(options.resolution) else { throw DataError("--resolution \(options.resolution): expected 1 to 4096 pixels") }
        guard options.channels.map({ [1, 3].contains($0) }) ?? true else { throw DataError("--channels \(options.channels!): expected 1 or 3") }
        guard options.maximumCount.map({ $0 >= 1 }) ?? true else { throw DataError("--max-images \(options.maximumCount!): expected at least 1") }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: source, isDirectory: &isDirectory) else { throw DataError("\(source): no such file") }
        let items: Items
        if isDirectory.boolValue {
            if options.labels != nil { throw DataError("--labels is for an IDX or HDF5 file; the classes of \(source) are its subfolders") }
            items = .folder(try ImageFolder(source))
        } else {
            let images = try Dataset.images(at: source)
            items = .file(try options.labels.map { try images.labelled(Labels.idx(at: $0), from: $0) } ?? images)
        }
        if options.randomHue && options.channels == 1 { throw DataError("--random-hue paints colour: it makes 3 channels, not --channels 1") }
        var channels = options.randomHue ? 3 : options.channels ?? 1
        var planes: [UInt8] = [], labels: [Int] = [], sources: [String] = [], skipped = 0
        var lastReport = DispatchTime.now()
        let wanted = min(items.count, options.maximumCount ?? items.count)
        for index in 0..<items.count where sources.count < wanted {
            let image: DecodedImage
            do { image = try items.image(index) } catch {
                guard options.skipBad else { throw DataError("\(error); --skip-bad-images leaves such files out") }
                skipped += 1
                say("skipped \(error)")
                continue
            }
            if options.channels == nil && image.channels == 3 && channels == 1 {
                // The first colour image: the gray ones before it become three equal planes.
                let size = options.resolution * options.resolution
                planes = stride(from: 0, to: planes.count, by: size).flatMap { start in Array(repeating: planes[start..<start + size], count: 3).joined() }
                channels = 3
            }
            let square = try crop(image, options.crop, name: items.name(index))
            let squarePlanes = options.randomHue ? RandomHue.paint(square.planes(channels: 1), index: index) : square.planes(channels: channels)
            planes += resized(squarePlanes, channels: channels, height: square.height, width: square.width, to: options.resolution)
            if let label = items.label(index) { labels.append(label) }
            sources.append(items.name(index))
            if Double(DispatchTime.now().uptimeNanoseconds - lastReport.uptimeNanoseconds) > 2e9 {
                say("packed \(sources.count) of \(wanted) images")
                lastReport = DispatchTime.now()
            }
        }
        guard !sources.isEmpty else { throw DataError("\(source): no readable image to pack") }
        try HDF5File.writeAtomically(output) { file in
            let images = try file.root.write(planes, shape: [sources.count, channels, options.resolution, options.resolution], to: "images",
                                             chunkBytes: Dataset.streamedChunkBytes)
            try images.setAttribute("layout", ImageLayout.nchw.rawValue)
            if !items.classNames.isEmpty {
                try file.root.write(labels.map(Int64.init), shape: [labels.count], to: "labels")
                try file.root.setAttribute("class_names", items.classNames.joined(separator: "\n"))
            }
            let lines = Array(sources.joined(separator: "\n").utf8)
            try file.root.write(lines, shape: [lines.count], to: "sources")
            try file.root.setAttribute("source", source)
            try file.root.setAttribute("crop", options.crop.rawValue)
            if options.randomHue { try file.root.setAttribute("colour", RandomHue.description) }
        }
        return Summary(count: sources.count, channels: channels, classes: items.classNames.count, skipped: skipped)
    }

    /// Planes `[C, H, W]` resized to `[C, R, R]` one at a time.
    static func resized(_ planes: [UInt8], channels: Int, height: Int, width: Int, to resolution: Int) -> [UInt8] {
        let size = height * width
        return (0..<channels).flatMap { plane in
            Resampling.resize(planes[plane * size..<(plane + 1) * size], height: height, width: width, to: resolution)
        }
    }

    /// `image` made square by `crop`; `name` names it when it is not square and may not be cropped.
    static func crop(_ image: DecodedImage, _ crop: Crop, name: String) throws -> DecodedImage {
        guard image.width != image.height else { return image }
        guard crop == .center else {
            throw DataError("\(name) is \(image.width)×\(image.height), not square; --crop center takes its largest centred square")
        }
        let side = min(image.width, image.height)
        let (left, top) = ((image.width - side) / 2, (image.height - side) / 2)
        let (rowBytes, squareRowBytes) = (image.width * image.channels, side * image.channels)
        var pixels: [UInt8] = []
        pixels.reserveCapacity(side * squareRowBytes)
        for y in top..<top + side {
            let start = y * rowBytes + left * image.channels
            pixels += image.pixels[start..<start + squareRowBytes]
        }
        return DecodedImage(width: side, height: side, channels: image.channels, pixels: pixels, droppedAlpha: image.droppedAlpha)
    }

    /// The images to pack: a folder's files, decoded one at a time, or the samples of an image file.
    enum Items {
        case folder(ImageFolder)
        case file(Dataset)

        var count: Int {
            switch self {
            case .folder(let folder): folder.files.count
            case .file(let dataset): dataset.count
            }
        }

        var classNames: [String] {
            switch self {
            case .folder(let folder): folder.classNames
            case .file(let dataset): dataset.labels == nil ? [] : dataset.classNames.isEmpty ? (0...(dataset.labels!.max() ?? 0)).map(String.init) : dataset.classNames
            }
        }

        func name(_ index: Int) -> String {
            switch self {
            case .folder(let folder): folder.files[index].path
            case .file(let dataset): "\(dataset.source)[\(index)]"
            }
        }

        func label(_ index: Int) -> Int? {
            switch self {
            case .folder(let folder): folder.files[index].label
            case .file(let dataset): dataset.labels?[index]
            }
        }

        /// Image `index` as 8-bit pixels `[H, W, C]`; a file's values in [−1, 1] are mapped to 0–255.
        func image(_ index: Int) throws -> DecodedImage {
            switch self {
            case .folder(let folder): return try ImageDecoding.decode(contentsOf: folder.files[index].path)
            case .file(let dataset):
                let (channels, height, width) = (dataset.sampleShape[0], dataset.sampleShape[1], dataset.sampleShape[2])
                guard [1, 3].contains(channels) else { throw DataError("\(dataset.source): \(channels) channels; images have 1 or 3") }
                let sample = try dataset.batch([index]).scalars
                let size = height * width
                let pixels = (0..<size).flatMap { pixel in
                    (0..<channels).map { UInt8(max(0, min(255, ((sample[$0 * size + pixel] + 1) * 127.5).rounded()))) }
                }
                return DecodedImage(width: width, height: height, channels: channels, pixels: pixels, droppedAlpha: false)
            }
        }
    }
}

/// `launcher dataset --random-hue`: a colour data set made from a gray one, for trying the colour
/// presets where no colour data set is at hand. Image i's gray values g are painted with a colour
/// of its own, RGB = g · HSV(h, 0.8, 1), the hue h uniform in [0, 1) from the stream
/// (seed 0, "hue", i), so the same source always gives the same file.
public enum RandomHue {
    static let description = "gray values times HSV(h, 0.8, 1), h uniform per image from the stream (0, \"hue\", index)"

    /// Planes `[3, P]` of the gray plane `gray` `[P]` painted with image `index`'s colour.
    static func paint(_ gray: [UInt8], index: Int) -> [UInt8] {
        var random = RandomStream(seed: 0, purpose: .hue, indices: [UInt64(index)])
        let colour = rgb(hue: random.uniform(), saturation: 0.8)
        return colour.flatMap { channel in gray.map { UInt8((Float($0) * channel).rounded()) } }
    }

    /// HSV(hue, saturation, 1) as RGB in [0, 1].
    static func rgb(hue: Float, saturation: Float) -> [Float] {
        let sector = hue * 6, part = sector - sector.rounded(.down)
        let (low, falling, rising) = (1 - saturation, 1 - saturation * part, 1 - saturation * (1 - part))
        switch Int(sector) % 6 {
        case 0: return [1, rising, low]
        case 1: return [falling, 1, low]
        case 2: return [low, 1, rising]
        case 3: return [low, falling, 1]
        case 4: return [rising, low, 1]
        default: return [1, low, falling]
        }
    }
}
