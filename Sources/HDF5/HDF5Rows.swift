import CHDF5

/// A numeric dataset read by rows (a row: one index of its first dimension), any rows in one
/// call, through a chunk cache of bounded size: data larger than memory, read as it is needed.
/// Reads happen on the caller's thread; HDF5 is not built thread-safe here, so one thread uses it
/// at a time.
public final class HDF5Rows<Element: HDF5Scalar> {
    /// Rows, then the shape of one row.
    public let shape: [Int]
    /// Rows in each chunk of the file, nil for contiguous storage: a read costs the whole chunk.
    public let chunkRows: Int?
    private let dataset: HDF5Dataset
    private let fileSpace: Handle
    private var start: [hsize_t], count: [hsize_t]

    init(_ group: HDF5Group, name: String, cacheBytes: Int) throws(HDF5Error) {
        let object = group.childPath(name)
        guard group.contains(name) else { throw group.error("open dataset", object: object, message: "no such dataset") }
        let access = Handle(try group.checked(H5Pcreate(H5P_DATASET_ACCESS), "create dataset access properties", object: object), close: H5Pclose)
        // 521 slots, a prime as HDF5 advises; w0 1: a chunk read in full is evicted first.
        try group.checked(H5Pset_chunk_cache(access.id, 521, cacheBytes, 1), "bound the chunk cache", object: object)
        let id = try group.checked(H5Dopen2(group.handle.id, name, access.id), "open dataset", object: object)
        dataset = HDF5Dataset(handle: Handle(id, close: H5Dclose), filePath: group.filePath, path: object)
        fileSpace = Handle(try group.checked(H5Dget_space(id), "read dataspace", object: object), close: H5Sclose)
        let type = Handle(try group.checked(H5Dget_type(id), "read dataset type", object: object), close: H5Tclose)
        shape = try group.storedShape(of: dataset, elementBytes: H5Tget_size(type.id))
        let rank = shape.count
        guard rank >= 1 else { throw group.error("read rows", object: object, message: "a scalar has no rows") }
        (start, count) = ([hsize_t](repeating: 0, count: rank), [1] + shape.dropFirst().map { hsize_t($0) })
        let creation = Handle(try group.checked(H5Dget_create_plist(id), "read dataset properties", object: object), close: H5Pclose)
        var chunk = [hsize_t](repeating: 0, count: rank)
        chunkRows = H5Pget_layout(creation.id) == H5D_CHUNKED && H5Pget_chunk(creation.id, Int32(rank), &chunk) == rank ? Int(chunk[0]) : nil
    }

    /// The values of one row.
    public var rowSize: Int { shape.dropFirst().reduce(1, *) }

    /// Appends rows `rows` (in that order, repeats allowed; converted to `Element` by HDF5) to
    /// `values`, in one read of the distinct rows they name: HDF5's cost per read is far larger
    /// than its cost per row.
    public func append(rows: [Int], to values: inout [Element]) throws(HDF5Error) {
        let distinct = Set(rows).sorted()
        guard let first = distinct.first, let last = distinct.last else { return }
        guard first >= 0, last < shape[0] else { throw dataset.error("read rows", message: "row \(first < 0 ? first : last) of \(shape[0])") }
        try dataset.checked(H5Sselect_none(fileSpace.id), "select rows")
        for row in distinct {
            start[0] = hsize_t(row)
            try dataset.checked(H5Sselect_hyperslab(fileSpace.id, H5S_SELECT_OR, start, nil, count, nil), "select row \(row)")
        }
        let memoryShape = [hsize_t(distinct.count)] + count.dropFirst()
        let memory = Handle(try dataset.checked(H5Screate_simple(Int32(memoryShape.count), memoryShape, nil), "create dataspace"), close: H5Sclose)
        var read = [Element](repeating: 0, count: distinct.count * rowSize)
        let status = read.withUnsafeMutableBytes { buffer in
            H5Dread(dataset.handle.id, Element.nativeType, memory.id, fileSpace.id, H5P_DEFAULT, buffer.baseAddress)
        }
        try dataset.checked(status, "read \(distinct.count) rows")
        if distinct == rows {
            values += read
            return
        }
        let position = Dictionary(uniqueKeysWithValues: distinct.enumerated().map { ($1, $0) })
        for row in rows { values += read[position[row]! * rowSize..<(position[row]! + 1) * rowSize] }
    }
}

extension HDF5Group {
    /// Dataset `name` to read by rows, HDF5 caching at most `cacheBytes` of its chunks.
    public func rows<T: HDF5Scalar>(_ name: String, as: T.Type = T.self, cacheBytes: Int) throws(HDF5Error) -> HDF5Rows<T> {
        try HDF5Rows(self, name: name, cacheBytes: cacheBytes)
    }
}
