import Datasets
import Models

/// A preset's way of training its networks: one iteration at a time, its only entry point.
public protocol TrainingAlgorithm: AnyObject {
    /// One iteration: `nextBatch` gives this rank's slice of the next global batch of real data,
    /// `noise(purpose, substep)` this rank's slice of the step's noise `[N, latentSize]`.
    func iterate(nextBatch: () -> Tensor, noise: (RandomPurpose, Int) -> Tensor) throws -> StepMetrics
    /// Lands the updates an iteration may leave in flight (`PhaseRunner`): before anything reads
    /// the networks from outside (samples, evaluations, checkpoints).
    func settle() throws
    /// Runs `work` once the networks hold every update made so far (now, or when they land).
    func whenSettled(_ work: @escaping () -> Void)
}

/// Makes a phase's gradients the whole global batch's on every rank: the data-parallel
/// all-reduce, or nothing in one process.
public protocol GradientReduction: AnyObject {
    /// Replaces the gradients of `parameters` by their mean over the ranks, or starts to: returns
    /// what finishes the job when it goes on in the background, nil when it is done. Collective.
    func reduce(_ parameters: [Parameter]) throws -> GradientsInFlight?
    /// What may start reducing `parameters` during the backward pass that computes them, before
    /// `reduce` finishes the job; nil to do it all in `reduce`.
    func overlapping(_ parameters: [Parameter]) -> (any BackwardObserver)?
}

extension GradientReduction {
    public func overlapping(_ parameters: [Parameter]) -> (any BackwardObserver)? { nil }
}

/// Gradients still being averaged over the ranks in the background.
public struct GradientsInFlight {
    /// Blocks until the gradients are the means; call once.
    public let wait: () throws -> Void
    public init(wait: @escaping () throws -> Void) { self.wait = wait }
}

/// One process: its gradients are already the whole batch's.
public final class SingleProcess: GradientReduction {
    public init() {}
    public func reduce(_ parameters: [Parameter]) -> GradientsInFlight? { nil }
}

/// How a rank takes part in a step's phases: the reduction of their gradients, the factor on
/// each loss before its backward (this rank's `BatchSplit.lossScale`; 1 in one process), and the
/// shards its batches split into for `--exact` (`BatchShards`; 1 otherwise).
public struct PhaseContext {
    public let reduction: GradientReduction
    public let lossScale: Float
    public let shards: Int

    public init(reduction: GradientReduction = SingleProcess(), lossScale: Float = 1, shards: Int = 1) {
        (self.reduction, self.lossScale, self.shards) = (reduction, lossScale, shards)
    }

    /// One process, nothing reduced.
    public static var singleProcess: PhaseContext { PhaseContext() }
}

/// Runs the phases of a step, each an update of some of its networks on one loss.
///
/// A phase freezes every network it does not update, so gradients pass through them to their
/// inputs but none into their weights (no weight-gradient work is done for them), and no update
/// of one network leaks into another's; the flags are restored however the phase ends.
///
/// An overlapping phase leaves its update in flight while its gradients are reduced in the
/// background: the optimizer steps wait until a later phase needs the networks (`PhasePass.settle`,
/// or a phase updating one of them) or the trainer does (`settle`). Work done meanwhile hides the
/// communication; nothing computes with a network whose update is still in flight, so the results
/// are those of updating at once.
final class PhaseRunner {
    /// Every network of the step.
    let networks: [Layer]
    let context: PhaseContext
    /// Updates whose gradients are still being reduced, oldest first.
    private var inFlight: [UpdateInFlight] = []

    init(networks: [Layer], context: PhaseContext) {
        (self.networks, self.context) = (networks, context)
    }

    /// Updates each network of `updates` with its optimizer on the loss `build` records; returns
    /// what `build` returned beside the loss.
    ///
    /// When `overlapping`, `build` may run before the updates of earlier phases have landed, as long
    /// as it reads only the networks of `updates` until it calls `PhasePass.settle`; and this
    /// phase's own update stays in flight when its reduction runs in the background.
    func run<Result>(updating updates: [(network: Layer, optimizer: Adam)], overlapping: Bool = false,
                     _ build: (PhasePass) throws -> (loss: Variable, result: Result)) throws -> Result {
        let updated = updates.map { ObjectIdentifier($0.network) }
        if !overlapping || inFlight.contains(where: { $0.networks.contains { updated.contains(ObjectIdentifier($0)) } }) {
            try settle()
        }
        let frozen = networks.map { $0.isFrozen }
        defer { zip(networks, frozen).forEach { $0.isFrozen = $1 } }
        for network in networks {
            network.isFrozen = !updates.contains { $0.network === network }
        }
        updates.forEach { $0.network.zeroGradients() }
        let parameters = updates.flatMap { $0.network.parameters }
        let result = try BatchShards.splitting(into: context.shards) { () throws -> Result in
            let pass = PhasePass(runner: self)
            let (loss, result) = try build(pass)
            pass.tape.backward(from: loss, scale: context.lossScale, observer: context.reduction.overlapping(parameters))
            return result
        }
        parameters.forEach { $0.combineShardGradients() }
        let update = UpdateInFlight(networks: updates.map(\.network), gradients: try context.reduction.reduce(parameters),
                                    steps: updates.map { ($0.optimizer, $0.optimizer.learningRate) })
        if overlapping && update.gradients != nil { inFlight.append(update) } else { try update.land() }
        return result
    }

    /// Lands every update still in flight, oldest first, then runs what waited for them.
    func settle() throws {
        while !inFlight.isEmpty { try inFlight.removeFirst().land() }
    }

    /// Runs `work` once the networks hold every update made so far: now, or when the last update
    /// in flight lands.
    func whenSettled(_ work: @escaping () -> Void) {
        if inFlight.isEmpty { work() } else { inFlight[inFlight.count - 1].then.append(work) }
    }
}

/// What a phase's `build` records on and may differentiate in parts.
final class PhasePass {
    let tape = Tape()
    private let runner: PhaseRunner

    fileprivate init(runner: PhaseRunner) { self.runner = runner }

    /// Differentiates a part of the phase's loss now, onto the same gradients the whole loss goes
    /// to: work that needs no network still in flight, done while earlier phases' gradients travel.
    func backward(_ partialLoss: Variable) {
        tape.backward(from: partialLoss, scale: runner.context.lossScale)
    }

    /// Lands the earlier phases' updates; from here on `build` may read any network.
    func settle() throws { try runner.settle() }
}

/// A phase's update waiting for its gradients' reduction: the optimizers' steps, at the learning
/// rates of the phase (the trainer may have moved on to the next step's), then `then`.
private struct UpdateInFlight {
    let networks: [Layer]
    let gradients: GradientsInFlight?
    let steps: [(optimizer: Adam, learningRate: Float)]
    var then: [() -> Void] = []

    func land() throws {
        try gradients?.wait()
        for (optimizer, learningRate) in steps { optimizer.step(learningRate: learningRate) }
        then.forEach { $0() }
    }
}
