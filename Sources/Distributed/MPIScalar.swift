import CMPI

/// A Swift scalar with an MPI datatype, so collectives are generic over element type.
public protocol MPIScalar: Numeric {
    static var mpiType: MPIDatatype { get }
}

/// An MPI datatype, its C handle visible only inside this package.
public struct MPIDatatype {
    package let handle: MPI_Datatype
}

extension Float: MPIScalar { public static var mpiType: MPIDatatype { MPIDatatype(handle: MPI_FLOAT) } }
extension Double: MPIScalar { public static var mpiType: MPIDatatype { MPIDatatype(handle: MPI_DOUBLE) } }
extension Int32: MPIScalar { public static var mpiType: MPIDatatype { MPIDatatype(handle: MPI_INT32_T) } }
extension Int64: MPIScalar { public static var mpiType: MPIDatatype { MPIDatatype(handle: MPI_INT64_T) } }
extension UInt8: MPIScalar { public static var mpiType: MPIDatatype { MPIDatatype(handle: MPI_BYTE) } }

extension MPIScalar {
    static var mpiDatatype: MPI_Datatype { mpiType.handle }
}

/// The reduction applied by `Communicator.allReduce`.
public enum ReductionOp: Sendable, CaseIterable {
    case sum, max, min

    var mpiOp: MPI_Op {
        switch self {
        case .sum: MPI_SUM
        case .max: MPI_MAX
        case .min: MPI_MIN
        }
    }
}
