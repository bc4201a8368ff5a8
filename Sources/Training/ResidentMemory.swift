import Foundation

/// This process's resident memory, from /proc/self/status (0 where there is none).
public enum ResidentMemory {
    /// The most it has held so far (VmHWM), in MB.
    public static var peakMegabytes: Double { statusField("VmHWM") }
    /// What it holds now (VmRSS), in MB.
    public static var megabytes: Double { statusField("VmRSS") }

    /// A "kB" field of /proc/self/status, in MB.
    private static func statusField(_ name: String) -> Double {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix(name + ":") }),
              let kilobytes = line.split(separator: " ").dropFirst().first.flatMap({ Double($0) }) else { return 0 }
        return kilobytes / 1024
    }
}
