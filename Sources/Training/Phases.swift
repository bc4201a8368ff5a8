import Datasets
import Models

/// A preset's way of training its networks: one iteration at a time, as a short list of phases
/// that its `runner` runs.
public protocol TrainingAlgorithm: AnyObject {
    /// One iteration: `nextBatch` gives this rank's slice of the next global batch of real data,
    /// `noise(purpose, substep)` this rank's slice of the step's noise `[N, latentSize]`.
    func iterate(nextBatch: () throws -> Tensor, noise: (RandomPurpose, Int) -> Tensor) throws -> StepMetrics
    /// What runs the phases; it holds the updates an iteration may leave in flight.
    var runner: PhaseRunner { get }
}

/// One phase of a step, as data: the networks it updates, and its loss in two parts that the
/// runner records in order on one tape.
///
/// The first part reads only the networks this phase updates and constants (real data, noise,
/// earlier phases' outputs), so it runs while the updates of earlier phases are still in flight,
/// and its loss is differentiated at once. The rest may read every network when
/// `restReadsOtherNetworks`, so those updates land before it; its backward pass hands the
/// gradients to the reduction as it completes them.
public struct Phase<Early, Result> {
    /// The networks it updates, each with its optimizer; every other network is frozen in it.
    let updates: [(network: Layer, optimizer: any Optimizer)]
    /// The first part: its loss (nil when it only computes what the rest needs) and that value.
    let first: (Tape) throws -> (loss: Variable?, value: Early)
    /// The rest of the loss, and what the phase returns.
    let rest: (Tape, Early) throws -> (loss: Variable, result: Result)
    /// Whether `rest` reads networks this phase does not update, so that their updates still in
    /// flight must land before it.
    let restReadsOtherNetworks: Bool

    /// A phase in two parts: `first` before earlier updates land, `thenAfterLanding` after.
    init(updating updates: [(network: Layer, optimizer: any Optimizer)],
         first: @escaping (Tape) throws -> (loss: Variable?, value: Early),
         thenAfterLanding rest: @escaping (Tape, Early) throws -> (loss: Variable, result: Result)) {
        (self.updates, self.first, self.rest, restReadsOtherNetworks) = (updates, first, rest, true)
    }
}

extension Phase where Early == Void {
    /// A phase whose whole loss reads only the networks it updates and constants: it runs while
    /// earlier updates are in flight.
    init(updating updates: [(network: Layer, optimizer: any Optimizer)],
         readingOnlyItsOwn loss: @escaping (Tape) throws -> (loss: Variable, result: Result)) {
        (self.updates, first, restReadsOtherNetworks) = (updates, { _ in (nil, ()) }, false)
        rest = { tape, _ in try loss(tape) }
    }

    /// A phase whose whole loss may read every network: earlier updates land first.
    init(updating updates: [(network: Layer, optimizer: any Optimizer)],
         afterLanding loss: @escaping (Tape) throws -> (loss: Variable, result: Result)) {
        self.init(updating: updates, first: { _ in (nil, ()) }, thenAfterLanding: { tape, _ in try loss(tape) })
    }
}

/// Makes a phase's gradients the whole global batch's on every rank: the data-parallel
/// all-reduce, or nothing in one process.
public protocol GradientReduction: AnyObject {
    /// Starts averaging the gradients of `parameters` over the ranks; the phase's backward pass
    /// reports to what it returns. Collective.
    func start(_ parameters: [Parameter]) -> any GradientsInFlight
}

/// A phase's gradients on their way to being the means over the ranks.
public protocol GradientsInFlight: BackwardObserver {
    /// After the backward pass: sends what is left, or averages every gradient now; returns
    /// whether some are still travelling (then `wait` before using them).
    func sendRest() throws -> Bool
    /// Blocks until every gradient is the mean over the ranks; call once, after `sendRest`.
    func wait() throws
}

/// One process: its gradients are already the whole batch's.
public final class SingleProcess: GradientReduction, GradientsInFlight {
    public init() {}
    public func start(_ parameters: [Parameter]) -> any GradientsInFlight { self }
    public var watched: [Parameter] { [] }
    public func finished(_ parameters: [Parameter]) {}
    public func sendRest() -> Bool { false }
    public func wait() {}
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
/// A phase's update stays in flight while its gradients are reduced in the background: the
/// optimizer steps wait until a later phase needs the networks (one that updates them, or the
/// rest of one that reads them) or the trainer does (`settle`). Work done meanwhile hides the
/// communication; nothing computes with a network whose update is still in flight, so the results
/// are those of updating at once.
public final class PhaseRunner {
    /// Every network of the step.
    let networks: [Layer]
    let context: PhaseContext
    /// Updates whose gradients are still being reduced, oldest first.
    private var inFlight: [UpdateInFlight] = []

