import CMPI
import Dispatch

/// Runs all-reduces one after another on a thread of their own and on a communicator of their
/// own, while the calling thread goes on computing. Open MPI moves a non-blocking collective only
/// when some thread calls into MPI; between two layers of a backward pass that is too seldom, and
/// its non-blocking algorithms ran at 60% of the blocking ones' rate on a 1 Gbit/s link
/// (benchmarks/README.md). A blocking `MPI_Allreduce` on this thread runs at the link's speed.
/// Needs `MPI_THREAD_MULTIPLE`.
public final class ReductionThread: @unchecked Sendable {
    private let communicator: Communicator
    private let queue = DispatchQueue(label: "learnedloss.reduction")

    /// Collective over `world`; nil when MPI does not let threads call it concurrently.
    public static func start(world: Communicator) throws(MPIError) -> ReductionThread? {
        guard MPIRuntime.threadsMayCallConcurrently else { return nil }
        return ReductionThread(communicator: try world.duplicate())
    }

    private init(communicator: Communicator) { self.communicator = communicator }

    /// How the ranks' values are summed in place over a communicator.
    public typealias Summation = @Sendable (Communicator, UnsafeMutableBufferPointer<Float>) throws(MPIError) -> Void

    /// Starts an in-place sum of `count` floats, written by `fill` before this returns: an
    /// all-reduce, or `summation`. Every rank starts its sums in the same order with the same
    /// counts; they run in that order.
    public func startSum(count: Int, summation: Summation? = nil, fill: (UnsafeMutableBufferPointer<Float>) -> Void) -> PendingAllReduce {
        let pending = PendingAllReduce(count: count)
        fill(pending.values)
        let communicator = self.communicator
        queue.async {
            do throws(MPIError) {
                if let summation { try summation(communicator, pending.values) } else { try communicator.allReduce(pending.values, op: .sum) }
                pending.finish(with: nil)
            } catch {
                pending.finish(with: error)
            }
        }
        return pending
    }
}

/// An all-reduce under way on a `ReductionThread`: its buffer, owned here because the reduction
/// writes into it until it is done.
public final class PendingAllReduce: @unchecked Sendable {
    /// The values to reduce; the result once `wait()` returned.
    public let values: UnsafeMutableBufferPointer<Float>
    private let done = DispatchSemaphore(value: 0)
    private var failure: MPIError?

    init(count: Int) { values = .allocate(capacity: count) }

    deinit {
        values.deallocate()
    }

    fileprivate func finish(with failure: MPIError?) {
        self.failure = failure
        done.signal()
    }

    /// Blocks until the reduction has finished; throws what it failed with. Call once.
    public func wait() throws(MPIError) {
        done.wait()
        if let failure { throw failure }
    }
}
