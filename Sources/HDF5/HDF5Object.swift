import CHDF5

/// A group or dataset in an open file; holds its identifier open and carries attributes.
public class HDF5Object {
    let handle: Handle
    /// The file's path on disk, for error messages.
    public let filePath: String
    /// The object's path inside the file, for example "/generator/0.weight".
    public let path: String

    init(handle: Handle, filePath: String, path: String) {
        self.handle = handle
        self.filePath = filePath
        self.path = path
    }

    func error(_ operation: String, object: String? = nil, message: String? = nil) -> HDF5Error {
        let stack = ErrorStack.drain()
        return HDF5Error(file: filePath, object: object ?? path, operation: operation, message: message ?? stack)
    }

    /// Throws `HDF5Error` when an HDF5 call returned a negative status or identifier.
    @discardableResult
    func checked<T: BinaryInteger>(_ status: T, _ operation: @autoclosure () -> String, object: String? = nil) throws(HDF5Error) -> T {
        if status < 0 { throw error(operation(), object: object) }
        return status
    }

    /// Keeps an object's attributes (and a group's links) in its object header, never in the
    /// "dense" fractal heap HDF5 moves them to past 8: the header's checksum covers them, while
    /// the heap's data blocks carry none, and HDF5 1.10 crashed reading a damaged heap header.
    func keepInObjectHeader(_ creationProperties: hid_t, links: Bool, object: String) throws(HDF5Error) {
        try checked(H5Pset_attr_phase_change(creationProperties, 65535, 65535), "keep attributes compact", object: object)
        if links { try checked(H5Pset_link_phase_change(creationProperties, 65535, 65535), "keep links compact", object: object) }
    }

    func childPath(_ name: String) -> String { path == "/" ? "/\(name)" : "\(path)/\(name)" }

    /// Whether the object has an attribute called `name`.
    public func hasAttribute(_ name: String) -> Bool {
        H5Aexists(handle.id, name) > 0
    }

    /// Stores `value` as a fixed-length, null-terminated ASCII/UTF-8 string attribute, replacing any old one.
    public func setAttribute(_ name: String, _ value: String) throws(HDF5Error) {
        let bytes = Array(value.utf8) + [0]
        let type = Handle(try checked(H5Tcopy(H5T_C_S1), "create string type"), close: H5Tclose)
        try checked(H5Tset_size(type.id, bytes.count), "size string type")
        try checked(H5Tset_strpad(type.id, H5T_STR_NULLTERM), "pad string type")
        let attribute = try replaceAttribute(name, type: type.id)
        try checked(H5Awrite(attribute.id, type.id, bytes), "write attribute \(name)")
    }

    /// Stores a numeric scalar attribute, replacing any old one.
    public func setAttribute<T: HDF5Scalar>(_ name: String, _ value: T) throws(HDF5Error) {
        let attribute = try replaceAttribute(name, type: T.nativeType)
        var copy = value
        try checked(withUnsafeBytes(of: &copy) { H5Awrite(attribute.id, T.nativeType, $0.baseAddress) }, "write attribute \(name)")
    }

    private func replaceAttribute(_ name: String, type: hid_t) throws(HDF5Error) -> Handle {
        if hasAttribute(name) { try checked(H5Adelete(handle.id, name), "replace attribute \(name)") }
        let space = Handle(try checked(H5Screate(H5S_SCALAR), "create dataspace"), close: H5Sclose)
        let id = try checked(H5Acreate2(handle.id, name, type, space.id, H5P_DEFAULT, H5P_DEFAULT), "create attribute \(name)")
        return Handle(id, close: H5Aclose)
    }

    private func openAttribute(_ name: String) throws(HDF5Error) -> Handle {
        guard hasAttribute(name) else {
            throw error("read attribute", object: "\(path)@\(name)", message: "no such attribute")
        }
        return Handle(try checked(H5Aopen(handle.id, name, H5P_DEFAULT), "open attribute \(name)"), close: H5Aclose)
    }

    /// A string attribute, fixed- or variable-length.
    public func stringAttribute(_ name: String) throws(HDF5Error) -> String {
        let attribute = try openAttribute(name)
        let type = Handle(try checked(H5Aget_type(attribute.id), "read type of attribute \(name)"), close: H5Tclose)
        guard H5Tget_class(type.id) == H5T_STRING else {
            throw error("read attribute", object: "\(path)@\(name)", message: "expected a string attribute")
        }
        if H5Tis_variable_str(type.id) > 0 {
            var pointer: UnsafeMutablePointer<CChar>? = nil
            try checked(H5Aread(attribute.id, type.id, &pointer), "read attribute \(name)")
            defer { H5free_memory(pointer) }
            return pointer.map { String(cString: $0) } ?? ""
        }
        var bytes = [UInt8](repeating: 0, count: H5Tget_size(type.id) + 1)
        try checked(H5Aread(attribute.id, type.id, &bytes), "read attribute \(name)")
        return String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
    }

    /// A numeric scalar attribute, converted to `T` by HDF5.
    public func attribute<T: HDF5Scalar>(_ name: String, as: T.Type = T.self) throws(HDF5Error) -> T {
        let attribute = try openAttribute(name)
        let type = Handle(try checked(H5Aget_type(attribute.id), "read type of attribute \(name)"), close: H5Tclose)
        let typeClass = H5Tget_class(type.id)
        guard typeClass == H5T_INTEGER || typeClass == H5T_FLOAT else {
            throw error("read attribute", object: "\(path)@\(name)", message: "expected a numeric attribute")
        }
        var value: T = 0
        try checked(withUnsafeMutableBytes(of: &value) { H5Aread(attribute.id, T.nativeType, $0.baseAddress) }, "read attribute \(name)")
        return value
    }
}

/// A dataset, returned by `HDF5Group.write` so attributes can be set on it.
public final class HDF5Dataset: HDF5Object {}
