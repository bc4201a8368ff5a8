import Foundation
import HDF5

/// The pairs of a folder, listed at once and decoded one at a time: `A/` and `B/` folders whose
/// files pair by name without extension (`PairSource.files`), or pix2pix's side-by-side images,
/// input left and target right (`.sideBySide`).
struct PairedFolder {
    let path: String
    /// Each pair's input file and, for A/B folders, its target file.
    let files: [(input: String, target: String?)]

    /// Lists the pairs; throws naming every file without a partner.
    init(_ path: String, layout: PairSource) throws {
        self.path = path
        guard layout == .files else {
            files = try ImageFolder(path).files.map { ($0.path, nil) }
            return
        }
        for folder in ["A", "B"] where !FileManager.default.fileExists(atPath: "\(path)/\(folder)") {
            throw DataError("\(path): no \(folder)/ folder; given pairs are A/ (inputs) and B/ (targets) folders whose files pair by name, "
                            + "or an HDF5 file with inputs and targets; --pairs side-by-side reads pix2pix's AB images, and --pairs gray "
                            + "(masked-bottom, masked-center, blur, downscale-4) derives pairs from plain images")
        }
        func byName(_ folder: ImageFolder) -> [String: String] {
            Dictionary(folder.files.map { ((($0.path as NSString).lastPathComponent as NSString).deletingPathExtension, $0.path) },
                       uniquingKeysWith: { first, _ in first })
        }
        let (inputs, targets) = (byName(try ImageFolder("\(path)/A")), byName(try ImageFolder("\(path)/B")))
        let unpaired = inputs.keys.filter { targets[$0] == nil }.sorted().map { inputs[$0]! }
            + targets.keys.filter { inputs[$0] == nil }.sorted().map { targets[$0]! }
        guard unpaired.isEmpty else {
            throw DataError("\(path): \(unpaired.count) file\(unpaired.count == 1 ? " has" : "s have") no partner of the same name in the other folder: "
                            + unpaired.prefix(5).joined(separator: ", ") + (unpaired.count > 5 ? ", …" : ""))
        }
        files = inputs.keys.sorted().map { (inputs[$0]!, targets[$0]!) }
    }

    var count: Int { files.count }

    /// Pair `index`'s files decoded, as they are: throws when one is not a readable image.
    func decoded(_ index: Int) throws -> [DecodedImage] {
        try ([files[index].input] + (files[index].target.map { [$0] } ?? [])).map { try ImageDecoding.decode(contentsOf: $0) }
    }

    /// The input and target of decoded pair `index`: throws when they are of two sizes, or a
    /// side-by-side image's width is odd.
    func pair(_ images: [DecodedImage], index: Int) throws -> (input: DecodedImage, target: DecodedImage) {
        let (first, name) = (images[0], files[index].input)
        guard images.count == 2 else {
            guard first.width % 2 == 0 else {
                throw DataError("\(name) is \(first.width)×\(first.height): a side-by-side pair is an even width, input left and target right")
            }
            return (first.columns(0..<first.width / 2), first.columns(first.width / 2..<first.width))
        }
        guard (first.width, first.height) == (images[1].width, images[1].height) else {
            throw DataError("\(name) is \(first.width)×\(first.height) but its target \(files[index].target!) is \(images[1].width)×\(images[1].height): "
                            + "the two images of a pair have one size")
        }
        return (first, images[1])
    }
}

