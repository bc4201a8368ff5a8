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
        var token: Int32 = 0
        if rank == 0 {
            var arrivals = [Int32](repeating: 0, count: size)
            var requests = [MPI_Request?](repeating: nil, count: size)
            try arrivals.withUnsafeMutableBufferPointer { buffer in
                for source in 1..<size {
                    try check(MPI_Irecv(buffer.baseAddress! + source, 1, MPI_INT32_T, Int32(source), tag, handle, &requests[source]), "MPI_Irecv")
                }
                let missing = try waitFor(requests, from: 1..<size, timeout: timeout)
                if !missing.isEmpty {
                    throw StallError(description: "rank\(missing.count == 1 ? "" : "s") \(missing.map(String.init).joined(separator: ", ")) "
                                     + "did not reach \(label) within \(Self.seconds(timeout)); the others waited there")
                }
            }
            var sends = [MPI_Request?](repeating: nil, count: size)
            for destination in 1..<size {
                try check(MPI_Isend(&token, 1, MPI_INT32_T, Int32(destination), tag, handle, &sends[destination]), "MPI_Isend")
            }
            _ = try waitFor(sends, from: 1..<size, timeout: .infinity)
        } else {
            var send: MPI_Request?
            try check(MPI_Isend(&token, 1, MPI_INT32_T, 0, tag, handle, &send), "MPI_Isend")
            var answer: MPI_Request?
            var reply: Int32 = 0
            try check(MPI_Irecv(&reply, 1, MPI_INT32_T, 0, tag, handle, &answer), "MPI_Irecv")
            let grace = timeout + max(5, timeout / 10)
            if try !waitFor([answer], from: 0..<1, timeout: grace).isEmpty {
                throw StallError(description: "rank 0 did not answer at \(label) within \(Self.seconds(grace))")
            }
            _ = try waitFor([send], from: 0..<1, timeout: .infinity)
        }
    }

    /// Polls `requests[range]` until all complete or `timeout` passes; returns the indices still pending.
    private func waitFor(_ requests: [MPI_Request?], from range: Range<Int>, timeout: Double) throws -> [Int] {
        var requests = requests
        var pending = Array(range)
        let deadline = Date().addingTimeInterval(timeout.isFinite ? timeout : 1e9)
        while !pending.isEmpty {
            pending = try pending.filter { index in
                var done: Int32 = 0
                try check(MPI_Test(&requests[index], &done, MPI_STATUS_IGNORE), "MPI_Test")
                return done == 0
            }
            if pending.isEmpty || Date() > deadline { break }
            usleep(50)
        }
        return pending
    }

    private static func seconds(_ value: Double) -> String {
        value == value.rounded() ? "\(Int(value)) s" : String(format: "%.1f s", value)
    }
}
