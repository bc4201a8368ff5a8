import Checkpoints
import Datasets
import Distributed
import Foundation
import Models

/// `launcher train`: alternating adversarial updates of data-parallel G and D replicas.
///
/// Every rank runs this with the same arguments. Rank 0 resolves the configuration and reads a
/// checkpoint, then shares both; every rank takes its slice of each global batch and its slice
/// of each step's latent noise, which are functions of (seed, step) alone, so any number of
/// ranks trains the same model. Rank 0 alone writes checkpoints, samples and logs.
public final class Trainer {
    /// How the run is asked for: the options given (flags over a YAML file) and where to resume.
    public struct Request {
        public var options = TrainingOptions()
        /// "auto" for the newest valid checkpoint of the run directory, or a checkpoint path.
        public var resume: String?
        /// The threads per rank asked for (`--threads`), if any: `--exact` runs one.
        public var threads: Int?
        public init() {}
    }

    /// Where a finished run left its results.
    public struct Summary {
        public let configuration: TrainingConfiguration
        public let step: Int
        public let checkpoint: String
        public let samples: String
    }

    let world: Communicator
    let request: Request
    let evaluator: TrainingEvaluator?
    let say: (String) -> Void

    /// - Parameters:
    ///   - evaluator: what measures the generator for `--eval-every`; a run that asks for
    ///     evaluations without one is refused.
    ///   - say: receives rank 0's messages (progress, where results are).
    public init(world: Communicator, request: Request, evaluator: TrainingEvaluator? = nil, say: @escaping (String) -> Void = { print($0) }) {
        self.world = world
        self.request = request
        self.evaluator = evaluator
        self.say = { message in if world.rank == 0 { say(message) } }
    }

