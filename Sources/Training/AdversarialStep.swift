import Datasets
import Models

/// One alternating GAN iteration: a discriminator update on a real and a generated batch,
/// then a generator update through the frozen discriminator.
///
/// Each phase (`PhaseRunner`) freezes the network it does not update and reduces exactly the
/// gradients of the one it does.
public final class AdversarialStep: TrainingAlgorithm {
    public let generator: Layer
    public let discriminator: Layer
    public let generatorOptimizer: Adam
    public let discriminatorOptimizer: Adam
    public let objective: AdversarialObjective
    /// Samples D judges at once (PacGAN): consecutive samples of a batch go side by side.
    public let pack: Int
    /// Discriminator updates per generator update (each on its own real batch).
    public var discriminatorSteps = 1
    private let phases: PhaseRunner
    /// γ of the R1 penalty on D's gradient at the real batch, added to D's loss; 0 for none. Needs a
    /// discriminator that is a piecewise-linear `Sequential`, checked here rather than every step.
    public var r1Gamma: Float = 0 {
        didSet {
            precondition(r1Gamma == 0 || (discriminator as? Sequential)?.isPiecewiseLinear == true,
                         "R1 needs a piecewise-linear discriminator, got \(type(of: discriminator))")
        }
    }

    public init(generator: Layer, discriminator: Layer, generatorOptimizer: Adam, discriminatorOptimizer: Adam,
                objective: AdversarialObjective, pack: Int = 1, context: PhaseContext = .singleProcess) {
        (self.generator, self.discriminator) = (generator, discriminator)
        phases = PhaseRunner(networks: [generator, discriminator], context: context)
        (self.generatorOptimizer, self.discriminatorOptimizer) = (generatorOptimizer, discriminatorOptimizer)
        self.objective = objective
        self.pack = pack
    }

    /// `[N, s0, ...]` → `[N / pack, pack · s0, ...]`, a view with the same elements.
    func packed(_ samples: Variable) -> Variable {
        guard pack > 1 else { return samples }
        let shape = samples.value.shape
        return samples.reshaped([shape[0] / pack, pack * shape[1]] + shape.dropFirst(2))
    }

    /// `discriminatorSteps` discriminator updates, each on its own real batch `[N, ...sample]` and
    /// noise (`.discriminatorNoise`, substep), then one generator update on `.generatorNoise`.
    public func iterate(nextBatch: () -> Tensor, noise: (RandomPurpose, Int) -> Tensor) throws -> StepMetrics {
        var metrics = StepMetrics(generatorLoss: 0)
        for substep in 0..<discriminatorSteps {
            metrics = try discriminatorPhase(real: nextBatch(), latent: noise(.discriminatorNoise, substep))
        }
        metrics.generatorLoss = try generatorPhase(latent: noise(.generatorNoise, 0))
        return metrics
    }

    /// Updates D on `real` `[N, ...sample]` and on G's samples of `latent` `[N, latent]`;
    /// returns D's loss and scores (the generator loss is left 0).
    ///
    /// The real side of D's loss comes first, forward and backward, while G's last update may
    /// still be in flight: it does not need G. So D's gradients add up the real side's part, then
    /// the fake side's.
    func discriminatorPhase(real: Tensor, latent: Tensor) throws -> StepMetrics {
        try phases.run(updating: [(discriminator, discriminatorOptimizer)], overlapping: true) { pass in
            // Real and fake pass through D separately: a BatchNorm in D must see the same kind of batch
            // here as in G's phase (all fake), or G learns to exploit the difference in normalisation.
            let realInput = packed(pass.tape.variable(real))
            let (realLogits, penalty): (Variable, Variable?) = r1Gamma > 0
                ? discriminatorWithR1Penalty(discriminator as! Sequential, real: realInput, gamma: r1Gamma)
                : (discriminator(realInput), nil)
            let realLoss = discriminatorRealLoss(objective, realLogits: realLogits)
            pass.backward(penalty.map { realLoss + $0 } ?? realLoss)

            try pass.settle()
            // G's samples are constants here (G frozen, noise constant), so G records nothing.
            let fake = generator(pass.tape.variable(latent)).value
            let fakeLogits = discriminator(packed(pass.tape.variable(fake)))
            let fakeLoss = discriminatorFakeLoss(objective, fakeLogits: fakeLogits)
            return (fakeLoss, StepMetrics(generatorLoss: 0, discriminatorLoss: realLoss.value.scalar + fakeLoss.value.scalar,
                                          realScore: realLogits.value.meanSigmoid, fakeScore: fakeLogits.value.meanSigmoid,
                                          gradientPenalty: penalty?.value.scalar))
        }
    }

    /// Updates G through the frozen D on G's samples of `latent` `[N, latent]`; returns G's loss.
    /// G's forward pass comes before D's last update has landed: it does not need D.
    func generatorPhase(latent: Tensor) throws -> Float {
        try phases.run(updating: [(generator, generatorOptimizer)], overlapping: true) { pass in
            let samples = generator(pass.tape.variable(latent))
            try pass.settle()
            // Gradients flow through D's layers to its input, none into D's weights.
            let loss = generatorLoss(objective, fakeLogits: discriminator(packed(samples)))
            return (loss, loss)
        }.value.scalar
    }

    public func settle() throws { try phases.settle() }
    public func whenSettled(_ work: @escaping () -> Void) { phases.whenSettled(work) }
}
