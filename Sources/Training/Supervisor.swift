import Checkpoints
import Foundation

/// `launcher train --max-restarts K`: runs the training job as a child and, when it fails (a
/// rank killed, a watchdog fired, a node lost), starts it again from the newest valid checkpoint
/// of its run directory, up to K times. Resuming is bit-exact, so the result is the run that
/// would have finished without the failures.
public struct Supervisor {
    /// The job's command (`mpirun -np N launcher train ...`, or the launcher alone), without `--resume`.
    let command: [String]
    let runDirectory: String
    let maxRestarts: Int
    let say: (String) -> Void

    public init(command: [String], runDirectory: String, maxRestarts: Int, say: @escaping (String) -> Void = { print($0) }) {
        (self.command, self.runDirectory, self.maxRestarts, self.say) = (command, runDirectory, maxRestarts, say)
    }

    /// Runs the job until it succeeds or has failed `maxRestarts + 1` times; returns its last exit status.
    public func run(firstResume: String?) throws -> Int32 {
        var resume = firstResume
        var restarts = 0
        while true {
            let status = try runOnce(resume: resume)
            if status.code == 0 { return 0 }
            guard restarts < maxRestarts else {
                say("supervisor: the job failed (\(status.reason)) and --max-restarts \(maxRestarts) are used up; stopping")
                return status.code
            }
            guard let newest = RunDirectory(runDirectory).checkpoints().last else {
                say("supervisor: the job failed (\(status.reason)) before its first checkpoint in \(runDirectory); nothing to restart from")
                return status.code
            }
            restarts += 1
            say("supervisor: the job failed (\(status.reason)); restart \(restarts) of \(maxRestarts), with --resume auto "
                + "(newest checkpoint: \((newest.path as NSString).lastPathComponent))")
            resume = "auto"
        }
    }

    private func runOnce(resume: String?) throws -> (code: Int32, reason: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = command + (resume.map { ["--resume", $0] } ?? [])
        do { try process.run() } catch {
            throw ConfigurationError("--max-restarts: cannot start \(command[0]): \(error.localizedDescription)")
        }
        process.waitUntilExit()
        let code = process.terminationStatus
        switch process.terminationReason {
        case .uncaughtSignal: return (128 + code, "killed by signal \(code)")
        default: return (code, "exit status \(code)")
        }
    }
}