    public func run() throws -> Summary {
        // A rank under a launcher has been watched since MPI_Init; one started alone is watched from here.
        let (watchdog, started) = Watchdog.forThisProcess(rank: world.rank, host: MPIRuntime.processorName,
                                                          timeout: Watchdog.defaultTimeout, launched: false)
        defer { if started { watchdog.stop() } }
        // The flags are the same on every rank, so each knows the timeout before rank 0 has read the checkpoint.
        if let seconds = request.options["stall-timeout"].flatMap(Double.init), seconds.isFinite, seconds > 0 { watchdog.setTimeout(seconds) }
        watchdog.mark(world.rank == 0 ? "reading the checkpoint and the configuration" : "waiting for rank 0 to read the checkpoint")
        // Rank 0 opens (and so verifies) the checkpoint once, and reads everything from that.
        let (resumeFrom, checkpoint) = try resolveCheckpoint()
        var configuration = try TrainingConfiguration.fromJSON(world.onRoot { try resolveConfiguration(checkpoint) })
        watchdog.setTimeout(configuration.stallTimeout)
        if configuration.isExact {
            if let threads = request.threads, threads > 1 {
                throw ConfigurationError("--threads \(threads) cannot go with --exact: a kernel's sums over threads depend on their count, "
                                         + "so each rank runs one; start more ranks to use more cores")
            }
            Kernels.threads = 1
        }

        // Before anything slow, so that a second job in this directory is refused at once.
        let directory = RunDirectory(configuration.runDirectory)
        var lock: RunLock?
        _ = try world.onRoot {
            try directory.create()
            lock = try RunLock(directory, host: MPIRuntime.processorName)
            if resumeFrom == nil, let newest = directory.checkpoints().last {
                throw ConfigurationError("--run-dir \(directory.path) already holds checkpoints of a run (newest \(newest.path)): "
                                         + "continue it with --resume auto, or give this run an empty --run-dir")
            }
            return ""
        }
        defer { withExtendedLifetime(lock) {} }

        watchdog.mark("loading the data set")
        let dataset = try world.agree { try Self.loadDataset(&configuration, say: say) }
        // Read once, on rank 0, which alone writes and checks it.
        let fingerprint = try world.onRoot { try dataset.fingerprint() }

        let evaluationsWanted = (configuration.evalEvery ?? 0) > 0
        if evaluationsWanted {
            guard let evaluator else { throw ConfigurationError("--eval-every: this trainer was started without an evaluator") }
            watchdog.mark("preparing the evaluations")
            try evaluator.prepare(for: configuration, world: world)
        }
        let split = try configuration.preset.batchSplit(configuration, ranks: world.size)
        let setup = try Setup(configuration: configuration, world: world, split: split, dataset: dataset)
        setup.parallel.watchdog = watchdog
        watchdog.mark("setting up the networks")
        var sampler = try world.agree {
            try EpochSampler(seed: configuration.seed, datasetCount: dataset.count, globalBatch: configuration.batchSize)
        }
        var step = 0
        if resumeFrom != nil {
            watchdog.mark(world.rank == 0 ? "restoring the checkpoint" : "waiting for rank 0 to restore the checkpoint")
            let position = try restore(from: checkpoint, into: setup, fingerprint: fingerprint)
            step = position.step
            sampler = try EpochSampler(seed: configuration.seed, datasetCount: dataset.count, globalBatch: configuration.batchSize,
                                       epoch: position.epoch, position: position.position)
        }
        watchdog.mark("waiting in the broadcast of the weights")
        try setup.parallel.broadcastFromRoot(setup.players, networks: setup.average.map { [$0.network] } ?? [])
        watchdog.mark("opening the logs")

        let log = try world.agree {
            try ProgressLog(directory: world.rank == 0 ? directory : nil, tensorboard: configuration.tensorboard ?? true, firstStep: step, print: say)
        }
        // Rank 0 alone decides and writes best.h5; a resumed run competes with the best it left.
        var best = world.rank == 0 && step > 0 ? previousBest(in: directory) : nil
        if step == 0 {
            say("training \(configuration.preset.rawValue) on \(dataset.source) (\(dataset.count) samples) for \(configuration.steps) steps, "
                + "batch \(configuration.batchSize) over \(world.size) rank\(world.size == 1 ? "" : "s"), \(Kernels.threads) thread\(Kernels.threads == 1 ? "" : "s") each; run directory \(directory.path)")
        }

        var lastCheckpoint = resumeFrom ?? ""
        var lastSamples = ""
        var trainingSeconds = 0.0, checkpointSeconds = 0.0, checkInSeconds = 0.0
        var evaluationSeconds: [Double] = []
        let firstStep = step, runStarted = DispatchTime.now()
        while step < configuration.steps {
            let checkInStarted = DispatchTime.now()
            watchdog.mark(step: step + 1, "waiting for the other ranks at the start of the step")
            try world.checkIn("step \(step + 1)", timeout: configuration.stallTimeout)
            watchdog.mark("computing")
            let factor = configuration.learningRateFactor(step: step)
            for player in setup.players { player.optimizer.learningRate = player.learningRate * factor }
            let started = DispatchTime.now()
            checkInSeconds += Double(started.uptimeNanoseconds - checkInStarted.uptimeNanoseconds) / 1e9
            let metrics = try trainStep(step, setup: setup, dataset: dataset, sampler: &sampler)
            step += 1
            if let average = setup.average {
                let (generator, averagedStep) = (setup.generator, step)
                setup.algorithm.runner.whenSettled { average.update(from: generator, step: averagedStep) }
            }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e9
            trainingSeconds += seconds
            for (_, _, _, name, value) in metrics.present where !value.isFinite {
                throw JobFailure("step \(step): \(name) is \(value.isNaN ? "NaN" : "infinite"); stopping. "
                                 + (lastCheckpoint.isEmpty ? "No checkpoint was written yet." : "The last good checkpoint is \(lastCheckpoint)."))
            }
            try log.record(step: step, of: configuration.steps, metrics: metrics,
                           imagesPerSecond: Double(configuration.batchSize * configuration.discriminatorSteps) / seconds,
                           learningRates: (configuration.generatorLearningRate * factor, configuration.discriminatorLearningRate * factor))

            let evaluationDue = evaluationsWanted && (step % configuration.evalEvery! == 0 || step == configuration.steps)
            if evaluationDue || configuration.outputsDue(after: step) {
                watchdog.mark("landing the step's last updates")
                try setup.algorithm.runner.settle()
            }
            var newBest: BestCheckpoint?
            if evaluationDue {
                watchdog.mark("evaluating the generator")
                let evaluating = DispatchTime.now()
                let subject = setup.evaluationSubject(step: step, samples: setup.evaluationSamples, runDirectory: directory.path)
                let scores = try evaluator!.evaluate(subject, world: world)
                setup.restoreTraining(after: subject)
                evaluationSeconds.append(Double(DispatchTime.now().uptimeNanoseconds - evaluating.uptimeNanoseconds) / 1e9)
                let isBest = scores.best.isBetter(than: best)
                if isBest { (best, newBest) = (scores.best, scores.best) }
                try log.recordEvaluation(scores, step: step, seconds: evaluationSeconds.last!, isBest: isBest)
            }

            if world.rank == 0 {
                watchdog.mark("writing the checkpoint and samples")
                let saved: (samples: String?, checkpoint: String?, seconds: Double)
                do {
                    saved = try saveOutputs(step: step, setup: setup, sampler: sampler, directory: directory, log: log, best: newBest,
                                            fingerprint: fingerprint)
                } catch {
                    throw CheckpointError("\(error); " + (lastCheckpoint.isEmpty ? "no checkpoint was written yet"
                                                          : "the last good checkpoint is \(lastCheckpoint)"))
                }
                lastSamples = saved.samples ?? lastSamples
                if let checkpoint = saved.checkpoint { (lastCheckpoint, checkpointSeconds) = (checkpoint, saved.seconds) }
            }
        }
        watchdog.mark("reporting the run's figures")
        if step > firstStep {
            try reportTiming(steps: step - firstStep, trainingSeconds: trainingSeconds, checkInSeconds: checkInSeconds, setup: setup,
                             checkpoint: lastCheckpoint, checkpointSeconds: checkpointSeconds, evaluationSeconds: evaluationSeconds,
                             runSeconds: Double(DispatchTime.now().uptimeNanoseconds - runStarted.uptimeNanoseconds) / 1e9)
            if let best { say("best evaluation: \(best.metric) \(String(format: "%.4g", best.value)) at step \(best.step), kept as \(directory.bestPath)") }
        }
        say("done: step \(step); checkpoint \(lastCheckpoint); samples \(lastSamples.isEmpty ? "(none this run)" : lastSamples)")
        return Summary(configuration: configuration, step: step, checkpoint: lastCheckpoint, samples: lastSamples)
    }

