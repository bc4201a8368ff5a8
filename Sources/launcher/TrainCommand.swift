import Checkpoints
import ArgumentParser
import Distributed
import Evaluation
import Foundation
import Models
import Training

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a GAN with alternating updates of data-parallel generator and discriminator replicas.",
        discussion: """
            Run it directly for one process, with --processes N for N processes on this machine, or under \
            mpirun for a cluster. --batch-size is the global batch, split over the ranks as evenly as whole \
            packs allow and weighted by share, so 1 and N ranks with the same flags train the same model.

            Presets: dcgan28 trains on Fashion-MNIST (Debian's dataset-fashion-mnist; or any IDX or HDF5 \
            image file via --data); grid2d and ring2d train on PacGAN's 2-D mixtures, generated from --seed. \
            alphagan28 adds an encoder and a code discriminator to dcgan28's networks (Alpha-GAN, with an \
            L1 reconstruction term weighted by --recon-weight). completion28 learns to draw the bottom \
            half of an image from its top half, with the --loss you choose: l2, l1, adversarial (a \
            conditional discriminator) or l1+adversarial (docs/learned-loss.md compares them).

            Options come from the preset's defaults, then --config FILE.yaml (the same names, without \
            dashes: `batch-size: 128`), then the flags. The run directory gets checkpoint-<step>.h5 files, \
            samples-<step>.png grids, metrics.jsonl and a TensorBoard event file (`tensorboard --logdir \
            checkpoints`); with --eval-every N, also evaluations.jsonl and best.h5, the checkpoint with the \
            best evaluation so far. `launcher report RUN_DIR` draws all of it on one HTML page. --resume auto \
            continues from the newest valid checkpoint of --run-dir, exactly as if the run had not stopped.

              launcher train --preset grid2d --steps 2000 --processes 2
              launcher train --preset dcgan28 --steps 500 --run-dir checkpoints/first
              launcher train --preset completion28 --loss l2 --steps 2000 --processes 2
              launcher train --preset dcgan28 --steps 3000 --eval-every 500 --processes 2
              launcher train --resume auto --run-dir checkpoints/first --steps 1000
              mpirun -np 8 --hostfile hosts launcher train --config run.yaml

            TRAINING OPTIONS (also the keys of a --config file; the preset sets their defaults):
            """ + "\n" + trainingOptionsHelp
    )

    /// Each training option's flag, value and help, from its one declaration, in ArgumentParser's
    /// layout: wrapped here within its 80 columns, which it would otherwise wrap without indenting.
    private static var trainingOptionsHelp: String {
        let indent = 26, width = 76
        return TrainingOption.all.map { option in
            let flag = "  --\(option.key) <\(option.valueName)>"
            var lines = [flag.count < indent ? flag + String(repeating: " ", count: indent - flag.count) : flag]
            if flag.count >= indent { lines.append(String(repeating: " ", count: indent)) }
            let words = (option.help + (option.changeableOnResume ? " May change on --resume." : "")).split(separator: " ")
            for word in words {
                if lines[lines.count - 1].count + word.count + 1 > width { lines.append(String(repeating: " ", count: indent)) }
                let last = lines[lines.count - 1]
                lines[lines.count - 1] = last + (last.count > indent ? " " : "") + word
            }
            return lines.joined(separator: "\n")
        }.joined(separator: "\n")
    }

    @Option(help: ArgumentHelp("A YAML file of options; flags override it.", valueName: "file.yaml"))
    var config: String?

    /// The training options (`TrainingOption.all`), listed in the discussion above.
    @Argument(parsing: .allUnrecognized, help: ArgumentHelp("Training options, as listed above: --key value or --key=value.",
                                                            valueName: "training-option"))
    var trainingArguments: [String] = []

    @Option(help: ArgumentHelp("Continue from a checkpoint file, or `auto` for the newest valid one in --run-dir.", valueName: "path|auto"))
    var resume: String?

    @Option(help: "Start N processes on this machine under mpirun (without mpirun only).")
    var processes: Int?

    @Option(help: ArgumentHelp("Supervise the job: when it fails (a rank killed, a stall, a node lost), start it again from the newest valid checkpoint in --run-dir, up to K times (without mpirun only).", valueName: "K"))
    var maxRestarts: Int?

    @Option(help: "Threads per rank for OpenBLAS and oneDNN (default: the node's cores divided by its ranks, at least 1).")
    var threads: Int?

    func validate() throws {
        if let processes, processes < 1 { throw ValidationError("--processes must be at least 1, got \(processes)") }
        if let maxRestarts, maxRestarts < 0 { throw ValidationError("--max-restarts must be at least 0, got \(maxRestarts)") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
        // An unknown flag is a usage error, told once before any rank starts MPI.
        do { _ = try flags } catch let error as ConfigurationError { throw ValidationError(error.description) }
    }

    func run() throws {
        if let maxRestarts {
            guard MPIRuntime.launchRank == nil else {
                throw ValidationError("--max-restarts supervises a job it starts itself; under mpirun, restart the job from your batch script "
                                      + "with --resume auto (cluster/slurm.sbatch does)")
            }
            let options = try (config.map(TrainingOptions.load(yamlFile:)) ?? TrainingOptions()).overridden(by: flags)
            guard let runDirectory = options["run-dir"] else {
                throw ValidationError("--max-restarts needs --run-dir (or run-dir in the YAML file): the directory it restarts from")
            }
            let job = launcherCommand(removing: ["--max-restarts", "--resume", "--processes"])
            let command = (processes ?? 1) > 1 ? mpirunCommand(processes: processes!) + job : job
            let stallTimeout = options["stall-timeout"].flatMap(Double.init) ?? TrainingConfiguration.defaults(for: .dcgan28).stallTimeout
            let status = try Supervisor(command: command, runDirectory: runDirectory, maxRestarts: maxRestarts, stallTimeout: stallTimeout)
                .run(firstResume: resume)
            if status != 0 { throw ExitCode(status) }
            return
        }
        if let processes {
            guard MPIRuntime.launchRank == nil else {
                throw ValidationError("--processes starts its own mpirun; under mpirun the job already has its ranks (use mpirun -np)")
            }
            if processes > 1 { try relaunchUnderMPI(processes: processes) }
        }
        var request = Trainer.Request()
        request.resume = resume
        request.threads = threads
        let world = try MPIRuntime.world()
        world.endingJobOnError {
            // The node's cores shared among its ranks, unless --threads says otherwise.
            Kernels.threads = try threads ?? BLAS.defaultThreads(ranksOnNode: world.nodeLocal().size)
            let file = try config.map(TrainingOptions.load(yamlFile:)) ?? TrainingOptions()
            request.options = file.overridden(by: try flags)
            _ = try Trainer(world: world, request: request, evaluator: TrainingEvaluation()).run()
        }
    }

    /// The training options given as flags: `--key value` or `--key=value`.
    private var flags: TrainingOptions {
        get throws {
            var options = TrainingOptions()
            var arguments = trainingArguments[...]
            while let argument = arguments.popFirst() {
                guard argument.hasPrefix("--"), argument.count > 2 else {
                    throw ValidationError("unexpected argument '\(argument)': launcher train takes only options (see launcher train --help)")
                }
                let flag = argument.dropFirst(2)
                if let equals = flag.firstIndex(of: "=") {
                    try options.set(String(flag[..<equals]), String(flag[flag.index(after: equals)...]))
                } else {
                    guard let value = arguments.popFirst() else { throw ValidationError("--\(flag) needs a value") }
                    try options.set(String(flag), value)
                }
            }
            return options
        }
    }

    /// Replaces this process with `mpirun -np N` of itself, without --processes.
    private func relaunchUnderMPI(processes: Int) throws -> Never {
        let argv = mpirunCommand(processes: processes) + launcherCommand(removing: ["--processes"])
        let cArguments = argv.map { strdup($0) } + [nil]
        execvp("mpirun", cArguments)
        throw ValidationError("--processes: cannot start mpirun (\(String(cString: strerror(errno)))); is Open MPI installed (openmpi-bin)?")
    }

    /// `mpirun -np N`, root-safe and oversubscribed when N exceeds this machine's cores.
    private func mpirunCommand(processes: Int) -> [String] {
        var mpirun = ["mpirun", "-np", "\(processes)"]
        if getuid() == 0 { mpirun.append("--allow-run-as-root") }
        if processes > ProcessInfo.processInfo.activeProcessorCount { mpirun.append("--oversubscribe") }
        return mpirun
    }

    /// This launcher and its command line without the given options and their values.
    private func launcherCommand(removing options: [String]) -> [String] {
        var arguments = Array(CommandLine.arguments.dropFirst())
        for option in options {
            if let index = arguments.firstIndex(of: option) {
                arguments.removeSubrange(index...min(index + 1, arguments.count - 1))
            }
            arguments.removeAll { $0.hasPrefix(option + "=") }
        }
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return [executable] + arguments
    }
}

