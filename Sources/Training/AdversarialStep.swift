import Datasets
import Foundation
import Models

/// What one training iteration measured, each a mean over the batch; nil where the preset has no such term.
public struct StepMetrics: Equatable, Sendable {
    /// The loss of the generator (with the encoder, for Alpha-GAN).
    public var generatorLoss: Float
    public var discriminatorLoss: Float?
    /// Mean σ(D(x)) on the real batch, in the D phase.
    public var realScore: Float?
    /// Mean σ(D(G(z))) on the generated batch, in the D phase.
    public var fakeScore: Float?
    /// The L1 distance of the output to its target (reconstruction or true bottom half).
    public var reconstruction: Float?
    public var codeDiscriminatorLoss: Float?
    /// The R1 penalty on D's gradient at the real batch, not included in `discriminatorLoss`.
    public var gradientPenalty: Float?

    public init(generatorLoss: Float, discriminatorLoss: Float? = nil, realScore: Float? = nil, fakeScore: Float? = nil,
                reconstruction: Float? = nil, codeDiscriminatorLoss: Float? = nil, gradientPenalty: Float? = nil) {
        (self.generatorLoss, self.discriminatorLoss, self.realScore, self.fakeScore) = (generatorLoss, discriminatorLoss, realScore, fakeScore)
        (self.reconstruction, self.codeDiscriminatorLoss, self.gradientPenalty) = (reconstruction, codeDiscriminatorLoss, gradientPenalty)
    }

    /// Every field: its key in metrics.jsonl, its label on the progress line, its name in messages, and where it is kept.
    static var fields: [(key: String, label: String, name: String, path: WritableKeyPath<StepMetrics, Float?>)] {
        [("d_loss", "D", "the discriminator loss", \.discriminatorLoss), ("g_loss", "G", "the generator loss", \.generatorOrNil),
         ("d_real", "D(x)", "D's score of real data", \.realScore), ("d_fake", "D(G(z))", "D's score of generated data", \.fakeScore),
         ("recon_l1", "L1", "the reconstruction L1", \.reconstruction), ("c_loss", "C", "the code discriminator loss", \.codeDiscriminatorLoss),
         ("r1", "R1", "the R1 penalty", \.gradientPenalty)]
    }

    private var generatorOrNil: Float? {
        get { generatorLoss }
        set { generatorLoss = newValue ?? 0 }
    }

    /// The fields this step has, in `fields` order.
    var present: [(key: String, label: String, name: String, value: Float)] {
        Self.fields.compactMap { field in self[keyPath: field.path].map { (field.key, field.label, field.name, $0) } }
    }
}

extension Tensor {
    /// The mean of σ(x) over the logits: the discriminator's average belief that its inputs are real.
    var meanSigmoid: Float { map { 1 / (1 + exp(-$0)) }.mean() }
}

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
    func discriminatorPhase(real: Tensor, latent: Tensor) throws -> StepMetrics {
        try phases.run(updating: [(discriminator, discriminatorOptimizer)]) { tape in
            // G's samples are constants here (G frozen, noise constant), so G records nothing.
            let fake = generator(tape.variable(latent)).value
            // Real and fake pass through D separately: a BatchNorm in D must see the same kind of batch
            // here as in G's phase (all fake), or G learns to exploit the difference in normalisation.
            let realInput = packed(tape.variable(real))
            let (realLogits, penalty): (Variable, Variable?) = r1Gamma > 0
                ? discriminatorWithR1Penalty(discriminator as! Sequential, real: realInput, gamma: r1Gamma)
                : (discriminator(realInput), nil)
            let fakeLogits = discriminator(packed(tape.variable(fake)))
            let loss = discriminatorLoss(objective, realLogits: realLogits, fakeLogits: fakeLogits)
            return (penalty.map { loss + $0 } ?? loss,
                    StepMetrics(generatorLoss: 0, discriminatorLoss: loss.value.scalar, realScore: realLogits.value.meanSigmoid,
                                fakeScore: fakeLogits.value.meanSigmoid, gradientPenalty: penalty?.value.scalar))
        }
    }

    /// Updates G through the frozen D on G's samples of `latent` `[N, latent]`; returns G's loss.
    func generatorPhase(latent: Tensor) throws -> Float {
        try phases.run(updating: [(generator, generatorOptimizer)]) { tape in
            // Gradients flow through D's layers to its input, none into D's weights.
            let loss = generatorLoss(objective, fakeLogits: discriminator(packed(generator(tape.variable(latent)))))
            return (loss, loss)
        }.value.scalar
    }
}