    /// Rank 0's closing figures: step time and rate, communication against a bare all-reduce, the
    /// stall check's cost, the last checkpoint's size and write time, and the ranks' peak resident
    /// memory. The bare all-reduce and the peak are collective.
    private func reportTiming(steps count: Int, trainingSeconds: Double, checkInSeconds: Double, setup: Setup,
                              checkpoint lastCheckpoint: String, checkpointSeconds: Double, evaluationSeconds: [Double], runSeconds: Double) throws {
        let configuration = setup.configuration
        let steps = Double(count)
        var timing = String(format: "%.1f ms per step, %.0f images/s", trainingSeconds / steps * 1000,
                            Double(configuration.batchSize * configuration.discriminatorSteps) * steps / trainingSeconds)
        if world.size > 1 {
            let megabytes = Double(setup.parallel.allReduceSizes.reduce(0, +)) / 1e6
            let raw = try setup.parallel.rawAllReduceSeconds()
            // The step's figure includes waiting for the slowest rank; the bare one is the wire alone.
            let buckets = setup.parallel.bucketMegabytes > 0
                ? String(format: "in %g MiB buckets sent while the step computes", setup.parallel.bucketMegabytes)
                : "in one message after the backward pass"
            // Waited-for time is what the step pays; the rest of the transfer hid behind compute.
            timing += String(format: "; gradient all-reduce (%@) waited for %.2f ms per step (%.1f%%); bare MPI_Allreduce of the same %.1f MB: %.2f ms",
                             buckets, setup.parallel.allReduceSeconds / steps * 1000, 100 * setup.parallel.allReduceSeconds / trainingSeconds,
                             megabytes, raw * 1000)
            // The check-in also absorbs the ranks' different arrival times, so this is an upper bound.
            timing += String(format: "; stall check-in %.3f ms per step (%.2f%%)", checkInSeconds / steps * 1000,
                             100 * checkInSeconds / (trainingSeconds + checkInSeconds))
        }
        if checkpointSeconds > 0, let size = try? FileManager.default.attributesOfItem(atPath: lastCheckpoint)[.size] as? Int {
            timing += String(format: "; last checkpoint %.1f MB written in %.0f ms", Double(size) / 1e6, checkpointSeconds * 1000)
        }
        if !evaluationSeconds.isEmpty {
            let total = evaluationSeconds.reduce(0, +)
            timing += String(format: "; %d evaluation%@ of %d samples, %.1f s each, %.1f%% of the run", evaluationSeconds.count,
                             evaluationSeconds.count == 1 ? "" : "s", setup.evaluationSamples, total / Double(evaluationSeconds.count), 100 * total / runSeconds)
        }
        var peak = [ResidentMemory.peakMegabytes]
        try world.allReduce(&peak, op: .max)
        timing += String(format: "; peak resident memory %.0f MB (the largest rank's)", peak[0])
        say(timing)
    }

