import CMPI
import Foundation

/// Where each rank was when it was last heard from, so that a job ended by its watchdogs can
/// name the ranks that went silent: stopped, or behind a cut link.
///
/// A collective says nothing about who has not arrived, and a rank stuck in one cannot send from
/// its main thread. So a thread of its own exchanges small messages about once a second, on a
/// communicator of their own: every rank tells rank 0 where it is, and rank 0 tells every rank
/// where it is. Rank 0 so knows every rank's last sighting, the others rank 0's. This needs
/// `MPI_THREAD_MULTIPLE`; without it there are no heartbeats. The watchdog reads the sightings
/// and never calls MPI itself, so an MPI that holds a thread cannot keep it from deciding.
public final class Heartbeats: @unchecked Sendable {
    /// What one rank last said: when (seconds on the monotonic clock), at which step, doing what.
    public struct Sighting: Sendable {
        public let time: Double
        public let step: Int
        public let phase: String
    }

    private let communicator: Communicator
    /// Every rank's host, for the messages.
    public let hosts: [String]
    private let started = Watchdog.now()
    /// The ranks this one hears from: all others on rank 0, rank 0 elsewhere.
    private let peers: [Int]
    private let lock = NSLock()
    private var sightings: [Int: Sighting] = [:]
    /// Set by `close()`: the sightings stay, for a watchdog that fires in MPI_Finalize.
    private var closing = false
    /// Signalled by `close()`, so the thread leaves at once rather than after its second's wait.
    private let wake = DispatchSemaphore(value: 0)
    private let closed = DispatchSemaphore(value: 0)
    /// One message in flight per peer and one arriving; their buffers stay allocated while MPI may use them.
    private let outgoing: [Message]
    private let incoming = Message()

    private static let messageBytes = 128
    private static let tag: Int32 = 0x4842

    /// Collective over `world`. Nil with one rank or when threads may not call MPI concurrently.
    /// `position` gives this rank's step and phase for each beat.
    public static func start(world: Communicator, position: @escaping @Sendable () -> (step: Int, phase: String)) throws(MPIError) -> Heartbeats? {
        guard world.size > 1, MPIRuntime.threadsMayCallConcurrently else { return nil }
        let heartbeats = Heartbeats(communicator: try world.duplicate(), hosts: try world.allGather(string: MPIRuntime.processorName))
        let thread = Thread { [heartbeats] in heartbeats.run(position) }
        thread.name = "heartbeats"
        thread.start()
        return heartbeats
    }

    private init(communicator: Communicator, hosts: [String]) {
        (self.communicator, self.hosts) = (communicator, hosts)
        peers = communicator.rank == 0 ? Array(1..<communicator.size) : [0]
        outgoing = peers.map { _ in Message() }
    }

    private func run(_ position: () -> (step: Int, phase: String)) {
        while !lock.withLock({ closing }) {
            let (step, phase) = position()
            beat(step: step, phase: phase)
            _ = wake.wait(timeout: .now() + 1)
        }
        for message in outgoing + [incoming] { message.cancel() }
        closed.signal()
    }

    /// Collects what arrived and tells the peers this rank is at `step`, doing `phase`. Never
    /// blocks: a beat that cannot leave yet (its peer unreachable) is skipped.
    private func beat(step: Int, phase: String) {
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
            if peers.contains(rank) { lock.withLock { sightings[rank] = Sighting(time: Watchdog.now(), step: step, phase: phase) } }
        }
    }

    /// The peers not heard from for longer than `seconds`, each with where it last was.
    public func silentPeers(longerThan seconds: Double) -> [(rank: Int, sighting: Sighting?)] {
        let now = Watchdog.now()
        guard now - started > seconds else { return [] }
        let sightings = lock.withLock { self.sightings }
        return peers.compactMap { rank in
            guard let sighting = sightings[rank] else { return (rank, nil) }
            return now - sighting.time > seconds ? (rank, sighting) : nil
        }
    }

    /// A sentence naming the silent peers, or nil when every peer was heard from recently.
    public func describeSilentPeers(longerThan seconds: Double) -> String? {
        let silent = silentPeers(longerThan: seconds)
        guard !silent.isEmpty else { return nil }
        let now = Watchdog.now()
        let each = silent.map { rank, sighting in
            let last = sighting.map { "last heard \(Int((now - $0.time).rounded())) s ago at step \($0.step), \($0.phase)" }
            return "rank \(rank) (host \(hosts[rank])): \(last ?? "never heard from")"
        }
        let ended = lock.withLock { closing } ? " (heartbeats end before MPI_Finalize)" : ""
        return "rank \(communicator.rank) has not heard from \(silent.count == 1 ? "1 rank" : "\(silent.count) ranks")\(ended): "
            + each.joined(separator: "; ")
    }

    /// Stops the beats and cancels the messages in flight, before MPI is finalized. Waits for the
    /// thread at most `seconds`: one held inside MPI is left behind, and the finalize's own
    /// deadline covers what follows.
    public func close(waiting seconds: Double = 3) {
        lock.withLock { closing = true }
        wake.signal()
        _ = closed.wait(timeout: .now() + seconds)
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
