import Foundation

/// A folder of PNG and JPEG files, as torchvision's ImageFolder lays it out: each subfolder a
/// class named by the folder, or every image directly in the folder, unlabelled.
public struct ImageFolder {
    public let path: String
    /// Every image file with its class (an index into `classNames`), in class order, then name order.
    public let files: [(path: String, label: Int?)]
    public let classNames: [String]

    static let extensions: Set<String> = ["png", "jpg", "jpeg"]

    /// Lists `path`; throws when it holds no image, or images beside class folders.
    public init(_ path: String) throws {
        self.path = path
        let manager = FileManager.default
        func entries(_ directory: String) throws -> [String] {
            do { return try manager.contentsOfDirectory(atPath: directory).filter { !$0.hasPrefix(".") }.sorted() } catch {
                throw DataError("\(directory): cannot list the folder (\(error.localizedDescription))")
            }
        }
        func isDirectory(_ path: String) -> Bool {
            var directory: ObjCBool = false
            return manager.fileExists(atPath: path, isDirectory: &directory) && directory.boolValue
        }
        func isImage(_ name: String) -> Bool { Self.extensions.contains((name as NSString).pathExtension.lowercased()) }
        let names = try entries(path)
        let images = names.filter { isImage($0) && !isDirectory("\(path)/\($0)") }
        let classes = names.filter { isDirectory("\(path)/\($0)") }
        guard images.isEmpty || classes.isEmpty else {
            throw DataError("\(path): holds images (\(images[0])) beside class folders (\(classes[0])); put every image in a class "
                            + "folder for labelled data, or none for unlabelled")
        }
        if classes.isEmpty {
            files = images.map { ("\(path)/\($0)", nil) }
            classNames = []
        } else {
            var files: [(path: String, label: Int?)] = []
            for (label, name) in classes.enumerated() {
                files += try entries("\(path)/\(name)").filter(isImage).map { ("\(path)/\(name)/\($0)", label) }
            }
            (self.files, classNames) = (files, classes)
        }
        guard !files.isEmpty else {
            throw DataError("\(path): no PNG or JPEG images (\(Self.extensions.sorted().map { "*.\($0)" }.joined(separator: ", "))) in it or its class folders")
        }
    }
}

extension Dataset {
    /// Every image of the folder at `path`, decoded, at one size and channel count: gray images
    /// join colour ones as three equal channels. A file that is not a readable image stops the
    /// load naming it, or with `skipBad` is left out and named through `say`.
    public static func imageFolder(at path: String, skipBad: Bool = false, say: (String) -> Void = { _ in }) throws -> Dataset {
        let folder = try ImageFolder(path)
        var decoded: [(image: DecodedImage, label: Int?, path: String)] = []
        var skipped: [String] = []
        for file in folder.files {
            LongWork.progressed()
            do {
                decoded.append((try ImageDecoding.decode(contentsOf: file.path), file.label, file.path))
            } catch {
                guard skipBad else { throw DataError("\(error); --skip-bad-images leaves such files out") }
                skipped.append("\(error)")
            }
        }
        if !skipped.isEmpty {
            say("skipped \(skipped.count) unreadable file\(skipped.count == 1 ? "" : "s") of \(folder.files.count) in \(path):\n  " + skipped.joined(separator: "\n  "))
        }
        guard let first = decoded.first else { throw DataError("\(path): none of its \(folder.files.count) files is a readable image") }
        for item in decoded where (item.image.width, item.image.height) != (first.image.width, first.image.height) {
            throw DataError("\(item.path) is \(item.image.width)×\(item.image.height), \(first.path) \(first.image.width)×\(first.image.height): "
                            + "images train at one size; `launcher dataset \(path) --out data.h5 --resolution R` resizes them")
        }
        if let withAlpha = decoded.first(where: { $0.image.droppedAlpha }) {
            say("note: \(withAlpha.path) and any other image with an alpha channel train on their colour channels alone (alpha dropped)")
        }
        let channels = decoded.contains { $0.image.channels == 3 } ? 3 : 1
        let (height, width) = (first.image.height, first.image.width)
        var pixels: [UInt8] = []
        pixels.reserveCapacity(decoded.count * channels * height * width)
        for item in decoded { pixels += item.image.planes(channels: channels) }
        return Dataset(source: path, sampleShape: [channels, height, width], count: decoded.count, storage: .pixels(pixels),
                       labels: folder.classNames.isEmpty ? nil : decoded.map { $0.label! }, classNames: folder.classNames)
    }
}

extension DecodedImage {
    /// The pixels as `channels` planes `[C, H, W]`: gray repeated into three, or colour reduced to
    /// gray by ITU-R BT.601 luma (0.299 R + 0.587 G + 0.114 B, rounded).
    func planes(channels wanted: Int) -> [UInt8] {
        let count = width * height
        switch (channels, wanted) {
        case (1, 1): return pixels
        case (1, _): return Array([[UInt8]](repeating: pixels, count: wanted).joined())
        case (_, 1):
            return (0..<count).map { pixel in
                let (r, g, b) = (Double(pixels[3 * pixel]), Double(pixels[3 * pixel + 1]), Double(pixels[3 * pixel + 2]))
                return UInt8((0.299 * r + 0.587 * g + 0.114 * b).rounded())
            }
        default: return (0..<channels).flatMap { channel in (0..<count).map { pixels[$0 * channels + channel] } }
        }
    }
}