    /// Where a resumed run picks up.
    struct ResumePoint: Codable {
        let step: Int, epoch: Int, position: Int
    }

    /// Rank 0 loads the networks and optimizers of `setup` from the checkpoint (the others receive
    /// them by broadcast afterwards); every rank learns where to continue.
    private func restore(from checkpoint: CheckpointFile?, into setup: Setup, fingerprint: String) throws -> ResumePoint {
        try world.valueFromRoot {
            guard let checkpoint else { preconditionFailure("rank 0 opened the checkpoint it resumes from") }
            if let trained = try checkpoint.dataFingerprint(), trained != fingerprint, setup.configuration.dataChangedOK != true {
                throw ConfigurationError("--resume \(checkpoint.path): the data set is not the one the run trained on: it trained on \(trained), "
                                         + "\(setup.configuration.data ?? "the data") now holds \(fingerprint); "
                                         + "pass --data-changed-ok true if the change is meant")
            }
            for player in setup.players {
                try checkpoint.restore(player.network, from: player.name)
                try checkpoint.restore(player.optimizer, of: player.network, from: player.name)
            }
            if let average = setup.average {
                // A checkpoint from before the average starts it at the generator it resumes.
                if checkpoint.holds(CheckpointFormat.generatorAverage) {
                    try checkpoint.restore(average.network, from: CheckpointFormat.generatorAverage)
                } else {
                    average.copy(from: setup.generator)
                }
            }
            let (epoch, position) = try checkpoint.samplerPosition()
            var notes: [String] = []
            if checkpoint.worldSize != world.size {
                notes.append("written by \(checkpoint.worldSize) rank\(checkpoint.worldSize == 1 ? "" : "s"), continuing on \(world.size)")
            }
            if checkpoint.threadsPerRank != Kernels.threads {
                notes.append("written with \(checkpoint.threadsPerRank) thread\(checkpoint.threadsPerRank == 1 ? "" : "s") per rank, continuing with \(Kernels.threads)")
            }
            // Sums split differently over ranks or kernel threads round differently, unless --exact fixes their order.
            let promise = setup.configuration.isExact ? "bit for bit the same run (--exact)" : "the same model, not bit for bit the same run"
            let exactness = notes.isEmpty ? "" : " (\(notes.joined(separator: "; ")): \(promise))"
            say("resuming from \(checkpoint.path) at step \(checkpoint.step)\(exactness)")
            let (stored, resumed) = (checkpoint.configuration, setup.configuration)
            if resumed.learningRateDecay == .linear, stored.steps != resumed.steps {
                func percent(_ configuration: TrainingConfiguration) -> Int {
                    Int((configuration.learningRateFactor(step: checkpoint.step) * 100).rounded())
                }
                say("note: --lr-decay linear falls towards --steps, now \(resumed.steps) instead of \(stored.steps): "
                    + "the rates go on at \(percent(resumed))% of their start, not \(percent(stored))%")
            }
            return ResumePoint(step: checkpoint.step, epoch: epoch, position: position)
        }
    }

    /// One iteration of the preset's algorithm, each real batch this rank's slice of the next global
    /// batch; returns the metrics averaged over the ranks.
    private func trainStep(_ step: Int, setup: Setup, dataset: Dataset, sampler: inout EpochSampler) throws -> StepMetrics {
        let rows = setup.split.rows(of: world.rank)
        let metrics = try setup.algorithm.iterate(nextBatch: { try dataset.batch(sampler.next(rows: rows)) },
                                                  noise: { setup.latent($0, step: step, substep: $1) })
        return try average(metrics, weight: setup.split.lossScale(of: world.rank), parallel: setup.parallel)
    }

