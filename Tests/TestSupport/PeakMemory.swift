import Foundation
import XCTest

/// How much this process's resident memory peaked above where it stood while `body` ran, in MB.
///
/// A thread samples the resident size (VmRSS) every millisecond while `body` runs: the kernel's
/// own high-water mark (VmHWM, reset through `/proc/self/clear_refs`) proved unreliable here, as
/// it missed a 64 MB array freed before it was read in one run of the suite in two. An allocation
/// that lives less than a millisecond can be missed; the memory the hostile-file tests guard
/// against (a file's claimed size, up to gigabytes) takes far longer to fill.
public enum PeakMemory {
    public static func growth(during body: () throws -> Void) rethrows -> Double {
        let before = residentMegabytes()
        let sampler = Sampler()
        let thread = Thread { sampler.run() }
        thread.start()
        defer { sampler.stop() }
        try body()
        sampler.stop()
        return max(0, max(sampler.peak, residentMegabytes()) - before)
    }

    /// Asserts `body` throws an error `check` accepts and peaks at most `limit` MB above the start;
    /// the peak is in every message.
    public static func assertRefused(within limit: Double, _ what: String, file: StaticString = #filePath, line: UInt = #line,
                                     _ body: () throws -> Void, _ check: (Error) -> Void) {
        var thrown: Error?
        let megabytes = growth { do { try body() } catch { thrown = error } }
        guard let thrown else { return XCTFail("\(what) was accepted (peak +\(Int(megabytes)) MB)", file: file, line: line) }
        check(thrown)
        XCTAssertLessThanOrEqual(megabytes, limit, "\(what): refused at a peak of +\(Int(megabytes.rounded())) MB resident, more than \(Int(limit))",
                                 file: file, line: line)
        print("\(what): refused at a peak of +\(String(format: "%.1f", megabytes)) MB resident")
    }

    /// VmRSS from /proc/self/status, in MB.
    static func residentMegabytes() -> Double {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
              let kilobytes = line.split(separator: " ").dropFirst().first.flatMap({ Double($0) }) else { return 0 }
        return kilobytes / 1024
    }

    /// The sampling thread's state: the highest VmRSS seen, until stopped.
    private final class Sampler: @unchecked Sendable {
        private let lock = NSLock()
        private var highest = 0.0, stopped = false
        private let finished = DispatchSemaphore(value: 0)

        var peak: Double { lock.withLock { highest } }

        func run() {
            while !lock.withLock({ stopped }) {
                let now = PeakMemory.residentMegabytes()
                lock.withLock { highest = max(highest, now) }
                usleep(1000)
            }
            finished.signal()
        }

        func stop() {
            let first = lock.withLock { () -> Bool in
                defer { stopped = true }
                return !stopped
            }
            if first { finished.wait() }
        }
    }
}
