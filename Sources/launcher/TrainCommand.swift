import ArgumentParser
import Distributed
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
            samples-<step>.png grids and metrics.jsonl. --resume auto continues from the newest valid \
            checkpoint of --run-dir, exactly as if the run had not stopped.

              launcher train --preset grid2d --steps 2000 --processes 2
              launcher train --preset dcgan28 --steps 500 --run-dir checkpoints/first
              launcher train --preset completion28 --loss l2 --steps 2000 --processes 2
              launcher train --resume auto --run-dir checkpoints/first --steps 1000
              mpirun -np 8 --hostfile hosts launcher train --config run.yaml
            """
    )

    @Option(help: "Networks and data: \(Preset.allCases.map(\.rawValue).joined(separator: ", ")) (default dcgan28).")
    var preset: Preset?

    @Option(help: ArgumentHelp("A YAML file of options; flags override it.", valueName: "file.yaml"))
    var config: String?

    @Option(help: ArgumentHelp("Image data for the image presets: IDX (gzipped or not) or HDF5 [N, H, W] / [N, C, H, W].", valueName: "path"))
    var data: String?

    @Option(help: "Generator updates to train to (on resume: the total to continue up to).")
    var steps: Int?

    @Option(help: "The global batch, split over the ranks in whole packs.")
    var batchSize: Int?

    @Option(help: "Adversarial objective: \(AdversarialObjective.allCases.map(\.rawValue).joined(separator: ", ")).")
    var objective: AdversarialObjective?

    @Option(name: .customLong("d-steps"), help: "Discriminator updates per generator update.")
    var discriminatorSteps: Int?

    @Option(name: .customLong("lr-g"), help: "Generator learning rate (Adam).")
    var generatorLearningRate: Float?

    @Option(name: .customLong("lr-d"), help: "Discriminator learning rate (Adam).")
    var discriminatorLearningRate: Float?

    @Option(help: "Adam's beta1.")
    var beta1: Float?

    @Option(help: "Adam's beta2.")
    var beta2: Float?

    @Option(help: "Seed of every random choice: initial weights, data order, noise.")
    var seed: UInt64?

    @Option(name: .customLong("run-dir"), help: ArgumentHelp("Where checkpoints, samples and metrics go (default checkpoints/<preset>-<date>-<time>).", valueName: "dir"))
    var runDirectory: String?

    @Option(help: "Write a checkpoint every N steps (and at the end).")
    var checkpointEvery: Int?

    @Option(help: "Keep the newest K checkpoints.")
    var keep: Int?

    @Option(help: "Write a sample grid every N steps (and at the end).")
    var sampleEvery: Int?

    @Option(help: "Seconds a rank may wait for the others at a step before the job is reported stalled and ended.")
    var stallTimeout: Double?

    @Option(help: "Samples the discriminator judges at once (PacGAN packing; default 1).")
    var pack: Int?

    @Option(name: .customLong("lr-decay"), help: "Learning-rate schedule: none, or linear (both rates fall towards 0 at --steps).")
    var learningRateDecay: LearningRateDecay?

    @Option(help: "completion28's loss: l2, l1, adversarial, l1+adversarial (default l1+adversarial).")
    var loss: CompletionLoss?

    @Option(name: .customLong("recon-weight"), help: ArgumentHelp("Weight of the L1 term: alphagan28's λ on the per-pixel mean (default 784: λ = 1 on the pixel sum of Algorithm 1); completion28's with l1+adversarial (default 100).", valueName: "weight"))
    var reconstructionWeight: Float?

    @Option(name: .customLong("r1"), help: ArgumentHelp("γ of the R1 penalty, γ/2 · mean ‖∇D(x)‖² over the real batch, added to D's loss (Mescheder et al. 2018); grid2d and ring2d only (default 1 there).", valueName: "gamma"))
    var r1: Float?

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
    }

    func run() throws {
        if let maxRestarts {
            guard MPIRuntime.launchRank == nil else {
                throw ValidationError("--max-restarts supervises a job it starts itself; under mpirun, restart the job from your batch script "
                                      + "with --resume auto (cluster/slurm.sbatch does)")
            }
            let options = try (config.map(TrainingOptions.load(yamlFile:)) ?? TrainingOptions()).overridden(by: flags)
            guard let runDirectory = options.runDirectory else {
                throw ValidationError("--max-restarts needs --run-dir (or run-dir in the YAML file): the directory it restarts from")
            }
            let job = launcherCommand(removing: ["--max-restarts", "--resume", "--processes"])
            let command = (processes ?? 1) > 1 ? mpirunCommand(processes: processes!) + job : job
            let status = try Supervisor(command: command, runDirectory: runDirectory, maxRestarts: maxRestarts).run(firstResume: resume)
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
        let world = try MPIRuntime.world()
        world.endingJobOnError {
            // The node's cores shared among its ranks, unless --threads says otherwise.
            Kernels.threads = try threads ?? BLAS.defaultThreads(ranksOnNode: world.nodeLocal().size)
            let file = try config.map(TrainingOptions.load(yamlFile:)) ?? TrainingOptions()
            request.options = try file.overridden(by: flags)
            _ = try Trainer(world: world, request: request).run()
        }
    }

    private var flags: TrainingOptions {
        var options = TrainingOptions()
        options.preset = preset
        options.data = data
        options.steps = steps
        options.batchSize = batchSize
        options.objective = objective
        options.discriminatorSteps = discriminatorSteps
        options.generatorLearningRate = generatorLearningRate
        options.discriminatorLearningRate = discriminatorLearningRate
        options.beta1 = beta1
        options.beta2 = beta2
        options.seed = seed
        options.runDirectory = runDirectory
        options.checkpointEvery = checkpointEvery
        options.keep = keep
        options.sampleEvery = sampleEvery
        options.stallTimeout = stallTimeout
        options.pack = pack
        options.learningRateDecay = learningRateDecay
        options.loss = loss
        options.reconstructionWeight = reconstructionWeight
        options.r1 = r1
        return options
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

extension AdversarialObjective: ExpressibleByArgument {}
extension LearningRateDecay: ExpressibleByArgument {}
extension CompletionLoss: ExpressibleByArgument {}
