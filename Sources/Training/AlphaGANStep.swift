import Datasets
import Models

/// One Alpha-GAN iteration (Rosca et al. 2017, Algorithm 1): four networks, each with its own
/// optimizer, updated in three phases from one forward pass of the batch.
///
/// 1. E and G, through frozen D and C: λ·L1(x, G(E(x))) plus the generator terms of D on the
///    reconstructions G(E(x)) and the samples G(z), plus the generator term of C on the codes E(x).
///    One backward of that sum gives each of E and G exactly the gradient of its own loss in the
///    paper (E's loss has no G(z) term and G's has no C term, but neither depends on the other's).
/// 2. D: real images against the reconstructions and the samples of phase 1, half each.
/// 3. C: prior samples z ~ N(0, I) are its *real* class, codes E(x) its fake one (arXiv v1's
///    equations 16 and 17 swap the two).
///
/// Each phase all-reduces exactly the gradients of the networks it updates.
public final class AlphaGANStep: TrainingAlgorithm {
    public let encoder: Layer
    public let generator: Layer
    public let discriminator: Layer
    public let codeDiscriminator: Layer
    public let encoderOptimizer: Adam, generatorOptimizer: Adam, discriminatorOptimizer: Adam, codeDiscriminatorOptimizer: Adam
    public let objective: AdversarialObjective
    /// λ, the weight of the pixel L1 reconstruction term.
    public let reconstructionWeight: Float
    public let runner: PhaseRunner

    public init(encoder: Layer, generator: Layer, discriminator: Layer, codeDiscriminator: Layer,
                optimizers: (encoder: Adam, generator: Adam, discriminator: Adam, codeDiscriminator: Adam),
                objective: AdversarialObjective, reconstructionWeight: Float, context: PhaseContext = .singleProcess) {
        (self.encoder, self.generator, self.discriminator, self.codeDiscriminator) = (encoder, generator, discriminator, codeDiscriminator)
        runner = PhaseRunner(networks: [encoder, generator, discriminator, codeDiscriminator], context: context)
        (encoderOptimizer, generatorOptimizer, discriminatorOptimizer, codeDiscriminatorOptimizer) = optimizers
        self.objective = objective
        self.reconstructionWeight = reconstructionWeight
    }

    /// What phase 1 computed, which phases 2 and 3 judge.
    public struct Forward {
        /// The loss of E and G together, and its reconstruction part L1(x, G(E(x))) before weighting.
        public let loss: Variable
        public let reconstructionL1: Float
        /// E(x) `[N, 100]`, G(E(x)) and G(z) `[N, 1, 28, 28]`.
        public let codes: Tensor, reconstructions: Tensor, samples: Tensor
    }

    /// Phase 1's loss on `real` `[N, 1, 28, 28]` and prior samples `latent` `[N, 100]`, both on one tape.
    public func encoderGeneratorLoss(real: Variable, latent: Variable) -> Forward {
        let codes = encoder(real)
        let reconstructions = generator(codes)
        let samples = generator(latent)
        let reconstruction = l1Loss(prediction: reconstructions, target: real.value)
        let loss = reconstructionWeight * reconstruction
            + generatorLoss(objective, fakeLogits: discriminator(reconstructions))
            + generatorLoss(objective, fakeLogits: discriminator(samples))
            + generatorLoss(objective, fakeLogits: codeDiscriminator(codes))
        return Forward(loss: loss, reconstructionL1: reconstruction.value.scalar,
                       codes: codes.value, reconstructions: reconstructions.value, samples: samples.value)
    }

    /// Phase 2's loss: real images `[N, 1, 28, 28]` against the reconstructions and samples of phase 1.
    /// Each batch passes through D on its own, as in `AdversarialStep`, for D's BatchNorm.
    public func discriminatorLoss(real: Variable, reconstructions: Variable, samples: Variable) -> (loss: Variable, realLogits: Variable, fakeLogits: Variable) {
        let realLogits = discriminator(real)
        let reconstructionLogits = discriminator(reconstructions)
        let sampleLogits = discriminator(samples)
        let loss = 0.5 * Models.discriminatorLoss(objective, realLogits: realLogits, fakeLogits: reconstructionLogits)
            + 0.5 * Models.discriminatorLoss(objective, realLogits: realLogits, fakeLogits: sampleLogits)
        return (loss, realLogits, sampleLogits)
    }

    /// Phase 3's loss: prior samples `[N, 100]` are C's real class, the encoder's codes `[N, 100]` its fake one.
    public func codeDiscriminatorLoss(prior: Variable, codes: Variable) -> Variable {
        Models.discriminatorLoss(objective, realLogits: codeDiscriminator(prior), fakeLogits: codeDiscriminator(codes))
    }

    /// One iteration on the next real batch `[N, 1, 28, 28]` and prior samples `[N, 100]` (`.generatorNoise`).
    /// Phases 2 and 3 read only phase 1's outputs and their own network, so E and G's update
    /// travels while they run, and D's while C's phase runs.
    public func iterate(nextBatch: () throws -> Tensor, noise: (RandomPurpose, Int) -> Tensor) throws -> StepMetrics {
        let (real, latent) = (try nextBatch(), noise(.generatorNoise, 0))
        let forward = try runner.run(Phase(updating: [(encoder, encoderOptimizer), (generator, generatorOptimizer)], afterLanding: { [self] tape in
            let forward = encoderGeneratorLoss(real: tape.variable(real), latent: tape.variable(latent))
            return (forward.loss, forward)
        }))
        let judged = try runner.run(Phase(updating: [(discriminator, discriminatorOptimizer)], readingOnlyItsOwn: { [self] tape in
            let judged = discriminatorLoss(real: tape.variable(real), reconstructions: tape.variable(forward.reconstructions),
                                           samples: tape.variable(forward.samples))
            return (judged.loss, judged)
        }))
        let codeLoss = try runner.run(Phase(updating: [(codeDiscriminator, codeDiscriminatorOptimizer)], readingOnlyItsOwn: { [self] tape in
            let loss = codeDiscriminatorLoss(prior: tape.variable(latent), codes: tape.variable(forward.codes))
            return (loss, loss)
        }))
        return StepMetrics(generatorLoss: forward.loss.value.scalar, discriminatorLoss: judged.loss.value.scalar,
                           realScore: judged.realLogits.value.meanSigmoid, fakeScore: judged.fakeLogits.value.meanSigmoid,
                           reconstruction: forward.reconstructionL1, codeDiscriminatorLoss: codeLoss.value.scalar)
    }
}
