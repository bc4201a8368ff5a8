import ArgumentParser
import Distributed

/// `--stall-timeout` for the commands besides `train` that run under mpirun (`doctor`,
/// `evaluate`): how long a rank may make no progress before it ends itself, so a stopped or
/// unreachable rank never holds the others in a collective.
struct StallTimeoutOption: ParsableArguments {
    @Option(name: .customLong("stall-timeout"),
            help: ArgumentHelp("Seconds a rank may make no progress, waiting in MPI included, before it ends the job naming where it was.",
                               valueName: "seconds"))
    var seconds: Double = Watchdog.defaultTimeout

    func validate() throws {
        guard seconds.isFinite, seconds > 0 else { throw ValidationError("--stall-timeout must be a finite number of seconds above 0, got \(seconds)") }
    }

    /// Sets the rank's watchdog, which MPI's start began with the default.
    func apply() { Watchdog.process?.setTimeout(seconds) }
}
