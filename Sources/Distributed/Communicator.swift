import CMPI
#if canImport(Glibc)
import Glibc
#endif

/// A group of ranks and the collectives they run together.
///
/// Every collective must be called by every rank of the communicator, in the
/// same order; each throws `MPIError` if the library reports a failure.
public final class Communicator: @unchecked Sendable {
    let handle: MPI_Comm
    private let owned: Bool

    /// This process's index in the communicator, `0..<size`.
    public let rank: Int
    /// The number of ranks in the communicator.
    public let size: Int

    init(borrowing handle: MPI_Comm) {
        self.handle = handle
        self.owned = false
        (rank, size) = Communicator.rankAndSize(handle)
    }

    private init(owning handle: MPI_Comm) {
        self.handle = handle
        self.owned = true
        (rank, size) = Communicator.rankAndSize(handle)
    }

    deinit {
        var finalized: Int32 = 0
        MPI_Finalized(&finalized)
        if owned && finalized == 0 {
            var handle: MPI_Comm? = self.handle
            MPI_Comm_free(&handle)
        }
    }

    private static func rankAndSize(_ handle: MPI_Comm) -> (Int, Int) {
        var rank: Int32 = 0, size: Int32 = 1
        MPI_Comm_rank(handle, &rank)
        MPI_Comm_size(handle, &size)
        return (Int(rank), Int(size))
    }

    /// The ranks of this communicator that share this host (`MPI_COMM_TYPE_SHARED`).
    public func nodeLocal() throws(MPIError) -> Communicator {
        var local: MPI_Comm?
        try check(MPI_Comm_split_type(handle, Int32(MPI_COMM_TYPE_SHARED), Int32(rank), MPI_INFO_NULL, &local),
                  "MPI_Comm_split_type")
        return Communicator(owning: local!)
    }

    /// The same ranks on a communicator of their own, whose messages never match this one's. Collective.
    public func duplicate() throws(MPIError) -> Communicator {
        var copy: MPI_Comm?
        try check(MPI_Comm_dup(handle, &copy), "MPI_Comm_dup")
        return Communicator(owning: copy!)
    }

    /// Blocks until every rank has called it.
    public func barrier() throws(MPIError) {
        try check(MPI_Barrier(handle), "MPI_Barrier")
    }

    /// Replaces `buffer` on every rank with the root's; every rank passes the same count.
    public func broadcast<T: MPIScalar>(_ buffer: inout [T], root: Int = 0) throws(MPIError) {
        let count = Int32(buffer.count)
        let code = buffer.withUnsafeMutableBytes { MPI_Bcast($0.baseAddress, count, T.mpiDatatype, Int32(root), handle) }
        try check(code, "MPI_Bcast")
    }

    /// The root's bytes on every rank; other ranks' `bytes` may be of any length.
    public func broadcast(bytes: [UInt8], root: Int = 0) throws(MPIError) -> [UInt8] {
        var count = [Int64(bytes.count)]
        try broadcast(&count, root: root)
        var payload = rank == root ? bytes : [UInt8](repeating: 0, count: Int(count[0]))
        try broadcast(&payload, root: root)
        return payload
    }

    /// The root's string on every rank.
    public func broadcast(string: String, root: Int = 0) throws(MPIError) -> String {
        String(decoding: try broadcast(bytes: Array(string.utf8), root: root), as: UTF8.self)
    }

    /// Reduces `buffer` elementwise across all ranks, in place; every rank ends with the result.
    public func allReduce<T: MPIScalar>(_ buffer: inout [T], op: ReductionOp) throws(MPIError) {
        try buffer.withUnsafeMutableBufferPointer { (pointer) throws(MPIError) in try allReduce(pointer, op: op) }
    }

    /// Reduces the elements behind `buffer` across all ranks, in place.
    public func allReduce<T: MPIScalar>(_ buffer: UnsafeMutableBufferPointer<T>, op: ReductionOp) throws(MPIError) {
        try check(MPI_Allreduce(MPI_IN_PLACE, buffer.baseAddress, Int32(buffer.count), T.mpiDatatype, op.mpiOp, handle),
                  "MPI_Allreduce")
    }

