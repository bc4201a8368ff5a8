import Foundation
import HDF5

/// Image datasets from disk: IDX files (gzipped or not, as MNIST and Fashion-MNIST ship) and HDF5.
extension Dataset {
    /// Loads `path`: a folder of images (`imageFolder`), HDF5 by its signature, anything else as IDX.
    public static func images(at path: String, skipBad: Bool = false, say: (String) -> Void = { _ in }) throws -> Dataset {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { throw DataError("\(path): no such file") }
        if isDirectory.boolValue { return try imageFolder(at: path, skipBad: skipBad, say: say) }
        guard FileManager.default.isReadableFile(atPath: path) else { throw DataError("\(path): not readable") }
        let signature: [UInt8] = [0x89, 0x48, 0x44, 0x46]  // "\x89HDF"
        if let handle = FileHandle(forReadingAtPath: path), (try? handle.read(upToCount: 4)).map(Array.init) == signature {
            return try hdf5Images(at: path, say: say)
        }
        return try idx(at: path)
    }

    /// An IDX file of unsigned bytes with 3 (`[N, H, W]`) or 4 (`[N, C, H, W]`) dimensions.
    /// zlib reads gzipped and plain files alike.
    public static func idx(at path: String) throws -> Dataset {
        let file = try IDXFile(path, ranks: [3, 4], kind: "images need 3 ([N, H, W]) or 4 ([N, C, H, W])")
        let dims = file.dimensions
        let shape = dims.count == 3 ? [1, dims[1], dims[2]] : Array(dims[1...])
        return Dataset(source: path, sampleShape: shape, count: dims[0], storage: .pixels(file.bytes))
    }

    /// The images of an HDF5 file: the dataset named "images" (or its one dataset), `[N, H, W]`,
    /// `[N, C, H, W]` or `[N, H, W, C]` as its `layout` attribute says ("NHW", "NCHW", "NHWC"), or as
    /// the shape says when only one of C's places holds 1 or 3; integers are 0–255 pixels, floating
    /// point already in [−1, 1]. Optional `labels` `[N]` (integers from 0) and a `class_names`
    /// attribute (one name a line) label them. 8-bit images are read by rows as batches
    /// need them (`StreamedPixels`) unless the file's chunks are too large for that, when they are
    /// loaded whole, as other types are, and `say` says why.
    public static func hdf5Images(at path: String, say: (String) -> Void = { _ in }) throws -> Dataset {
        let names = try HDF5File.open(path).root.childNames().filter { !["labels", "sources"].contains($0) }
        let name = names.contains("images") ? "images" : names.count == 1 ? names[0] : nil
        guard let name else {
            if Set(names) == ["inputs", "targets"] {
                throw DataError("\(path) holds pairs (inputs and targets), for an image-to-image preset such as pix2pix")
            }
            throw DataError("\(path): expected a dataset named \"images\" or a single dataset, found \(names)")
        }
        return try hdf5Images(at: path, named: name, say: say)
    }

    /// The images of the HDF5 dataset `name` in the file at `path`, as `hdf5Images(at:say:)` reads them.
    static func hdf5Images(at path: String, named name: String, say: (String) -> Void) throws -> Dataset {
        let root = try HDF5File.open(path).root
        guard root.contains(name) else { throw DataError("\(path): no dataset named \"\(name)\"") }
        let shape = try root.shape(of: name)
        let layout = try ImageLayout(of: root.dataset(name), shape: shape, in: "\(path):/\(name)")
        let sampleShape = layout.sampleShape(of: shape)
        let storage: Storage
        let rows = try root.storesBytes(name) ? try root.rows(name, as: UInt8.self, cacheBytes: streamedCacheBytes) : nil
        if let rows, (rows.chunkRows ?? 0) * rows.rowSize <= largestStreamedChunk {
            storage = .streamed(StreamedPixels(rows: rows, layout: layout))
        } else if let rows {
            say("\(path):/\(name) is stored in chunks of \(((rows.chunkRows ?? 0) * rows.rowSize) >> 10) KiB, too large to read an image at a time: "
                + "loading all \(shape.reduce(1, *) >> 20) MiB (`launcher dataset` packs images in chunks that stream)")
            storage = .pixels(layout.planar(try root.read(name, as: UInt8.self).values, shape: shape))
        } else if try root.storesIntegers(name) {
            let values = try root.read(name, as: Int64.self).values
            guard values.allSatisfy({ (0...255).contains($0) }) else { throw DataError("\(path):/\(name): integer pixels must be 0–255") }
            storage = .pixels(layout.planar(values.map { UInt8($0) }, shape: shape))
        } else {
            storage = .values(layout.planar(try root.read(name, as: Float.self).values, shape: shape))
        }
        var labels: [Int]?, classNames: [String] = []
        if root.contains("labels") {
            let stored = try root.read("labels", as: Int64.self)
            guard stored.shape == [shape[0]] else { throw DataError("\(path):/labels has shape \(stored.shape); expected [\(shape[0])], one per image") }
            guard stored.values.allSatisfy({ $0 >= 0 }) else { throw DataError("\(path):/labels: labels are class indices from 0") }
            labels = stored.values.map { Int($0) }
            if root.hasAttribute("class_names") { classNames = try root.stringAttribute("class_names").split(separator: "\n").map(String.init) }
            if !classNames.isEmpty, let top = labels!.max(), top >= classNames.count {
                throw DataError("\(path):/labels holds class \(top), but class_names names \(classNames.count) classes")
            }
        }
        return Dataset(source: path, sampleShape: sampleShape, count: shape[0], storage: storage, labels: labels, classNames: classNames)
    }
}

/// Class labels from an IDX file of unsigned bytes with one dimension (MNIST's `*-labels-idx1-ubyte`).
public enum Labels {
    public static func idx(at path: String) throws -> [Int] {
        let file = try IDXFile(path, ranks: [1], kind: "an IDX label file holds unsigned bytes in one dimension")
        return file.bytes.map(Int.init)
    }
}
