import CHDF5

/// A group: a folder of groups and datasets inside an HDF5 file.
public final class HDF5Group: HDF5Object {
    /// Whether `name` (a child, or a relative path like "a/b") exists below this group.
    public func contains(_ name: String) -> Bool {
        var prefix = ""
        for component in name.split(separator: "/") {
            prefix += prefix.isEmpty ? String(component) : "/\(component)"
            if H5Lexists(handle.id, prefix, H5P_DEFAULT) <= 0 { return false }
        }
        return !prefix.isEmpty
    }

    /// Creates a child group, its links and attributes kept in its checksummed object header.
    public func createGroup(_ name: String) throws(HDF5Error) -> HDF5Group {
        let creation = Handle(try checked(H5Pcreate(H5P_GROUP_CREATE), "create group properties", object: childPath(name)), close: H5Pclose)
        try keepInObjectHeader(creation.id, links: true, object: childPath(name))
        let id = try checked(H5Gcreate2(handle.id, name, H5P_DEFAULT, creation.id, H5P_DEFAULT), "create group", object: childPath(name))
        return HDF5Group(handle: Handle(id, close: H5Gclose), filePath: filePath, path: childPath(name))
    }

    /// Refuses a path through an external link: every file LearnedLoss reads is self-contained, and
    /// a link would open (and trust) another file. Call once `contains(name)` holds.
    private func requireInternalLinks(_ name: String, _ operation: String) throws(HDF5Error) {
        var prefix = ""
        for component in name.split(separator: "/") {
            prefix += prefix.isEmpty ? String(component) : "/\(component)"
            var info = H5L_info_t()
            try checked(H5Lget_info(handle.id, prefix, &info, H5P_DEFAULT), operation, object: childPath(prefix))
            guard info.type != H5L_TYPE_EXTERNAL else {
                throw error(operation, object: childPath(prefix), message: "an external link to another file; the file must be self-contained")
            }
        }
    }

    /// Opens an existing child group.
    public func group(_ name: String) throws(HDF5Error) -> HDF5Group {
        guard contains(name) else { throw error("open group", object: childPath(name), message: "no such group") }
        try requireInternalLinks(name, "open group")
        let id = try checked(H5Gopen2(handle.id, name, H5P_DEFAULT), "open group", object: childPath(name))
        return HDF5Group(handle: Handle(id, close: H5Gclose), filePath: filePath, path: childPath(name))
    }

    /// The names of this group's direct children, in HDF5's name order.
    public func childNames() throws(HDF5Error) -> [String] {
        final class Names { var items: [String] = [] }
        let names = Names()
        let status = withExtendedLifetime(names) {
            H5Literate(handle.id, H5_INDEX_NAME, H5_ITER_INC, nil, { _, name, _, context in
                Unmanaged<Names>.fromOpaque(context!).takeUnretainedValue().items.append(String(cString: name!))
                return 0
            }, Unmanaged.passUnretained(names).toOpaque())
        }
        try checked(status, "list group")
        return names.items
    }

    /// Writes a dataset of `array.shape`, replacing nothing: the name must be new. Its chunks hold
    /// whole rows, as many as fit in `chunkBytes` (at least one).
    @discardableResult
    public func write<T: HDF5Scalar>(_ array: HDF5Array<T>, to name: String, chunkBytes: Int = 16 << 20) throws(HDF5Error) -> HDF5Dataset {
        let object = childPath(name)
        let dims = array.shape.map { hsize_t($0) }
        let spaceID = array.shape.isEmpty ? H5Screate(H5S_SCALAR) : H5Screate_simple(Int32(dims.count), dims, nil)
        let space = Handle(try checked(spaceID, "create dataspace", object: object), close: H5Sclose)
        let creation = Handle(try checked(H5Pcreate(H5P_DATASET_CREATE), "create dataset properties", object: object), close: H5Pclose)
        try keepInObjectHeader(creation.id, links: false, object: object)
        if array.values.isEmpty || array.shape.isEmpty {
            // A scalar or an empty dataset cannot be chunked, so it cannot take a filter: stored
            // compact, its value lives in the object header, whose checksum covers it.
            try checked(H5Pset_layout(creation.id, H5D_COMPACT), "choose compact storage", object: object)
        } else {
            // Chunked, so HDF5's checksum filter can cover them.
            let rowBytes = array.shape.dropFirst().reduce(MemoryLayout<T>.stride, *)
            var chunk = dims
            chunk[0] = hsize_t(max(1, min(array.shape[0], chunkBytes / max(1, rowBytes))))
            try checked(H5Pset_chunk(creation.id, Int32(chunk.count), chunk), "chunk dataset", object: object)
            try checked(H5Pset_fletcher32(creation.id), "add Fletcher32 checksum", object: object)
        }
        let id = try checked(H5Dcreate2(handle.id, name, T.nativeType, space.id, H5P_DEFAULT, creation.id, H5P_DEFAULT),
                             "create dataset", object: object)
        let dataset = HDF5Dataset(handle: Handle(id, close: H5Dclose), filePath: filePath, path: object)
        let status = array.values.withUnsafeBytes { (buffer: UnsafeRawBufferPointer) -> herr_t in H5Dwrite(id, T.nativeType, H5S_ALL, H5S_ALL, H5P_DEFAULT, buffer.baseAddress) }
        try checked(status, "write dataset", object: object)
        return dataset
    }

