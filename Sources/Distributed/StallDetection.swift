import CMPI
import Foundation

/// A rank that did not reach a check-in in time.
public struct StallError: Error, CustomStringConvertible {
    public let description: String
}

extension Communicator {
    /// Returns once every rank has checked in for `label`, or throws `StallError` after `timeout`
    /// seconds naming the ranks that did not arrive.
    ///
    /// Collectives give no way to see who is missing, so this uses messages: every rank tells
    /// rank 0 it arrived, and rank 0 answers all once everyone has. Rank 0 names the missing
    /// ranks; the others wait a little longer, so rank 0's report comes first.
    public func checkIn(_ label: String, timeout: Double) throws {
        guard size > 1 else { return }
        let tag: Int32 = 0x57A1
        // MPI reads and writes these buffers until each request completes, after this function
        // may have thrown: they live on the heap, owned by `messages`, not in Swift variables.
        let messages = PendingMessages(count: size)
        if rank == 0 {
            for source in 1..<size {
                try check(MPI_Irecv(messages.value(source), 1, MPI_INT32_T, Int32(source), tag, handle, messages.request(source)), "MPI_Irecv")
            }
            let missing = try messages.wait(for: 1..<size, timeout: timeout)
            if !missing.isEmpty {
                throw StallError(description: "rank\(missing.count == 1 ? "" : "s") \(missing.map(String.init).joined(separator: ", ")) "
                                 + "did not reach \(label) within \(Self.seconds(timeout)); the others waited there")
            }
            for destination in 1..<size {
                try check(MPI_Isend(messages.value(0), 1, MPI_INT32_T, Int32(destination), tag, handle, messages.request(destination)),
                          "MPI_Isend")
            }
            _ = try messages.wait(for: 1..<size, timeout: .infinity)
        } else {
            // Slot 0 is the arrival sent to rank 0, slot 1 its answer.
            try check(MPI_Isend(messages.value(0), 1, MPI_INT32_T, 0, tag, handle, messages.request(0)), "MPI_Isend")
            try check(MPI_Irecv(messages.value(1), 1, MPI_INT32_T, 0, tag, handle, messages.request(1)), "MPI_Irecv")
            let grace = timeout + max(5, timeout / 10)
            if try !messages.wait(for: 1..<2, timeout: grace).isEmpty {
                throw StallError(description: "rank 0 did not answer at \(label) within \(Self.seconds(grace))")
            }
            _ = try messages.wait(for: 0..<1, timeout: .infinity)
        }
    }

    private static func seconds(_ value: Double) -> String {
        value == value.rounded() ? "\(Int(value)) s" : String(format: "%.1f s", value)
    }
}

/// Non-blocking messages of one `Int32` each, with buffers and requests that outlive the Swift
/// scope that started them: freed once every request has completed, or, for requests a
/// timeout left pending, cancelled and then left allocated, since MPI may still write them.
private final class PendingMessages {
    private let values: UnsafeMutablePointer<Int32>
    private let requests: UnsafeMutablePointer<MPI_Request?>
    private let count: Int

    init(count: Int) {
        self.count = count
        values = .allocate(capacity: count)
        values.initialize(repeating: 0, count: count)
        requests = .allocate(capacity: count)
        requests.initialize(repeating: nil, count: count)
    }

    func value(_ index: Int) -> UnsafeMutablePointer<Int32> { values + index }
    func request(_ index: Int) -> UnsafeMutablePointer<MPI_Request?> { requests + index }

    /// Polls the requests in `range` until all complete or `timeout` passes; returns the indices still pending.
    func wait(for range: Range<Int>, timeout: Double) throws -> [Int] {
        var pending = Array(range)
        let deadline = Date().addingTimeInterval(timeout.isFinite ? timeout : 1e9)
        while !pending.isEmpty {
            pending = try pending.filter { index in
                var done: Int32 = 0
                try check(MPI_Test(requests + index, &done, MPI_STATUS_IGNORE), "MPI_Test")
                return done == 0
            }
            if pending.isEmpty || Date() > deadline { break }
            usleep(50)
        }
        return pending
    }

    deinit {
        // A completed request is MPI_REQUEST_NULL again; one still active is cancelled.
        var outstanding = false
        for index in 0..<count where requests[index] != nil && requests[index] != MPI_REQUEST_NULL {
            MPI_Cancel(requests + index)
            var done: Int32 = 0
            MPI_Test(requests + index, &done, MPI_STATUS_IGNORE)
            if done == 0 { outstanding = true }
        }
        guard !outstanding else { return }  // MPI may still write them: leaked on purpose, the job is ending.
        values.deallocate()
        requests.deallocate()
    }
}
