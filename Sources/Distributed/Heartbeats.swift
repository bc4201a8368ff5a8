import CMPI
import Foundation

/// Where each rank was when it was last heard from, so that a job ended by its watchdogs can
/// name the ranks that went silent: stopped, or behind a cut link.
///
/// A collective says nothing about who has not arrived, and a rank stuck in one cannot send from
/// its main thread. So the watchdog threads exchange small messages about once a second, on a
/// communicator of their own: every rank tells rank 0 where it is, and rank 0 tells every rank
/// where it is. Rank 0 so knows every rank's last sighting, the others rank 0's. This needs
/// `MPI_THREAD_MULTIPLE`; without it there are no heartbeats. Only the watchdog's thread may call
/// the instance methods.
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
    /// The ranks this one hears from: all others on rank 0, rank 0 elsewhere.
    private let peers: [Int]
    private var sightings: [Int: Sighting] = [:]
    /// One message in flight per peer and one arriving; their buffers stay allocated while MPI may use them.
    private let outgoing: [Message]
    private let incoming = Message()

    private static let messageBytes = 128
    private static let tag: Int32 = 0x4842

    /// Collective over `world`. Nil with one rank or when threads may not call MPI concurrently.
    public static func start(world: Communicator) throws -> Heartbeats? {
        guard world.size > 1, MPIRuntime.threadsMayCallConcurrently else { return nil }
        return Heartbeats(communicator: try world.duplicate(), hosts: try world.allGather(string: MPIRuntime.processorName))
    }

    private init(communicator: Communicator, hosts: [String]) {
        (self.communicator, self.hosts) = (communicator, hosts)
        peers = communicator.rank == 0 ? Array(1..<communicator.size) : [0]
        outgoing = peers.map { _ in Message() }
    }

    /// Collects what arrived and tells the peers this rank is at `step`, doing `phase`. Never
    /// blocks: a beat that cannot leave yet (its peer unreachable) is skipped.
    public func beat(step: Int, phase: String) {
        collect()
        for (peer, message) in zip(peers, outgoing) where message.isIdle {
            message.store(rank: communicator.rank, step: step, phase: phase)
            message.start(MPI_Isend(message.bytes, Int32(Self.messageBytes), MPI_BYTE, Int32(peer), Self.tag,
                                    communicator.handle, message.request))
        }
    }

    private func collect() {
        while true {
            // Not `isIdle`, which would take a completed receive for a free buffer and drop its message.
            if !incoming.inFlight {
                let source = communicator.rank == 0 ? MPI_ANY_SOURCE : 0
                incoming.start(MPI_Irecv(incoming.bytes, Int32(Self.messageBytes), MPI_BYTE, source, Self.tag,
                                         communicator.handle, incoming.request))
            }
            guard let (rank, step, phase) = incoming.received() else { return }
            if peers.contains(rank) { sightings[rank] = Sighting(time: Date(), step: step, phase: phase) }
        }
    }

    /// The peers not heard from for longer than `seconds`, each with where it last was.
    public func silentPeers(longerThan seconds: Double) -> [(rank: Int, sighting: Sighting?)] {
        collect()
        let now = Date()
        guard now.timeIntervalSince(started) > seconds else { return [] }
        return peers.compactMap { rank in
            guard let sighting = sightings[rank] else { return (rank, nil) }
            return now.timeIntervalSince(sighting.time) > seconds ? (rank, sighting) : nil
        }
    }

    /// A sentence naming the silent peers, or nil when every peer was heard from recently.
    public func describeSilentPeers(longerThan seconds: Double) -> String? {
        let silent = silentPeers(longerThan: seconds)
        guard !silent.isEmpty else { return nil }
        let now = Date()
        let each = silent.map { rank, sighting in
            let last = sighting.map { "last heard \(Int(now.timeIntervalSince($0.time).rounded())) s ago at step \($0.step), \($0.phase)" }
            return "rank \(rank) (host \(hosts[rank])): \(last ?? "never heard from")"
        }
        return "rank \(communicator.rank) has not heard from \(silent.count == 1 ? "1 rank" : "\(silent.count) ranks"): "
            + each.joined(separator: "; ")
    }

    /// Cancels the messages in flight.
    public func close() {
        for message in outgoing + [incoming] { message.cancel() }
    }
}

/// One heartbeat's buffer and request, allocated until MPI has let go of them: freed in `deinit`
/// once idle, or, if a cancelled request never completed, left allocated since MPI may still use it.
private final class Message {
    let bytes = UnsafeMutableRawPointer.allocate(byteCount: 128, alignment: 8)
    let request = UnsafeMutablePointer<MPI_Request?>.allocate(capacity: 1)
    private(set) var inFlight = false

    init() { request.initialize(to: nil) }

    /// `[rank: Int64][step: Int64][phase: NUL-terminated UTF-8]`
    func store(rank: Int, step: Int, phase: String) {
        bytes.storeBytes(of: Int64(rank), toByteOffset: 0, as: Int64.self)
        bytes.storeBytes(of: Int64(step), toByteOffset: 8, as: Int64.self)
        let text = Array(phase.utf8.prefix(128 - 17)) + [0]
        text.withUnsafeBytes { bytes.advanced(by: 16).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
    }

    func start(_ code: Int32) { inFlight = code == MPI_SUCCESS }

    /// Whether no request is in flight any more (the last one completed, or there was none).
    var isIdle: Bool {
        guard inFlight else { return true }
        var done: Int32 = 0
        guard MPI_Test(request, &done, MPI_STATUS_IGNORE) == MPI_SUCCESS else { return false }
        if done != 0 { inFlight = false }
        return done != 0
    }

    /// The message, if the receive in flight has completed; the buffer is then free for the next.
    func received() -> (rank: Int, step: Int, phase: String)? {
        guard inFlight, isIdle else { return nil }
        return (Int(bytes.load(fromByteOffset: 0, as: Int64.self)), Int(bytes.load(fromByteOffset: 8, as: Int64.self)),
                String(cString: bytes.advanced(by: 16).assumingMemoryBound(to: CChar.self)))
    }

    func cancel() {
        guard inFlight else { return }
        MPI_Cancel(request)
        var done: Int32 = 0
        MPI_Test(request, &done, MPI_STATUS_IGNORE)
        inFlight = done == 0
    }

    deinit {
        guard !inFlight else { return }
        bytes.deallocate()
        request.deallocate()
    }
}
