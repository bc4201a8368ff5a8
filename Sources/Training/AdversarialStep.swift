import Datasets
import Models

/// One alternating GAN iteration: a discriminator update on a real and a generated batch,
/// then a generator update through the frozen discriminator.
///
/// Two kinds of phase (`Phase.discriminator`, `Phase.generator`); the runner freezes the network a
/// phase does not update and reduces exactly the gradients of the one it does.
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
    /// DiffAugment of every image D judges, in both phases; nil for none.
    public var augmentation: DiffAugment?
    public let runner: PhaseRunner
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
        runner = PhaseRunner(networks: [generator, discriminator], context: context)
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
    /// noise (`.discriminatorNoise`, substep), then one generator update on the last one's samples:
    /// G's forward pass is recorded once, judged by D as constants, then by the updated D with
    /// gradients into G (PyTorch's DCGAN example's iteration). With `augmentation`, its draws are
    /// the noise of the `.augment…` purposes.
    public func iterate(nextBatch: () throws -> Tensor, noise: (RandomPurpose, Int) -> Tensor) throws -> StepMetrics {
        var metrics = StepMetrics(generatorLoss: 0)
        let generatorDraws = augmentation.map { _ in noise(.augmentGenerator, 0) }
        var generated: BegunPhase<Variable, Variable>?
        for substep in 0..<discriminatorSteps {
            let draws = augmentation.map { _ in (real: noise(.augmentReal, substep), fake: noise(.augmentFake, substep)) }
            let (real, latent) = (try nextBatch(), noise(.discriminatorNoise, substep))
            let phase = substep < discriminatorSteps - 1 ? discriminatorPhase(real: real, latent: latent, draws: draws)
                : discriminatorPhase(real: real, samples: { [self] in
                    generated = try runner.begin(generatorPhase(latent: latent, draws: generatorDraws))
                    return generated!.value.value
                }, draws: draws)
            metrics = StepMetrics(try runner.run(phase))
        }
        metrics.generatorLoss = try runner.finish(generated!).value.scalar
        return metrics
    }

    /// `images` as D sees them: augmented with `draws` when there are some, then packed.
    func judged(_ images: Variable, draws: Tensor?, real: Bool) -> Variable {
        guard let augmentation, let draws else { return packed(images) }
        return packed(augmentation(images, draws: draws, real: real))
    }

    /// D's update on `real` `[N, ...sample]` (with R1 when `r1Gamma` > 0) and on G's samples of
    /// `latent` `[N, latent]`, each augmented with its `draws` `[N, DiffAugment.drawsPerSample]` if any.
    func discriminatorPhase(real: Tensor, latent: Tensor, draws: (real: Tensor, fake: Tensor)? = nil)
        -> Phase<(loss: Variable, real: RealSide), DiscriminatorReport> {
        discriminatorPhase(real: real, samples: { [self] in generator(Variable(latent)).value }, draws: draws)
    }

    /// D's update on `real` and on the images `samples` makes, once G's last update has landed.
    func discriminatorPhase(real: Tensor, samples: @escaping () throws -> Tensor, draws: (real: Tensor, fake: Tensor)?)
        -> Phase<(loss: Variable, real: RealSide), DiscriminatorReport> {
        .discriminator(discriminator, optimizer: discriminatorOptimizer, objective: objective, real: { [self] tape in
            let input = judged(tape.variable(real), draws: draws?.real, real: true)
            guard r1Gamma > 0 else { return RealSide(logits: discriminator(input), penalty: nil) }
            let (logits, penalty) = discriminatorWithR1Penalty(discriminator as! Sequential, real: input, gamma: r1Gamma)
            return RealSide(logits: logits, penalty: penalty)
        }, fake: { [self] tape in
            discriminator(judged(tape.variable(try samples()), draws: draws?.fake, real: false))
        })
    }

    /// G's update through the frozen D on G's samples of `latent` `[N, latent]`, augmented with
    /// `draws` if any; its result is G's loss.
    func generatorPhase(latent: Tensor, draws: Tensor? = nil) -> Phase<Variable, Variable> {
        .generator(generator, optimizer: generatorOptimizer, forward: { [self] tape in generator(tape.variable(latent)) },
                   loss: { [self] _, samples in
                       let loss = generatorLoss(objective, fakeLogits: discriminator(judged(samples, draws: draws, real: false)))
                       return (loss, loss)
                   })
    }
}