    /// On rank 0, after `step`: the sample grid and the checkpoint when they are due (and at the
    /// end), and best.h5 when this step's evaluation was the best so far.
    private func saveOutputs(step: Int, setup: Setup, sampler: EpochSampler, directory: RunDirectory, log: ProgressLog,
                             best: BestCheckpoint?, fingerprint: String) throws -> (samples: String?, checkpoint: String?, seconds: Double) {
        let configuration = setup.configuration
        guard configuration.outputsDue(after: step) || best != nil else { return (nil, nil, 0) }
        let final = step == configuration.steps
        let samplesDue = final || step % configuration.sampleEvery == 0, checkpointDue = final || step % configuration.checkpointEvery == 0
        let grid = setup.sampleGrid()
        var saved: (samples: String?, checkpoint: String?, seconds: Double) = (nil, nil, 0)
        if samplesDue {
            saved.samples = directory.samplesPath(step: step)
            try grid.writePNG(to: saved.samples!)
            try log.recordSamples(grid, step: step)
        }
        var snapshot = TrainingSnapshot(configuration: configuration, step: step, worldSize: world.size, threadsPerRank: Kernels.threads,
                                        players: setup.players, sampler: sampler, gridLatent: setup.gridLatent, grid: grid,
                                        generatorAverage: setup.average?.network)
        snapshot.dataFingerprint = fingerprint
        if let best {
            snapshot.best = best
            try snapshot.write(to: directory.bestPath)
            snapshot.best = nil
        }
        if checkpointDue {
            let writing = DispatchTime.now()
            let path = directory.checkpointPath(step: step)
            try snapshot.write(to: path)
            directory.prune(keep: configuration.keep, through: step)
            saved.checkpoint = path
            saved.seconds = Double(DispatchTime.now().uptimeNanoseconds - writing.uptimeNanoseconds) / 1e9
        }
        return saved
    }

    /// The best evaluation a resumed run left in best.h5, if it left a readable one.
    private func previousBest(in directory: RunDirectory) -> BestCheckpoint? {
        do {
            return try directory.best()
        } catch {
            say("note: \(directory.bestPath) is not readable (\(error)); the next evaluation replaces it")
            return nil
        }
    }

    /// The checkpoint to resume from, decided on rank 0 (every rank learns its path, rank 0 also
    /// gets it opened); nil for a fresh run.
    private func resolveCheckpoint() throws -> (path: String?, file: CheckpointFile?) {
        guard let resume = request.resume else { return (nil, nil) }
        var opened: CheckpointFile?
        let path = try world.onRoot {
            if resume == "auto" {
                guard let runDirectory = request.options["run-dir"] else {
                    throw ConfigurationError("--resume auto needs --run-dir: the directory whose newest checkpoint to continue")
                }
                opened = try RunDirectory(runDirectory).newestValidCheckpoint(skipped: say)
            } else {
                opened = try CheckpointFile(path: resume)
            }
            return opened!.path
        }
        return (path, opened)
    }

    /// The run's configuration as JSON: the checkpoint's (with the options a resumed run may
    /// change) or the preset's defaults under the given options. Runs on rank 0.
    private func resolveConfiguration(_ checkpoint: CheckpointFile?) throws -> String {
        var configuration: TrainingConfiguration
        if let checkpoint {
            configuration = try request.options.resuming(checkpoint.configuration)
            if request.options["run-dir"] == nil {
                configuration.runDirectory = (checkpoint.path as NSString).deletingLastPathComponent
            }
        } else {
            configuration = try request.options.applied(to: .defaults(for: request.options.preset ?? .dcgan28))
        }
        try configuration.validate()
        _ = try configuration.preset.batchSplit(configuration, ranks: world.size)
        return try configuration.json()
    }

    /// Averages step metrics over the ranks, each rank's means weighted by its share of the batch
    /// over the mean share (`BatchSplit.lossScale`); every rank has the same fields.
    private func average(_ metrics: StepMetrics, weight: Float, parallel: DataParallel) throws -> StepMetrics {
        let fields = StepMetrics.fields.filter { metrics[keyPath: $0.path] != nil }
        var values = fields.map { Double(metrics[keyPath: $0.path]!) * Double(weight) }
        try parallel.waiting(in: "the all-reduce of the step's losses") { try world.allReduce(&values, op: .sum) }
        var averaged = metrics
        for (field, value) in zip(fields, values) { averaged[keyPath: field.path] = Float(value / Double(world.size)) }
        return averaged
    }

    /// The run's data, and in `configuration` what the preset takes from it (dcgan's shape).
    static func loadDataset(_ configuration: inout TrainingConfiguration, say: (String) -> Void = { _ in }) throws -> Dataset {
        let definition = configuration.definition
        let dataset = try definition.generatedData(seed: configuration.seed)
            ?? definition.prepared(definition.images(at: configuration.data ?? FashionMNIST.trainingImages,
                                                     skipBad: configuration.skipBadImages ?? false, say: say))
        try definition.adopt(dataset, into: &configuration)
        try dataset.require(sampleShape: configuration.sampleShape, for: "--preset \(configuration.preset.rawValue)")
        return dataset
    }
}
