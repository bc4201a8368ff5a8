import CHDF5

/// A Swift scalar stored in HDF5 datasets and attributes as the matching native type.
public protocol HDF5Scalar: Numeric {
    static var hdf5Type: HDF5Datatype { get }
}

/// An HDF5 native datatype, its C identifier visible only inside this package.
public struct HDF5Datatype: Sendable {
    package let id: hid_t
}

extension Float: HDF5Scalar { public static var hdf5Type: HDF5Datatype { HDF5Datatype(id: H5T_NATIVE_FLOAT) } }
extension Double: HDF5Scalar { public static var hdf5Type: HDF5Datatype { HDF5Datatype(id: H5T_NATIVE_DOUBLE) } }
extension Int64: HDF5Scalar { public static var hdf5Type: HDF5Datatype { HDF5Datatype(id: H5T_NATIVE_INT64) } }
extension UInt8: HDF5Scalar { public static var hdf5Type: HDF5Datatype { HDF5Datatype(id: H5T_NATIVE_UINT8) } }

extension HDF5Scalar {
    static var nativeType: hid_t { hdf5Type.id }
}

/// A dataset's contents: row-major values and their shape.
public struct HDF5Array<Element: HDF5Scalar>: Equatable {
    public var shape: [Int]
    public var values: [Element]

    public init(shape: [Int], values: [Element]) {
        precondition(shape.reduce(1, *) == values.count, "shape \(shape) does not hold \(values.count) values")
        self.shape = shape
        self.values = values
    }
}