    /// Writes `values` with `shape` (row-major); see `write(_:to:chunkBytes:)`.
    @discardableResult
    public func write<T: HDF5Scalar>(_ values: [T], shape: [Int], to name: String, chunkBytes: Int = 16 << 20) throws(HDF5Error) -> HDF5Dataset {
        guard shape.reduce(1, *) == values.count else {
            throw HDF5Error(file: filePath, object: childPath(name), operation: "write dataset",
                            message: "shape \(shape) does not hold \(values.count) values")
        }
        return try write(HDF5Array(shape: shape, values: values), to: name, chunkBytes: chunkBytes)
    }

    /// Opens a dataset for its attributes.
    public func dataset(_ name: String) throws(HDF5Error) -> HDF5Dataset {
        let object = childPath(name)
        guard contains(name) else { throw error("open dataset", object: object, message: "no such dataset") }
        try requireInternalLinks(name, "open dataset")
        let id = try checked(H5Dopen2(handle.id, name, H5P_DEFAULT), "open dataset", object: object)
        let dataset = HDF5Dataset(handle: Handle(id, close: H5Dclose), filePath: filePath, path: object)
        // Values kept in other files (external storage, a virtual dataset's sources) are refused alike.
        let creation = Handle(try checked(H5Dget_create_plist(id), "read dataset properties", object: object), close: H5Pclose)
        guard H5Pget_external_count(creation.id) == 0, H5Pget_layout(creation.id) != H5D_VIRTUAL else {
            throw error("open dataset", object: object, message: "its values are stored in other files; the file must be self-contained")
        }
        return dataset
    }

    /// Reads a whole numeric dataset, converted to `T` by HDF5.
    public func read<T: HDF5Scalar>(_ name: String, as: T.Type = T.self) throws(HDF5Error) -> HDF5Array<T> {
        let dataset = try dataset(name)
        let object = dataset.path
        let type = Handle(try checked(H5Dget_type(dataset.handle.id), "read dataset type", object: object), close: H5Tclose)
        let typeClass = H5Tget_class(type.id)
        guard typeClass == H5T_INTEGER || typeClass == H5T_FLOAT else {
            throw error("read dataset", object: object, message: "expected a numeric dataset")
        }
        let extent = try storedShape(of: dataset, elementBytes: H5Tget_size(type.id))
        var values = [T](repeating: 0, count: extent.reduce(1, *))
        let status = values.withUnsafeMutableBytes { (buffer: UnsafeMutableRawBufferPointer) -> herr_t in
            H5Dread(dataset.handle.id, T.nativeType, H5S_ALL, H5S_ALL, H5P_DEFAULT, buffer.baseAddress)
        }
        try checked(status, "read dataset", object: object)
        return HDF5Array(shape: extent, values: values)
    }

    /// `dataset`'s shape, refused unless the file can hold the values it declares: their count
    /// must not overflow, and their bytes (of `elementBytes` each) may be at most 1,100 times
    /// what the file stores for them, zlib's best ratio being about 1,030. A dataset with chunks
    /// never written declares values the file does not hold, so they are never allocated for.
    func storedShape(of dataset: HDF5Dataset, elementBytes: Int) throws(HDF5Error) -> [Int] {
        let extent = try shape(of: dataset)
        var bytes = elementBytes
        for dimension in extent {
            let (product, overflow) = bytes.multipliedReportingOverflow(by: dimension)
            guard !overflow else { throw dataset.error("read dataset", message: "its shape \(extent) holds more values than can be counted") }
            bytes = product
        }
        let stored = Int(H5Dget_storage_size(dataset.handle.id))
        guard bytes <= 1100 * stored + 4096 else {
            throw dataset.error("read dataset", message: "its shape \(extent) declares \(bytes) bytes, the file stores \(stored) for it")
        }
        return extent
    }

