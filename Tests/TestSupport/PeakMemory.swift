import Foundation
import XCTest

/// How much this process's resident memory peaked above where it stood while `body` ran, in MB:
/// the kernel's high-water mark (VmHWM) is reset to the current size first (`/proc/self/clear_refs`).
public enum PeakMemory {
    public static func growth(during body: () throws -> Void) rethrows -> Double {
        let reset = FileManager.default.isWritableFile(atPath: "/proc/self/clear_refs")
            && (try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)) != nil
        let before = field(reset ? "VmRSS" : "VmHWM")
        try body()
        return max(0, field("VmHWM") - before)
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

    /// A "kB" field of /proc/self/status, in MB.
    private static func field(_ name: String) -> Double {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix(name + ":") }),
              let kilobytes = line.split(separator: " ").dropFirst().first.flatMap({ Double($0) }) else { return 0 }
        return kilobytes / 1024
    }
}
