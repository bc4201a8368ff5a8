import CZlib
import Foundation

/// An IDX file of unsigned bytes (gzipped or plain, as MNIST and Fashion-MNIST ship), read so that
/// its header's claims cost nothing before they are checked: the size the dimensions promise is
/// computed without overflow and must fit in the file (plain) or in what deflate can expand the
/// file to (gzipped); the data is then read up to that size and no further, so a gzip bomb is
/// refused once it inflates past the promise.
struct IDXFile {
    let path: String
    /// The dimensions the header gives.
    let dimensions: [Int]
    /// Every element, `dimensions` in row-major order.
    let bytes: [UInt8]

    /// deflate's largest ratio of inflated to compressed size (zlib's technical details: 1032:1).
    static let largestInflation = 1032

    /// Reads `path`, whose header must give `ranks` dimensions; `kind` names what it should hold.
    init(_ path: String, ranks: Set<Int>, kind: String) throws {
        self.path = path
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        guard let fileSize = (attributes?[.size] as? NSNumber)?.intValue else { throw DataError("\(path): no such file") }
        guard let file = gzopen(path, "rb") else { throw DataError("\(path): cannot open: \(String(cString: strerror(errno)))") }
        defer { gzclose(file) }

        let magic = try Self.read(file, path, count: 4)
        guard magic.count == 4, magic[0] == 0, magic[1] == 0 else {
            throw DataError("\(path): not an IDX file (expected the IDX magic number 0x0000)")
        }
        guard magic[2] == 0x08 else {
            throw DataError("\(path): IDX element type 0x\(String(magic[2], radix: 16)) is not unsigned bytes (0x08)")
        }
        let rank = Int(magic[3])
        guard ranks.contains(rank) else { throw DataError("\(path): IDX file of \(rank) dimensions; \(kind)") }
        let header = try Self.read(file, path, count: 4 * rank)
        guard header.count == 4 * rank else { throw DataError("\(path): truncated IDX header") }
        dimensions = (0..<rank).map { d in (0..<4).reduce(0) { $0 << 8 | Int(header[4 * d + $1]) } }

        let (promised, overflow) = dimensions.reduce((1, false)) { product, dimension in
            let (value, overflow) = product.0.multipliedReportingOverflow(by: dimension)
            return (value, product.1 || overflow)
        }
        let plain = gzdirect(file) == 1
        let room = plain ? fileSize - 4 - 4 * rank : fileSize.multipliedReportingOverflow(by: Self.largestInflation).partialValue
        guard !overflow, promised <= room else {
            let what = plain ? "the file holds \(room)" : "more than a gzip file of \(fileSize) bytes can inflate to (\(room))"
            throw DataError("\(path): IDX header promises \(overflow ? "more than \(Int.max)" : "\(promised)") bytes (\(dimensions)), \(what)")
        }
        // One byte past the promise tells a longer stream (a gzip bomb) from an exact one.
        bytes = try Self.read(file, path, count: promised + 1)
        guard bytes.count == promised else {
            let found = bytes.count > promised ? "more (it inflates past the header's size)" : "\(bytes.count)"
            throw DataError("\(path): IDX header promises \(promised) bytes (\(dimensions)), the file holds \(found)")
        }
    }

    /// Up to `count` bytes from `file`; fewer only where the data ends.
    private static func read(_ file: gzFile, _ path: String, count: Int) throws -> [UInt8] {
        var bytes = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: min(count, 1 << 20))
        while bytes.count < count {
            let read = gzread(file, &chunk, UInt32(min(chunk.count, count - bytes.count)))
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
