/// Work that may legitimately outlast a rank's stall timeout as a whole (decoding a folder of
/// images, writing a checkpoint) says, as it goes, that it still moves, so that the watchdog the
/// launcher installs here (`Distributed.Watchdog`, a module this one does not see) does not take
/// it for a stall.
public enum LongWork {
    /// Called after each piece of the work; set once, at start-up, before any work runs.
    public nonisolated(unsafe) static var progressed: @Sendable () -> Void = {}
}
