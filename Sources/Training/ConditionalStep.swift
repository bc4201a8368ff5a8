import Checkpoints
import Datasets
import Models

/// How a conditional preset splits its data into the condition and the output to make from it,
/// and how its discriminator sees the two together.
public struct ConditionalTask: Sendable {
    /// Data `[N, ...]` → (condition, the true output).
    public let split: @Sendable (Tensor) -> (condition: Tensor, target: Tensor)
    /// The axis along which the discriminator sees condition and output joined (pix2pix's pairing).
    public let pairingAxis: Int

    /// completion28: the top half `[N, 1, 14, 28]` and the bottom `[N, 1, 14, 28]`, joined along the height.
    public static let completion = ConditionalTask(split: { let (top, bottom) = Completion28.halves(of: $0); return (top, bottom) }, pairingAxis: 2)
    /// colorize28: the gray image `[N, 1, 28, 28]` and the colour one `[N, 3, 28, 28]`, joined along the channels.
    public static let colorization = ConditionalTask(split: { (Colorize28.gray(of: $0), $0) }, pairingAxis: 1)
}

/// One iteration of a conditional preset: given each condition, the generator makes an output.
/// With an explicit loss (L1, L2) that is one update of G; with an adversarial one, first the
/// conditional discriminator learns to tell real pairs from condition plus generated output, then
/// G learns through the frozen discriminator, with the mode-seeking term when it is weighted.
public final class ConditionalStep: TrainingAlgorithm {
    public let task: ConditionalTask
    public let generator: Layer
    /// nil for the explicit losses.
    public let discriminator: Layer?
    public let generatorOptimizer: Adam
    public let discriminatorOptimizer: Adam?
    public let loss: CompletionLoss
    public let objective: AdversarialObjective
    /// The weight of the L1 term in `l1+adversarial`.
    public let reconstructionWeight: Float
    /// The weight of the mode-seeking term (`modeSeekingLoss`) with an adversarial loss; 0 for none.
    public let modeSeekingWeight: Float
    public let runner: PhaseRunner

    public init(task: ConditionalTask, generator: Layer, discriminator: Layer?, generatorOptimizer: Adam, discriminatorOptimizer: Adam?,
                loss: CompletionLoss, objective: AdversarialObjective, reconstructionWeight: Float, modeSeekingWeight: Float = 0,
                context: PhaseContext = .singleProcess) {
        precondition((discriminator != nil) == loss.usesDiscriminator, "a discriminator exactly for the adversarial losses")
        runner = PhaseRunner(networks: [generator] + (discriminator.map { [$0] } ?? []), context: context)
        (self.task, self.generator, self.discriminator) = (task, generator, discriminator)
        (self.generatorOptimizer, self.discriminatorOptimizer) = (generatorOptimizer, discriminatorOptimizer)
        (self.loss, self.objective, self.reconstructionWeight) = (loss, objective, reconstructionWeight)
        self.modeSeekingWeight = loss.usesDiscriminator ? modeSeekingWeight : 0
    }

    /// Which rows of a batch of `count` give the generator's inputs their conditions and their
    /// noise. With the mode-seeking term, rows 2k and 2k + 1 are a pair: both take row 2k's
    /// condition (and true output) with their own noise, the first of each pair in rows 0..<P of
    /// the input and the second in rows P..<2P (P = count / 2), an odd last row after them as it
    /// is. Pairs never straddle ranks (the batch is split in whole pairs), so the pairs, like the
    /// noise, do not depend on the world size. Without the term, every row as it is.
    ///
    /// Under `--exact` each of the batch's `shards` is arranged so on its own, so that a shard holds
    /// the same generator inputs whichever rank runs it.
    func pairing(_ count: Int, shards: Int = 1) -> (conditions: [Int], noise: [Int]) {
        guard modeSeekingWeight > 0, count >= 2 else { return (Array(0..<count), Array(0..<count)) }
        let size = count / shards
        let firsts = Array(stride(from: 0, to: size - 1, by: 2)), rest = size % 2 == 1 ? [size - 1] : []
        let (conditions, noise) = (firsts + firsts + rest, firsts + firsts.map { $0 + 1 } + rest)
        let starts = stride(from: 0, to: count, by: size)
        return (starts.flatMap { start in conditions.map { start + $0 } }, starts.flatMap { start in noise.map { start + $0 } })
    }

