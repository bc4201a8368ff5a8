import Foundation
import HDF5

/// Paired images for image-to-image tasks, each sample the input's channels then the target's
/// `[C_in + C_out, H, W]` (`Dataset.inputChannels` says where they split).
extension Dataset {
    /// The pairs at `path`: `A/` and `B/` folders whose files pair by name (without extension), or
    /// an HDF5 file holding `inputs` and `targets`. Missing partners, pairs of two sizes and
    /// unreadable files are named; with `skipBad` an unreadable file's pair is left out instead.
    public static func pairs(at path: String, skipBad: Bool = false, say: (String) -> Void = { _ in }) throws -> Dataset {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { throw DataError("\(path): no such file") }
        guard isDirectory.boolValue else { return try hdf5Pairs(at: path, say: say) }
        for folder in ["A", "B"] where !FileManager.default.fileExists(atPath: "\(path)/\(folder)") {
            throw DataError("\(path): no \(folder)/ folder; given pairs are A/ (inputs) and B/ (targets) folders whose files pair by name, "
                            + "or an HDF5 file with inputs and targets; --pairs side-by-side reads pix2pix's AB images, and --pairs gray "
                            + "(masked-bottom, masked-center, blur, downscale-4) derives pairs from plain images")
        }
        let (inputs, targets) = (try ImageFolder("\(path)/A"), try ImageFolder("\(path)/B"))
        func byName(_ folder: ImageFolder) -> [String: String] {
            Dictionary(folder.files.map { (($0.path as NSString).lastPathComponent as NSString).deletingPathExtension }.enumerated()
                .map { ($1, folder.files[$0].path) }, uniquingKeysWith: { first, _ in first })
        }
        let (inputNames, targetNames) = (byName(inputs), byName(targets))
        let unpaired = inputNames.keys.filter { targetNames[$0] == nil }.sorted().map { "A/\($0)" }
            + targetNames.keys.filter { inputNames[$0] == nil }.sorted().map { "B/\($0)" }
        guard unpaired.isEmpty else {
            throw DataError("\(path): \(unpaired.count) file\(unpaired.count == 1 ? " has" : "s have") no partner of the same name in the other folder: "
                            + unpaired.prefix(5).joined(separator: ", ") + (unpaired.count > 5 ? ", …" : ""))
        }
        var pairs: [(input: DecodedImage, target: DecodedImage, name: String)] = [], skipped: [String] = []
        for name in inputNames.keys.sorted() {
            let (inputPath, targetPath) = (inputNames[name]!, targetNames[name]!)
            let input: DecodedImage, target: DecodedImage
            do { (input, target) = (try ImageDecoding.decode(contentsOf: inputPath), try ImageDecoding.decode(contentsOf: targetPath)) } catch {
                guard skipBad else { throw DataError("\(error); --skip-bad-images leaves such pairs out") }
                skipped.append("\(error)")
                continue
            }
            guard (input.width, input.height) == (target.width, target.height) else {
                throw DataError("\(inputPath) is \(input.width)×\(input.height) but its target \(targetPath) is \(target.width)×\(target.height): "
                                + "the two images of a pair have one size")
            }
            pairs.append((input, target, inputPath))
        }
        if !skipped.isEmpty { say("skipped \(skipped.count) pair\(skipped.count == 1 ? "" : "s") with an unreadable file in \(path):\n  " + skipped.joined(separator: "\n  ")) }
        return try joined(pairs, source: path)
    }

    /// pix2pix's side-by-side pairs at the folder `path`: each image's left half the input, its
    /// right half the target.
    public static func sideBySidePairs(at path: String, skipBad: Bool = false, say: (String) -> Void = { _ in }) throws -> Dataset {
        let folder = try ImageFolder(path)
        var pairs: [(input: DecodedImage, target: DecodedImage, name: String)] = [], skipped: [String] = []
        for file in folder.files {
            let image: DecodedImage
            do { image = try ImageDecoding.decode(contentsOf: file.path) } catch {
                guard skipBad else { throw DataError("\(error); --skip-bad-images leaves such files out") }
                skipped.append("\(error)")
                continue
            }
            guard image.width % 2 == 0 else {
                throw DataError("\(file.path) is \(image.width)×\(image.height): a side-by-side pair is an even width, input left and target right")
            }
            pairs.append((image.columns(0..<image.width / 2), image.columns(image.width / 2..<image.width), file.path))
        }
        if !skipped.isEmpty { say("skipped \(skipped.count) unreadable file\(skipped.count == 1 ? "" : "s") in \(path):\n  " + skipped.joined(separator: "\n  ")) }
        return try joined(pairs, source: path)
    }

    /// Decoded pairs of one size as samples `[C_in + C_out, H, W]`, gray inputs or targets joining
    /// colour ones as three equal channels.
    static func joined(_ pairs: [(input: DecodedImage, target: DecodedImage, name: String)], source: String) throws -> Dataset {
        guard let first = pairs.first else { throw DataError("\(source): no readable pairs") }
        for pair in pairs where (pair.input.width, pair.input.height) != (first.input.width, first.input.height) {
            throw DataError("\(pair.name) is \(pair.input.width)×\(pair.input.height), \(first.name) \(first.input.width)×\(first.input.height): "
                            + "pairs train at one size; `launcher dataset \(source) --pairs … --out pairs.h5 --resolution R` resizes them")
        }
        let inputChannels = pairs.contains { $0.input.channels == 3 } ? 3 : 1
        let targetChannels = pairs.contains { $0.target.channels == 3 } ? 3 : 1
        var pixels: [UInt8] = []
        pixels.reserveCapacity(pairs.count * (inputChannels + targetChannels) * first.input.width * first.input.height)
        for pair in pairs { pixels += pair.input.planes(channels: inputChannels) + pair.target.planes(channels: targetChannels) }
        return Dataset(source: source, sampleShape: [inputChannels + targetChannels, first.input.height, first.input.width], count: pairs.count,
                       storage: .pixels(pixels), inputChannels: inputChannels)
    }

    /// Pairs from an HDF5 file's `inputs` and `targets`, each images as `hdf5Images` reads them.
    static func hdf5Pairs(at path: String, say: (String) -> Void) throws -> Dataset {
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
