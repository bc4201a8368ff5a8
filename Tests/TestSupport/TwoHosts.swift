import Foundation
import XCTest

/// Two hosts, nodea and nodeb, on this machine joined by a real network link: the tests' side
/// of scripts/two-hosts.sh. Made in `init`, removed by `remove()`, which tests call from a
/// teardown block so that a failing test removes them too.
public final class TwoHosts: Sendable {
    public static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("scripts/two-hosts.sh").path
    private let state: String

    /// Builds the hosts, or throws `XCTSkip` with the script's reason when this machine cannot
    /// (not root, no `ip netns`). `rate`: the link's speed for tc, for example "1gbit".
    public init(rate: String? = nil) throws {
        state = FileManager.default.temporaryDirectory.appendingPathComponent("two-hosts-\(UUID().uuidString.prefix(8))").path
        let result = try Self.script(["up", state] + (rate.map { ["--rate", $0] } ?? []))
        if result.status == 3 {
            let reason = "two-host tests skipped: \(result.standardError.trimmingCharacters(in: .whitespacesAndNewlines))"
            print(reason)
            throw XCTSkip(reason)
        }
        guard result.status == 0 else {
            _ = try? Self.script(["down", state])
            throw CocoaError(.executableLoad, userInfo: [NSLocalizedDescriptionKey: "two-hosts.sh up failed: \(result.combinedOutput)"])
        }
    }

    /// Runs `mpirun -np ranks product arguments` from nodea, two ranks a host, every message
    /// between the hosts over the link.
    public func mpirun(ranks: Int, _ product: String, _ arguments: [String], timeout: TimeInterval = 180) throws -> ProcessResult {
        let options = try String(contentsOfFile: "\(state)/mpirun-options", encoding: .utf8).split(whereSeparator: \.isWhitespace).map(String.init)
        let environment = ["OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1", "OMPI_MCA_rmaps_base_oversubscribe": "1"]
        let result = try Subprocess.run("/bin/bash", [Self.script, "run", state, "--", "mpirun"] + options
                                        + ["-np", "\(ranks)", try Subprocess.product(product)] + arguments,
                                        environment: environment, timeout: timeout)
        return ProcessResult(status: result.status, standardOutput: result.standardOutput,
                             standardError: Subprocess.withoutMPIRunNotices(result.standardError), timedOut: result.timedOut)
    }

    /// Takes the link down at both ends.
    public func cut() throws { _ = try Self.script(["cut", state]) }

    /// The processes still running on either host.
    public func processes() throws -> [pid_t] {
        try Self.script(["pids", state]).standardOutput.split(whereSeparator: \.isNewline).compactMap { pid_t($0) }
    }

    /// Kills what still runs on the hosts and removes them and the link.
    public func remove() { _ = try? Self.script(["down", state]) }

    private static func script(_ arguments: [String]) throws -> ProcessResult {
        try Subprocess.run("/bin/bash", [script] + arguments, timeout: 60)
    }
}