    /// One value reduced across all ranks.
    public func allReduce<T: MPIScalar>(_ value: T, op: ReductionOp) throws(MPIError) -> T {
        var buffer = [value]
        try allReduce(&buffer, op: op)
        return buffer[0]
    }

    /// Every rank's `values`, concatenated in rank order; every rank passes the same count.
    public func allGather<T: MPIScalar>(_ values: [T]) throws(MPIError) -> [T] {
        var result = [T](repeating: 0, count: values.count * size)
        let count = Int32(values.count)
        let code = values.withUnsafeBytes { send in
            result.withUnsafeMutableBytes { receive in
                MPI_Allgather(send.baseAddress, count, T.mpiDatatype, receive.baseAddress, count, T.mpiDatatype, handle)
            }
        }
        try check(code, "MPI_Allgather")
        return result
    }

    /// Chunk r of `values` (`values.count / size` elements each) goes to rank r; returns the chunks
    /// every rank sent this one, concatenated in rank order (`MPI_Alltoall`).
    public func allToAll<T: MPIScalar>(_ values: [T]) throws(MPIError) -> [T] {
        precondition(values.count % size == 0, "all-to-all of \(values.count) values over \(size) ranks")
        var result = [T](repeating: 0, count: values.count)
        let chunk = Int32(values.count / size)
        let code = values.withUnsafeBytes { send in
            result.withUnsafeMutableBytes { receive in
                MPI_Alltoall(send.baseAddress, chunk, T.mpiDatatype, receive.baseAddress, chunk, T.mpiDatatype, handle)
            }
        }
        try check(code, "MPI_Alltoall")
        return result
    }

    /// Every rank's `values`, in rank order; the counts may differ from rank to rank.
    public func allGather<T: MPIScalar>(varying values: [T]) throws(MPIError) -> [[T]] {
        let counts = try allGather([Int32(values.count)])
        var offsets = [Int32](repeating: 0, count: size)
        for index in 1..<max(size, 1) where index < size { offsets[index] = offsets[index - 1] + counts[index - 1] }
        var gathered = [T](repeating: 0, count: Int(counts.reduce(0, +)))
        let code = values.withUnsafeBytes { send in
            gathered.withUnsafeMutableBytes { receive in
                MPI_Allgatherv(send.baseAddress, Int32(values.count), T.mpiDatatype, receive.baseAddress, counts, offsets, T.mpiDatatype, handle)
            }
        }
        try check(code, "MPI_Allgatherv")
        return (0..<size).map { rank in Array(gathered[Int(offsets[rank])..<Int(offsets[rank] + counts[rank])]) }
    }

    /// Every rank's string, in rank order; the strings may differ in length.
    public func allGather(string: String) throws(MPIError) -> [String] {
        try allGather(varying: Array(string.utf8)).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Prints `message` once, from this rank, and ends every rank of the job with `code`.
    ///
    /// MPI jobs often hang when one process exits alone; `MPI_Abort` takes the others down.
    public func abort(code: Int32 = 1, message: String) -> Never {
        let prefix = size > 1 ? "rank \(rank): " : ""
        writeToStandardError("\(prefix)\(message)\n")
        var initialized: Int32 = 0, finalized: Int32 = 0
        MPI_Initialized(&initialized)
        MPI_Finalized(&finalized)
        if initialized != 0 && finalized == 0 && size > 1 {
            // An abort sent over a dead link never arrives: the watchdog bounds it.
            Watchdog.process?.closeHeartbeats(entering: "ending the job (MPI_Abort)")
            MPI_Abort(handle, code)
        }
        exit(code)
    }
}

extension Communicator {
    /// Runs `body`; an error thrown on this rank ends every rank of the job with its message,
    /// because MPI jobs hang when one rank exits and the others wait in a collective.
    /// A `JobFailure` is known to every rank already: rank 0 prints it and all exit with status 1.
    public func endingJobOnError<T>(_ body: () throws -> T) -> T {
        do {
            return try body()
        } catch let failure as JobFailure {
            if rank == 0 { writeToStandardError("error: \(failure)\n") }
            exit(1)
        } catch {
            abort(code: 1, message: "error: \(error)")
        }
    }
}