/// Paired images for image-to-image tasks, each sample the input's channels then the target's
/// `[C_in + C_out, H, W]` (`Dataset.inputChannels` says where they split).
extension Dataset {
    /// The pairs at `path` laid out as `layout` says (A/B folders or an HDF5 file with `inputs`
    /// and `targets` for `.files`; a folder of side-by-side images for `.sideBySide`). Missing
    /// partners, pairs of two sizes and unreadable files are named; with `skipBad` an unreadable
    /// file's pair is left out instead.
    public static func pairs(at path: String, layout: PairSource, skipBad: Bool = false, say: (String) -> Void = { _ in }) throws -> Dataset {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { throw DataError("\(path): no such file") }
        guard isDirectory.boolValue else {
            guard layout == .files else { throw DataError("\(path): --pairs side-by-side reads a folder of images; an HDF5 file of pairs is --pairs files") }
            return try hdf5Pairs(at: path, say: say)
        }
        let folder = try PairedFolder(path, layout: layout)
        var pairs: [(input: DecodedImage, target: DecodedImage, name: String)] = [], skipped: [String] = []
        for index in 0..<folder.count {
            LongWork.progressed()
            let images: [DecodedImage]
            do { images = try folder.decoded(index) } catch {
                guard skipBad else { throw DataError("\(error); --skip-bad-images leaves such pairs out") }
                skipped.append("\(error)")
                continue
            }
            let (input, target) = try folder.pair(images, index: index)
            pairs.append((input, target, folder.files[index].input))
        }
        if !skipped.isEmpty { say("skipped \(skipped.count) pair\(skipped.count == 1 ? "" : "s") with an unreadable file in \(path):\n  " + skipped.joined(separator: "\n  ")) }
        guard let first = pairs.first else { throw DataError("\(path): none of its \(folder.count) pairs is readable") }
        for pair in pairs where (pair.input.width, pair.input.height) != (first.input.width, first.input.height) {
            throw DataError("\(pair.name) is \(pair.input.width)×\(pair.input.height), \(first.name) \(first.input.width)×\(first.input.height): "
                            + "pairs train at one size; `launcher dataset \(path) --pairs \(layout.rawValue) --out pairs.h5 --resolution R` resizes them")
        }
        let inputChannels = pairs.contains { $0.input.channels == 3 } ? 3 : 1
        let targetChannels = pairs.contains { $0.target.channels == 3 } ? 3 : 1
        var pixels: [UInt8] = []
        pixels.reserveCapacity(pairs.count * (inputChannels + targetChannels) * first.input.width * first.input.height)
        for pair in pairs { pixels += pair.input.planes(channels: inputChannels) + pair.target.planes(channels: targetChannels) }
        return Dataset(source: path, sampleShape: [inputChannels + targetChannels, first.input.height, first.input.width], count: pairs.count,
                       storage: .pixels(pixels), inputChannels: inputChannels)
    }

    /// Pairs from an HDF5 file's `inputs` and `targets`, each images as `hdf5Images` reads them.
    static func hdf5Pairs(at path: String, say: (String) -> Void) throws -> Dataset {
        let names = try HDF5File.open(path).root.childNames()
        guard names.contains("inputs") && names.contains("targets") else {
            throw DataError("\(path) holds no pairs (HDF5 datasets inputs and targets; `launcher dataset DIR --pairs files|side-by-side` "
                            + "writes them); --pairs gray, masked-bottom, masked-center, blur or downscale-4 derives pairs from plain images")
        }
        let (inputs, targets) = (try hdf5Images(at: path, named: "inputs", say: say), try hdf5Images(at: path, named: "targets", say: say))
        guard inputs.count == targets.count, inputs.sampleShape.dropFirst() == targets.sampleShape.dropFirst() else {
            throw DataError("\(path): \(inputs.count) inputs of \(inputs.sampleShape) but \(targets.count) targets of \(targets.sampleShape); "
                            + "pairs need one target of the same height and width per input")
        }
        let inputSize = inputs.sampleShape.reduce(1, *)
        return Dataset(source: path, sampleShape: [inputs.sampleShape[0] + targets.sampleShape[0]] + inputs.sampleShape.dropFirst(),
                       count: inputs.count, storage: .pairs(inputs.storage, targets.storage, inputSize: inputSize),
                       inputChannels: inputs.sampleShape[0])
    }
}

extension DecodedImage {
    /// The columns `range` of every row.
    func columns(_ range: Range<Int>) -> DecodedImage {
        var cropped: [UInt8] = []
        cropped.reserveCapacity(height * range.count * channels)
        for y in 0..<height { cropped += pixels[(y * width + range.lowerBound) * channels..<(y * width + range.upperBound) * channels] }
        return DecodedImage(width: range.count, height: height, channels: channels, pixels: cropped, droppedAlpha: droppedAlpha)
    }
}
