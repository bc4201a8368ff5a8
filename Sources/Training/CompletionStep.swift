import Checkpoints
import Datasets
import Models

/// One completion iteration: given the top half of each image, the generator makes a bottom half.
/// With an explicit loss (L1, L2) that is one update of G; with an adversarial one, first the
/// conditional discriminator learns to tell real whole images from top plus generated bottom,
/// then G learns through the frozen discriminator.
public final class CompletionStep: TrainingAlgorithm {
    public let generator: Layer
    /// nil for the explicit losses.
    public let discriminator: Layer?
    public let generatorOptimizer: Adam
    public let discriminatorOptimizer: Adam?
    public let loss: CompletionLoss
    public let objective: AdversarialObjective
    /// The weight of the L1 term in `l1+adversarial`.
    public let reconstructionWeight: Float
    private let phases: PhaseRunner

    public init(generator: Layer, discriminator: Layer?, generatorOptimizer: Adam, discriminatorOptimizer: Adam?,
                loss: CompletionLoss, objective: AdversarialObjective, reconstructionWeight: Float, context: PhaseContext = .singleProcess) {
        precondition((discriminator != nil) == loss.usesDiscriminator, "a discriminator exactly for the adversarial losses")
        phases = PhaseRunner(networks: [generator] + (discriminator.map { [$0] } ?? []), context: context)
        (self.generator, self.discriminator) = (generator, discriminator)
        (self.generatorOptimizer, self.discriminatorOptimizer) = (generatorOptimizer, discriminatorOptimizer)
        (self.loss, self.objective, self.reconstructionWeight) = (loss, objective, reconstructionWeight)
    }

    /// One iteration on the next batch of whole images `[N, 1, 28, 28]` with noise `[N, 32]` (`.generatorNoise`).
    public func iterate(nextBatch: () -> Tensor, noise makeNoise: (RandomPurpose, Int) -> Tensor) throws -> StepMetrics {
        let (real, noise) = (nextBatch(), makeNoise(.generatorNoise, 0))
        let (top, bottom) = Completion28.halves(of: real)
        let input = Completion28.generatorInput(top: top, noise: noise)
        var metrics = StepMetrics(generatorLoss: 0)
        if let discriminator, let discriminatorOptimizer {
            let (loss, realLogits, fakeLogits) = try phases.run(updating: [(discriminator, discriminatorOptimizer)]) { tape in
                let generated = generator(tape.variable(input)).value
                let realLogits = discriminator(tape.variable(real))
                let fakeLogits = discriminator(tape.variable(Tensor.concatenate([top, generated], axis: 2)))
                let loss = discriminatorLoss(objective, realLogits: realLogits, fakeLogits: fakeLogits)
                return (loss, (loss, realLogits, fakeLogits))
            }
            metrics.discriminatorLoss = loss.value.scalar
            metrics.realScore = realLogits.value.meanSigmoid
            metrics.fakeScore = fakeLogits.value.meanSigmoid
        }
        let (loss, l1) = try phases.run(updating: [(generator, generatorOptimizer)]) { tape in
            let (loss, l1) = generatorLoss(top: tape.variable(top), input: tape.variable(input), bottom: bottom)
            return (loss, (loss, l1))
        }
        metrics.generatorLoss = loss.value.scalar
        metrics.reconstruction = l1
        return metrics
    }

    /// G's loss for tops `[N, 1, 14, 28]` and its input `[N, 424]`, against the true `bottom`
    /// `[N, 1, 14, 28]`; also the L1 distance to it, whatever the loss.
    public func generatorLoss(top: Variable, input: Variable, bottom: Tensor) -> (loss: Variable, l1: Float) {
        let generated = generator(input)
        let l1 = l1Loss(prediction: generated, target: bottom)
        switch loss {
        case .l2: return (mseLoss(prediction: generated, target: bottom), l1.value.scalar)
        case .l1: return (l1, l1.value.scalar)
        case .adversarial, .l1Adversarial:
            let judged = Models.generatorLoss(objective, fakeLogits: discriminator!(Variable.concatenate([top, generated], axis: 2)))
            return (loss == .adversarial ? judged : judged + reconstructionWeight * l1, l1.value.scalar)
        }
    }
}
