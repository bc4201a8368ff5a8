import Datasets
import Models

/// A preset's way of training its networks: one iteration at a time, its only entry point.
public protocol TrainingAlgorithm: AnyObject {
    /// One iteration: `nextBatch` gives this rank's slice of the next global batch of real data,
    /// `noise(purpose, substep)` this rank's slice of the step's noise `[N, latentSize]`.
    func iterate(nextBatch: () -> Tensor, noise: (RandomPurpose, Int) -> Tensor) throws -> StepMetrics
}

/// Makes a phase's gradients the whole global batch's on every rank: the data-parallel
/// all-reduce, or nothing in one process.
public protocol GradientReduction: AnyObject {
    /// Replaces the gradients of `parameters` by their mean over the ranks. Collective.
    func reduce(_ parameters: [Parameter]) throws
    /// What may start reducing `parameters` during the backward pass that computes them, before
    /// `reduce` finishes the job; nil to do it all in `reduce`.
    func overlapping(_ parameters: [Parameter]) -> (any BackwardObserver)?
}

extension GradientReduction {
    public func overlapping(_ parameters: [Parameter]) -> (any BackwardObserver)? { nil }
}

/// One process: its gradients are already the whole batch's.
public final class SingleProcess: GradientReduction {
    public init() {}
    public func reduce(_ parameters: [Parameter]) {}
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
struct PhaseRunner {
    /// Every network of the step.
    let networks: [Layer]
    let context: PhaseContext

    /// Updates each network of `updates` with its optimizer on the loss `build` records; returns
    /// what `build` returned beside the loss.
    func run<Result>(updating updates: [(network: Layer, optimizer: Adam)],
                     _ build: (Tape) throws -> (loss: Variable, result: Result)) throws -> Result {
        let frozen = networks.map { $0.isFrozen }
        defer { zip(networks, frozen).forEach { $0.isFrozen = $1 } }
        for network in networks {
            network.isFrozen = !updates.contains { $0.network === network }
        }
        updates.forEach { $0.network.zeroGradients() }
        let parameters = updates.flatMap { $0.network.parameters }
        let result = try BatchShards.splitting(into: context.shards) { () throws -> Result in
            let tape = Tape()
            let (loss, result) = try build(tape)
            tape.backward(from: loss, scale: context.lossScale, observer: context.reduction.overlapping(parameters))
            return result
        }
        parameters.forEach { $0.combineShardGradients() }
        try context.reduction.reduce(parameters)
        updates.forEach { $0.optimizer.step() }
        return result
    }
}