    /// A dataset's shape, without reading its values.
    public func shape(of name: String) throws(HDF5Error) -> [Int] {
        try shape(of: try dataset(name))
    }

    private func shape(of dataset: HDF5Dataset) throws(HDF5Error) -> [Int] {
        let space = Handle(try checked(H5Dget_space(dataset.handle.id), "read dataspace", object: dataset.path), close: H5Sclose)
        let rank = Int(try checked(H5Sget_simple_extent_ndims(space.id), "read dataspace", object: dataset.path))
        var dims = [hsize_t](repeating: 0, count: rank)
        try checked(H5Sget_simple_extent_dims(space.id, &dims, nil), "read dataspace", object: dataset.path)
        let shape = dims.compactMap { Int(exactly: $0) }
        guard shape.count == dims.count else {
            throw error("read dataspace", object: dataset.path, message: "its shape \(dims) has sides too large to count")
        }
        return shape
    }
}

extension HDF5Group {
    /// Whether a numeric dataset stores integers (as opposed to floating point).
    public func storesIntegers(_ name: String) throws(HDF5Error) -> Bool {
        let dataset = try dataset(name)
        let type = Handle(try checked(H5Dget_type(dataset.handle.id), "read dataset type", object: dataset.path), close: H5Tclose)
        return H5Tget_class(type.id) == H5T_INTEGER
    }

    /// Whether a dataset stores unsigned bytes, which read as `UInt8` without conversion.
    public func storesBytes(_ name: String) throws(HDF5Error) -> Bool {
        let dataset = try dataset(name)
        let type = Handle(try checked(H5Dget_type(dataset.handle.id), "read dataset type", object: dataset.path), close: H5Tclose)
        return H5Tget_class(type.id) == H5T_INTEGER && H5Tget_size(type.id) == 1 && H5Tget_sign(type.id) == H5T_SGN_NONE
    }
}

extension HDF5Group {
    /// Reads every dataset below this group, so HDF5 checks every checksum on the way (Fletcher32
    /// on chunked values, the object headers' own on the rest); throws the first mismatch, naming
    /// the dataset. A file written without checksums (an older format) reads without this check.
    /// Groups nested deeper than `maximumDepth` are refused: only a link cycle makes them.
    public func verifyEveryDataset(depth: Int = 0) throws(HDF5Error) {
        let maximumDepth = 16
        guard depth <= maximumDepth else {
            throw error("verify", object: path, message: "groups nest more than \(maximumDepth) deep, as only a link cycle makes them")
        }
        for name in try childNames() {
            if isGroup(name) {
                try group(name).verifyEveryDataset(depth: depth + 1)
            } else if try storesIntegers(name) {
                _ = try read(name, as: Int64.self)
            } else {
                _ = try read(name, as: Double.self)
            }
        }
    }

    /// Whether the child `name` is a group (rather than a dataset).
    public func isGroup(_ name: String) -> Bool {
        guard contains(name) else { return false }
        let id = H5Oopen(handle.id, name, H5P_DEFAULT)
        guard id >= 0 else { _ = ErrorStack.drain(); return false }
        defer { H5Oclose(id) }
        return H5Iget_type(id) == H5I_GROUP
    }
}

extension HDF5Object {
    /// The names of this group's or dataset's attributes.
    public func attributeNames() throws(HDF5Error) -> [String] {
        try names(ofAttributesOf: self)
    }
}

private func names(ofAttributesOf object: HDF5Object) throws(HDF5Error) -> [String] {
    final class Names { var items: [String] = [] }
    let names = Names()
    let status = withExtendedLifetime(names) {
        H5Aiterate2(object.handle.id, H5_INDEX_NAME, H5_ITER_INC, nil, { _, name, _, context in
            Unmanaged<Names>.fromOpaque(context!).takeUnretainedValue().items.append(String(cString: name!))
            return 0
        }, Unmanaged.passUnretained(names).toOpaque())
    }
    try object.checked(status, "list attributes")
    return names.items
}
