import CZlib
import Foundation
import HDF5

/// Image datasets from disk: IDX files (gzipped or not, as MNIST and Fashion-MNIST ship) and HDF5.
extension Dataset {
    /// Loads `path` by its contents: HDF5 by its signature, anything else as IDX.
    public static func images(at path: String) throws -> Dataset {
        guard FileManager.default.fileExists(atPath: path) else { throw DataError("\(path): no such file") }
        guard FileManager.default.isReadableFile(atPath: path) else { throw DataError("\(path): not readable") }
        let signature: [UInt8] = [0x89, 0x48, 0x44, 0x46]  // "\x89HDF"
        if let handle = FileHandle(forReadingAtPath: path), (try? handle.read(upToCount: 4)).map(Array.init) == signature {
            return try hdf5Images(at: path)
        }
        return try idx(at: path)
    }

    /// An IDX file of unsigned bytes with 3 (`[N, H, W]`) or 4 (`[N, C, H, W]`) dimensions.
    /// zlib reads gzipped and plain files alike.
    public static func idx(at path: String) throws -> Dataset {
        let bytes = try readAll(path)
        guard bytes.count >= 4, bytes[0] == 0, bytes[1] == 0 else {
            throw DataError("\(path): not an IDX file (expected the IDX magic number 0x0000)")
        }
        guard bytes[2] == 0x08 else {
            throw DataError("\(path): IDX element type 0x\(String(bytes[2], radix: 16)) is not unsigned bytes (0x08)")
        }
        let rank = Int(bytes[3])
        guard rank == 3 || rank == 4 else {
            throw DataError("\(path): IDX file of \(rank) dimensions; images need 3 ([N, H, W]) or 4 ([N, C, H, W])")
        }
        guard bytes.count >= 4 + 4 * rank else { throw DataError("\(path): truncated IDX header") }
        let dims = (0..<rank).map { d in (0..<4).reduce(0) { $0 << 8 | Int(bytes[4 + 4 * d + $1]) } }
        let expected = dims.reduce(1, *)
        let header = 4 + 4 * rank
        guard bytes.count - header == expected else {
            throw DataError("\(path): IDX header promises \(expected) pixels (\(dims)), the file holds \(bytes.count - header)")
        }
        let shape = rank == 3 ? [1, dims[1], dims[2]] : Array(dims[1...])
        return Dataset(source: path, sampleShape: shape, count: dims[0], storage: .pixels(Array(bytes[header...])))
    }

    /// The one dataset (or the one named "images") of an HDF5 file, `[N, H, W]` or `[N, C, H, W]`;
    /// integers are taken as 0–255 pixels, floating point as already in [−1, 1].
    public static func hdf5Images(at path: String) throws -> Dataset {
        let root = try HDF5File.open(path).root
        let names = try root.childNames()
        let name = names.contains("images") ? "images" : names.count == 1 ? names[0] : nil
        guard let name else {
            throw DataError("\(path): expected a dataset named \"images\" or a single dataset, found \(names)")
        }
        let shape = try root.shape(of: name)
        guard shape.count == 3 || shape.count == 4 else {
            throw DataError("\(path):/\(name) has shape \(shape); images need [N, H, W] or [N, C, H, W]")
        }
        let sampleShape = shape.count == 3 ? [1, shape[1], shape[2]] : Array(shape[1...])
        if try root.storesIntegers(name) {
            let values = try root.read(name, as: Int64.self).values
            guard values.allSatisfy({ (0...255).contains($0) }) else { throw DataError("\(path):/\(name): integer pixels must be 0–255") }
            return Dataset(source: path, sampleShape: sampleShape, count: shape[0], storage: .pixels(values.map { UInt8($0) }))
        }
        return Dataset(source: path, sampleShape: sampleShape, count: shape[0], storage: .values(try root.read(name, as: Float.self).values))
    }

    static func readAll(_ path: String) throws -> [UInt8] {
        guard let file = gzopen(path, "rb") else { throw DataError("\(path): cannot open: \(String(cString: strerror(errno)))") }
        defer { gzclose(file) }
        var bytes = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let read = gzread(file, &chunk, UInt32(chunk.count))
            if read < 0 {
                var code: Int32 = 0
                // zlib starts its message with the path itself.
                let message = (gzerror(file, &code).map { String(cString: $0) } ?? "read error").replacing("\(path): ", with: "")
                throw DataError("\(path): damaged or truncated gzip data (zlib: \(message))")
            }
            if read == 0 { break }
            bytes.append(contentsOf: chunk[..<Int(read)])
        }
        return bytes
    }
}

/// Class labels from an IDX file of unsigned bytes with one dimension (MNIST's `*-labels-idx1-ubyte`).
public enum Labels {
    public static func idx(at path: String) throws -> [Int] {
        guard FileManager.default.fileExists(atPath: path) else { throw DataError("\(path): no such file") }
        let bytes = try Dataset.readAll(path)
        guard bytes.count >= 8, bytes[0] == 0, bytes[1] == 0, bytes[2] == 0x08, bytes[3] == 1 else {
            throw DataError("\(path): not an IDX label file (expected unsigned bytes in one dimension)")
        }
        let count = (4..<8).reduce(0) { $0 << 8 | Int(bytes[$1]) }
        guard bytes.count - 8 == count else { throw DataError("\(path): IDX header promises \(count) labels, the file holds \(bytes.count - 8)") }
        return bytes[8...].map(Int.init)
    }
}