    init(networks: [Layer], context: PhaseContext) {
        (self.networks, self.context) = (networks, context)
    }

    /// Runs `phase` and returns its result; its update is made, or left in flight.
    @discardableResult
    func run<Early, Result>(_ phase: Phase<Early, Result>) throws -> Result {
        try finish(begin(phase))
    }

    /// Runs the first part of `phase`, so that another phase can use its value before `finish`
    /// runs the rest: G's phase begins inside D's, whose fake side judges G's samples, and goes on
    /// from the same forward pass and tape after D's update (the one forward of PyTorch's DCGAN
    /// example). Nothing may update `phase`'s networks between the two, or its tape would hold
    /// their old weights.
    func begin<Early, Result>(_ phase: Phase<Early, Result>) throws -> BegunPhase<Early, Result> {
        let updated = Set(phase.updates.map { update in ObjectIdentifier(update.network) })
        if inFlight.contains(where: { $0.networks.contains { updated.contains(ObjectIdentifier($0)) } }) {
            try settle()
        }
        return try freezingAllBut(phase) { parameters in
            parameters.forEach { $0.zeroGradient() }
            let tape = Tape(shards: context.shards)
            let first = try phase.first(tape)
            if let loss = first.loss { tape.backward(from: loss, scale: context.lossScale) }
            return BegunPhase(phase: phase, tape: tape, value: first.value)
        }
    }

    /// Runs the rest of a phase `begin` started and returns its result; its update is made, or
    /// left in flight.
    @discardableResult
    func finish<Early, Result>(_ begun: BegunPhase<Early, Result>) throws -> Result {
        let phase = begun.phase
        return try freezingAllBut(phase) { parameters in
            if phase.restReadsOtherNetworks { try settle() }
            let (loss, result) = try phase.rest(begun.tape, begun.value)
            let gradients = context.reduction.start(parameters)
            begun.tape.backward(from: loss, scale: context.lossScale, observer: gradients)
            parameters.forEach { $0.combineShardGradients() }

            let update = UpdateInFlight(networks: phase.updates.map { update in update.network }, gradients: gradients,
                                        steps: phase.updates.map { update in (update.optimizer, update.optimizer.learningRate) })
            if try gradients.sendRest() { inFlight.append(update) } else { try update.land() }
            return result
        }
    }

    /// Runs `body` on the parameters `phase` updates with every other network frozen, then
    /// restores each network's flag however `body` ends.
    private func freezingAllBut<Early, Result, Value>(_ phase: Phase<Early, Result>,
                                                      _ body: ([Parameter]) throws -> Value) throws -> Value {
        let updated = Set(phase.updates.map { update in ObjectIdentifier(update.network) })
        let frozen = networks.map { network in network.isFrozen }
        defer { zip(networks, frozen).forEach { $0.isFrozen = $1 } }
        for network in networks { network.isFrozen = !updated.contains(ObjectIdentifier(network)) }
        return try body(phase.updates.flatMap { update in update.network.parameters })
    }

    /// Lands every update still in flight, oldest first, then runs what waited for them.
    public func settle() throws {
        while !inFlight.isEmpty { try inFlight.removeFirst().land() }
    }

    /// Runs `work` once the networks hold every update made so far: now, or when the last update
    /// in flight lands.
    public func whenSettled(_ work: @escaping () -> Void) {
        if inFlight.isEmpty { work() } else { inFlight[inFlight.count - 1].then.append(work) }
    }
}

/// A phase whose first part has run: its tape, holding what the rest differentiates through, and
/// the first part's value.
struct BegunPhase<Early, Result> {
    fileprivate let phase: Phase<Early, Result>
    fileprivate let tape: Tape
    let value: Early
}

/// A phase's update waiting for its gradients' reduction: the optimizers' steps, at the learning
/// rates of the phase (the trainer may have moved on to the next step's), then `then`.
private struct UpdateInFlight {
    let networks: [Layer]
    let gradients: any GradientsInFlight
    let steps: [(optimizer: any Optimizer, learningRate: Float)]
    var then: [() -> Void] = []

    func land() throws {
        try gradients.wait()
        for (optimizer, learningRate) in steps { optimizer.step(learningRate: learningRate) }
        then.forEach { $0() }
    }
}
