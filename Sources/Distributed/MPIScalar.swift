import CMPI

/// A Swift scalar with an MPI datatype, so collectives are generic over element type.
public protocol MPIScalar: Numeric {
    static var mpiDatatype: MPI_Datatype { get }
}

extension Float: MPIScalar { public static var mpiDatatype: MPI_Datatype { MPI_FLOAT } }
extension Double: MPIScalar { public static var mpiDatatype: MPI_Datatype { MPI_DOUBLE } }
extension Int32: MPIScalar { public static var mpiDatatype: MPI_Datatype { MPI_INT32_T } }
extension Int64: MPIScalar { public static var mpiDatatype: MPI_Datatype { MPI_INT64_T } }
extension UInt8: MPIScalar { public static var mpiDatatype: MPI_Datatype { MPI_BYTE } }

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
