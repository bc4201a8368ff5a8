import CMPI
import Foundation

/// Where each rank was when rank 0 last heard from it, so that a job ended by its watchdogs can
/// name the ranks that went silent: stopped, or behind a cut link.
///
/// A collective says nothing about who has not arrived, and a rank stuck in one cannot send from
/// its main thread. So every watchdog thread sends rank 0 a small message about once a second,
/// on a communicator of its own, and rank 0's watchdog thread collects them. This needs
/// `MPI_THREAD_MULTIPLE`; without it there are no heartbeats and rank 0 says it cannot tell.
/// Only the watchdog's thread may call the instance methods.
public final class Heartbeats: @unchecked Sendable {
    /// What one rank last said: when, at which step, doing what.
    public struct Sighting: Sendable {
        public let time: Date
        public let step: Int
        public let phase: String
    }

    private let communicator: Communicator
    /// Every rank's host, for the messages.
    public let hosts: [String]
    private let started = Date()
    private var sightings: [Sighting?]
    /// One message in flight at a time: its buffer and request stay allocated while MPI may use them.
    private let message = UnsafeMutableRawPointer.allocate(byteCount: Heartbeats.messageBytes, alignment: 8)
    private let request = UnsafeMutablePointer<MPI_Request?>.allocate(capacity: 1)
    private var inFlight = false

    private static let messageBytes = 128
    private static let tag: Int32 = 0x4842

    /// Collective over `world`. Nil with one rank or when threads may not call MPI concurrently.
    public static func start(world: Communicator) throws -> Heartbeats? {
        guard world.size > 1, MPIRuntime.threadsMayCallConcurrently else { return nil }
        return Heartbeats(communicator: try world.duplicate(), hosts: try world.allGather(string: MPIRuntime.processorName))
    }

    private init(communicator: Communicator, hosts: [String]) {
        (self.communicator, self.hosts) = (communicator, hosts)
        sightings = Array(repeating: nil, count: communicator.size)
        request.initialize(to: nil)
    }

    /// Rank 0 collects what arrived; every other rank says it is at `step`, doing `phase`.
    /// Never blocks: a beat that cannot leave yet (rank 0 unreachable) is skipped.
    public func beat(step: Int, phase: String) {
        if communicator.rank == 0 {
            collect()
        } else if finishedInFlight() {
            message.storeBytes(of: Int64(communicator.rank), toByteOffset: 0, as: Int64.self)
            message.storeBytes(of: Int64(step), toByteOffset: 8, as: Int64.self)
            let text = Array(phase.utf8.prefix(Self.messageBytes - 17)) + [0]
            text.withUnsafeBytes { message.advanced(by: 16).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
            inFlight = MPI_Isend(message, Int32(Self.messageBytes), MPI_BYTE, 0, Self.tag, communicator.handle, request) == MPI_SUCCESS
        }
    }

    private func collect() {
        while true {
            if !inFlight {
                inFlight = MPI_Irecv(message, Int32(Self.messageBytes), MPI_BYTE, MPI_ANY_SOURCE, Self.tag,
                                     communicator.handle, request) == MPI_SUCCESS
                guard inFlight else { return }
            }
            guard finishedInFlight() else { return }
            let rank = Int(message.load(fromByteOffset: 0, as: Int64.self))
            let step = Int(message.load(fromByteOffset: 8, as: Int64.self))
            let phase = String(cString: message.advanced(by: 16).assumingMemoryBound(to: CChar.self))
            if sightings.indices.contains(rank) { sightings[rank] = Sighting(time: Date(), step: step, phase: phase) }
        }
    }

    /// Whether no message is in flight any more (the last one completed, or there was none).
    private func finishedInFlight() -> Bool {
        guard inFlight else { return true }
        var done: Int32 = 0
        guard MPI_Test(request, &done, MPI_STATUS_IGNORE) == MPI_SUCCESS else { return false }
        if done != 0 { inFlight = false }
        return done != 0
    }

    /// On rank 0: the ranks not heard from for longer than `seconds`, each with where it last was.
    public func silentRanks(longerThan seconds: Double) -> [(rank: Int, sighting: Sighting?)] {
        collect()
        let now = Date()
        guard now.timeIntervalSince(started) > seconds else { return [] }
        return (1..<sightings.count).compactMap { rank in
            guard let sighting = sightings[rank] else { return (rank, nil) }
            return now.timeIntervalSince(sighting.time) > seconds ? (rank, sighting) : nil
        }
    }

    /// On rank 0, a sentence naming the silent ranks, or nil when every rank was heard from recently.
    public func describeSilentRanks(longerThan seconds: Double) -> String? {
        let silent = silentRanks(longerThan: seconds)
        guard !silent.isEmpty else { return nil }
        let now = Date()
        let each = silent.map { rank, sighting in
            let last = sighting.map { "last heard \(Int(now.timeIntervalSince($0.time).rounded())) s ago at step \($0.step), \($0.phase)" }
            return "rank \(rank) (host \(hosts[rank])): \(last ?? "never heard from")"
        }
        return "rank 0 has not heard from \(silent.count == 1 ? "1 rank" : "\(silent.count) ranks"): " + each.joined(separator: "; ")
    }

    /// Cancels the message in flight; the buffers stay allocated if MPI may still use them.
    public func close() {
        guard inFlight else { return }
        MPI_Cancel(request)
        var done: Int32 = 0
        MPI_Test(request, &done, MPI_STATUS_IGNORE)
        inFlight = done == 0
    }

    deinit {
        // A request that could not be cancelled may still write the buffer: leaked on purpose.
        guard !inFlight else { return }
        message.deallocate()
        request.deallocate()
    }
}