    /// The rows of the first and of the second output of each pair in a batch of `count` that
    /// `pairing(count, shards:)` arranged.
    func pairRows(_ count: Int, shards: Int) -> (first: [Int], second: [Int]) {
        let size = count / shards, pairs = size / 2
        let starts = Array(stride(from: 0, to: count, by: size))
        return (starts.flatMap { $0..<$0 + pairs }, starts.flatMap { $0 + pairs..<$0 + 2 * pairs })
    }

    /// One iteration on the next batch of data `[N, ...]` with noise `[N, z]` (`.generatorNoise`):
    /// D's phase on real pairs and on the conditions with G's outputs, when the loss has a D, then
    /// G's, from the same forward pass of G.
    public func iterate(nextBatch: () throws -> Tensor, noise makeNoise: (RandomPurpose, Int) -> Tensor) throws -> StepMetrics {
        let (real, noise) = (try nextBatch(), makeNoise(.generatorNoise, 0))
        let (condition, target) = task.split(real)
        let rows = pairing(real.shape[0], shards: runner.context.shards)
        let (pairedCondition, pairedTarget) = (condition.rows(rows.conditions), target.rows(rows.conditions))
        let input = ConditionalGenerator.input(condition: pairedCondition, noise: noise.rows(rows.noise))
        let generatorPhase = Phase.generator(generator, optimizer: generatorOptimizer, forward: { [self] tape in generator(tape.variable(input)) },
                                             loss: { [self] tape, generated in
            let (loss, l1) = generatorLoss(condition: tape.variable(pairedCondition), input: input, generated: generated, target: pairedTarget)
            return (loss, (loss, l1))
        })
        var metrics = StepMetrics(generatorLoss: 0)
        var generated: BegunPhase<Variable, (Variable, Float)>?
        if let discriminator, let discriminatorOptimizer {
            metrics = StepMetrics(try runner.run(.discriminator(discriminator, optimizer: discriminatorOptimizer, objective: objective, real: { [self] tape in
                RealSide(logits: discriminator(tape.variable(Tensor.concatenate([condition, target], axis: task.pairingAxis))), penalty: nil)
            }, fake: { [self] tape in
                generated = try runner.begin(generatorPhase)
                return discriminator(tape.variable(Tensor.concatenate([pairedCondition, generated!.value.value], axis: task.pairingAxis)))
            })))
        }
        let (loss, l1) = try runner.finish(generated ?? runner.begin(generatorPhase))
        metrics.generatorLoss = loss.value.scalar
        metrics.reconstruction = l1
        return metrics
    }

    /// G's loss for conditions `[N, ...]`, its input `[N, c + z]` and its output `generated` for
    /// that input, against the true outputs `target`; also the L1 distance to them, whatever the
    /// loss. With the mode-seeking term, rows P..<2P of the input repeat the conditions of rows
    /// 0..<P (`pairing`), in each of the tape's shards.
    func generatorLoss(condition: Variable, input: Tensor, generated: Variable, target: Tensor) -> (loss: Variable, l1: Float) {
        let l1 = l1Loss(prediction: generated, target: target)
        switch loss {
        case .l2: return (mseLoss(prediction: generated, target: target), l1.value.scalar)
        case .l1: return (l1, l1.value.scalar)
        case .adversarial, .l1Adversarial:
            var total = Models.generatorLoss(objective, fakeLogits: discriminator!(Variable.concatenate([condition, generated], axis: task.pairingAxis)))
            if loss == .l1Adversarial { total = total + reconstructionWeight * l1 }
            // The pairs were arranged in the shards the phase's tape splits the batch into.
            let (firsts, seconds) = pairRows(input.shape[0], shards: generated.shards)
            if modeSeekingWeight > 0 && !firsts.isEmpty {
                let conditionWidth = condition.value.count / condition.value.shape[0]
                let noise = input.slice(conditionWidth..<input.shape[1], axis: 1)
                let distances = (noise.rows(firsts) - noise.rows(seconds)).map { abs($0) }
                let width = noise.shape[1]
                let noiseDistances = (0..<firsts.count).map { p in distances.scalars[p * width..<(p + 1) * width].reduce(0, +) / Float(width) }
                total = total + modeSeekingWeight * modeSeekingLoss(first: generated.rows(firsts), second: generated.rows(seconds),
                                                                    noiseDistances: noiseDistances)
            }
            return (total, l1.value.scalar)
        }
    }

}
