import CMPI
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The MPI library's lifetime in this process: initialized once, finalized exactly once.
///
/// `MPIRuntime.world()` initializes MPI on first use and registers finalization at
/// process exit, so every path out of the program, a thrown error included,
/// finalizes. A program started without `mpirun` is a world of one.
public enum MPIRuntime {
    /// The world communicator, initializing MPI on first call.
    public static func world() throws(MPIError) -> Communicator {
        try initializeOnce()
        return Communicator(borrowing: MPI_COMM_WORLD)
    }

    /// The MPI library's own version text, for example "Open MPI v4.1.4, ...".
    public static var libraryVersion: String {
        var buffer = [CChar](repeating: 0, count: Int(MPI_MAX_LIBRARY_VERSION_STRING) + 1)
        var length: Int32 = 0
        guard MPI_Get_library_version(&buffer, &length) == MPI_SUCCESS else { return "unknown" }
        let text = String(decoding: buffer.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let firstLine = text.split(whereSeparator: \.isNewline).first.map(String.init) ?? text
        return firstLine.trimmingCharacters(in: .whitespaces)
    }

    /// The MPI standard version the library implements, as "major.minor".
    public static var standardVersion: String {
        var major: Int32 = 0, minor: Int32 = 0
        MPI_Get_version(&major, &minor)
        return "\(major).\(minor)"
    }

    /// This host's name as MPI reports it.
    public static var processorName: String {
        var buffer = [CChar](repeating: 0, count: Int(MPI_MAX_PROCESSOR_NAME) + 1)
        var length: Int32 = 0
        guard MPI_Get_processor_name(&buffer, &length) == MPI_SUCCESS else { return "unknown" }
        return String(decoding: buffer.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// This process's rank as the launcher (mpirun, srun) announced it, readable before MPI
    /// starts; nil outside a launcher.
    public static var launchRank: Int? {
        let environment = ProcessInfo.processInfo.environment
        return ["OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK", "SLURM_PROCID"].lazy.compactMap { environment[$0].flatMap(Int.init) }.first
    }

    /// How many ranks the launcher started on this node, readable before MPI starts; nil outside a launcher.
    public static var launchRanksOnNode: Int? {
        let environment = ProcessInfo.processInfo.environment
        return ["OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS", "SLURM_NTASKS_PER_NODE"].lazy
            .compactMap { environment[$0].flatMap(Int.init) }.first
    }

    /// Whether the library let several threads call it at once (`MPI_THREAD_MULTIPLE`); without
    /// it only the main thread may call MPI.
    public private(set) nonisolated(unsafe) static var threadsMayCallConcurrently = false

    /// Finalizes MPI if it is initialized and not yet finalized; safe to call more than once.
    public static func finalize() {
        var initialized: Int32 = 0, finalized: Int32 = 0
        MPI_Initialized(&initialized)
        MPI_Finalized(&finalized)
        guard initialized != 0 && finalized == 0 else { return }
        // The watchdog stays until MPI_Finalize returns: it waits for every rank, and a rank that
        // stopped would hold the others in it forever.
        Watchdog.process?.closeHeartbeats(entering: "finalizing MPI (MPI_Finalize waits for every rank)")
        MPI_Finalize()
        Watchdog.process?.stop()
    }

    private static func initializeOnce() throws(MPIError) {
        var initialized: Int32 = 0
        MPI_Initialized(&initialized)
        if initialized != 0 { return }
        if let rank = launchRank { _ = Watchdog.forThisProcess(rank: rank, host: hostName, timeout: Watchdog.defaultTimeout, launched: true) }
        Watchdog.process?.mark("starting MPI (MPI_Init)")
        var provided: Int32 = 0
        // The main thread runs the collectives; the watchdog's thread sends its heartbeats
        // while the main thread may be stuck inside one, which needs MULTIPLE.
        try check(MPI_Init_thread(nil, nil, Int32(MPI_THREAD_MULTIPLE), &provided), "MPI_Init_thread")
        threadsMayCallConcurrently = provided >= Int32(MPI_THREAD_MULTIPLE)
        // Without this a failed call aborts the job with no chance to report what failed.
        try check(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler")
        atexit { MPIRuntime.finalize() }
        if let watchdog = Watchdog.process {
            // From here to MPI_Finalize, a rank that goes silent is named by the others.
            watchdog.mark("starting the heartbeats")
            watchdog.attach(try Heartbeats.start(world: Communicator(borrowing: MPI_COMM_WORLD), position: watchdog.position))
            watchdog.mark("started")
        }
    }

    /// This host's name from the kernel, readable before MPI starts.
    private static var hostName: String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "unknown" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
