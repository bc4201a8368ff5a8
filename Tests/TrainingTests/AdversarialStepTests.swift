import Checkpoints
import Datasets
import Models
import TestSupport
import XCTest
@testable import Training

/// A reduction that lets a test see each phase's parameters, in place of the all-reduce; with
/// `inBackground`, it sees them when the phase's update lands, as gradients still in flight.
final class ObservedReduction: GradientReduction {
    var observe: ([Parameter]) -> Void = { _ in }
    var inBackground = false
    func start(_ parameters: [Parameter]) -> any GradientsInFlight { Observed(reduction: self, parameters: parameters) }

    final class Observed: GradientsInFlight {
        let reduction: ObservedReduction, parameters: [Parameter]
        init(reduction: ObservedReduction, parameters: [Parameter]) { (self.reduction, self.parameters) = (reduction, parameters) }
        var watched: [Parameter] { [] }
        func finished(_ parameters: [Parameter]) {}
        func sendRest() -> Bool {
            if !reduction.inBackground { reduction.observe(parameters) }
            return reduction.inBackground
        }
        func wait() { if reduction.inBackground { reduction.observe(parameters) } }
    }
}

final class AdversarialStepTests: XCTestCase {
    let reduction = ObservedReduction()

    /// A step of `preset`'s networks, made from the same seed every time, reducing through `reduction`.
    func makeStep(_ preset: Preset = .grid2d, objective: AdversarialObjective = .nonSaturating,
                  reduction: (any GradientReduction)? = nil) -> AdversarialStep {
        var random = RandomStream(seed: 3, purpose: "step-test")
        let generator = preset.makeGenerator(random: &random)
        let discriminator = preset.makeDiscriminator(random: &random)
        return AdversarialStep(generator: generator, discriminator: discriminator,
                               generatorOptimizer: Adam(parameters: generator.parameters, learningRate: 1e-3),
                               discriminatorOptimizer: Adam(parameters: discriminator.parameters, learningRate: 1e-3),
                               objective: objective, context: PhaseContext(reduction: reduction ?? self.reduction))
    }

    /// One iteration on the batch of seed 1 and the noise of seed 2, which both phases use.
    func iterate(_ step: AdversarialStep) throws -> StepMetrics {
        try step.iterate(nextBatch: { batch(1, [16, 2]) }, noise: { _, _ in batch(2, [16, 2]) })
    }

    func batch(_ seed: UInt64, _ shape: [Int]) -> Tensor {
        var random = RandomStream(seed: seed, purpose: "batch")
        return random.normal(shape: shape)
    }

    func testEachPhaseReducesOnlyTheNetworkItUpdates() throws {
        let step = makeStep()
        var calls: [String] = []
        let discriminatorParameters = step.discriminator.parameters.map(ObjectIdentifier.init)
        let generatorParameters = step.generator.parameters.map(ObjectIdentifier.init)
        reduction.observe = { parameters in
            let ids = parameters.map(ObjectIdentifier.init)
            if ids == discriminatorParameters {
                calls.append("D")
                // The D phase computed no generator gradient at all.
                XCTAssertTrue(step.generator.parameters.allSatisfy { $0.gradient.scalars.allSatisfy { $0 == 0 } })
            } else if ids == generatorParameters {
                calls.append("G")
            } else {
                XCTFail("reduced a mix of parameters")
            }
        }
        _ = try iterate(step)
        XCTAssertEqual(calls, ["D", "G"])
    }

    /// With its gradients reduced in the background, G's update lands only when the next phase or
    /// the trainer needs G, at the learning rate of its own step, and then equals the update made
    /// at once; what waits for it runs after it.
    func testTheGeneratorUpdateInFlightLandsAsIfMadeAtOnce() throws {
        let atOnce = makeStep()
        let background = ObservedReduction()
        background.inBackground = true
        var random = RandomStream(seed: 3, purpose: "step-test")
        let generator = Preset.grid2d.makeGenerator(random: &random), discriminator = Preset.grid2d.makeDiscriminator(random: &random)
        let overlapping = AdversarialStep(generator: generator, discriminator: discriminator,
                                          generatorOptimizer: Adam(parameters: generator.parameters, learningRate: 1e-3),
                                          discriminatorOptimizer: Adam(parameters: discriminator.parameters, learningRate: 1e-3),
                                          objective: .nonSaturating, context: PhaseContext(reduction: background))
        let initial = generator.parameters.map(\.value)
        _ = try iterate(atOnce)
        _ = try iterate(overlapping)
        XCTAssertEqual(discriminator.parameters.map(\.value), atOnce.discriminator.parameters.map(\.value), "D's update landed in G's phase")
        XCTAssertEqual(generator.parameters.map(\.value), initial, "G's update is still in flight")
        var landed = false
        overlapping.runner.whenSettled { landed = true }
        XCTAssertFalse(landed)

        // The trainer sets the next step's rate before the update lands; the update keeps its own.
        overlapping.generatorOptimizer.learningRate = 0.5
        try overlapping.runner.settle()
        XCTAssertTrue(landed)
        XCTAssertEqual(generator.parameters.map(\.value), atOnce.generator.parameters.map(\.value))

        // Left in flight, the update lands when the next D phase needs G's samples.
        overlapping.generatorOptimizer.learningRate = 1e-3
        for _ in 0..<2 {
            _ = try iterate(atOnce)
            _ = try iterate(overlapping)
        }
        try overlapping.runner.settle()
        XCTAssertEqual(generator.parameters.map(\.value), atOnce.generator.parameters.map(\.value))
        XCTAssertEqual(discriminator.parameters.map(\.value), atOnce.discriminator.parameters.map(\.value))
    }

    /// A phase that fails (here its all-reduce) leaves no network frozen behind it.
    func testAPhaseThatThrowsLeavesEveryNetworkAsItWas() throws {
        struct LinkDown: Error {}
        final class Failing: GradientReduction, GradientsInFlight {
            func start(_ parameters: [Parameter]) -> any GradientsInFlight { self }
            var watched: [Parameter] { [] }
            func finished(_ parameters: [Parameter]) {}
            func sendRest() throws -> Bool { throw LinkDown() }
            func wait() {}
        }
        let failing = makeStep(reduction: Failing())
        let (generator, discriminator) = (failing.generator, failing.discriminator)
        XCTAssertThrowsError(try failing.runner.run(failing.discriminatorPhase(real: batch(1, [16, 2]), latent: batch(2, [16, 2]))))
        XCTAssertThrowsError(try failing.runner.run(failing.generatorPhase(latent: batch(3, [16, 2]))))
        XCTAssertFalse(generator.isFrozen || discriminator.isFrozen, "a failed phase left a network frozen")
    }

    func testGeneratorPhaseLeavesDiscriminatorGradientsAsTheDPhaseLeftThem() throws {
        let step = makeStep()
        var afterDiscriminatorPhase: [Tensor] = []
        reduction.observe = { parameters in
            if afterDiscriminatorPhase.isEmpty { afterDiscriminatorPhase = step.discriminator.parameters.map(\.gradient) }
        }
        _ = try iterate(step)
        XCTAssertEqual(step.discriminator.parameters.map(\.gradient), afterDiscriminatorPhase, "G's phase added nothing to D's gradients")
        XCTAssertFalse(step.discriminator.isFrozen, "D is left trainable")
    }

    /// With R1, D's gradient is the objective's plus the penalty's on the real batch, and the
    /// penalty is reported apart from D's loss.
    func testR1AddsItsGradientToTheDiscriminatorPhase() throws {
        let real = batch(1, [16, 2])
        func discriminatorGradients(r1Gamma: Float) throws -> ([Tensor], StepMetrics) {
            let step = makeStep()
            step.r1Gamma = r1Gamma
            var gradients: [Tensor] = []
            reduction.observe = { parameters in if gradients.isEmpty { gradients = parameters.map(\.gradient) } }
            let metrics = StepMetrics(try step.runner.run(step.discriminatorPhase(real: real, latent: batch(2, [16, 2]))))
            return (gradients, metrics)
        }
        let (plain, plainMetrics) = try discriminatorGradients(r1Gamma: 0)
        let (penalised, metrics) = try discriminatorGradients(r1Gamma: 0.5)
        XCTAssertNil(plainMetrics.gradientPenalty)
        XCTAssertEqual(metrics.discriminatorLoss, plainMetrics.discriminatorLoss)

        let discriminator = makeStep().discriminator as! Sequential
        let tape = Tape()
        let penalty = discriminatorWithR1Penalty(discriminator, real: tape.variable(real), gamma: 0.5).penalty
        tape.backward(from: penalty)
        XCTAssertEqual(metrics.gradientPenalty, penalty.value.scalar)
        XCTAssertGreaterThan(penalty.value.scalar, 0)
        for ((withPenalty, without), parameter) in zip(zip(penalised, plain), discriminator.parameters) {
            assertClose(withPenalty.scalars, (without + parameter.gradient).scalars, rtol: 1e-5, atol: 1e-7, "D's gradient")
        }
    }

    /// D's loss is the objective's on the networks as they were; G's, on the samples D judged,
    /// through D as it is after its update.
    func testStepsReportTheirObjectivesLossesAndTrainBothNetworks() throws {
        for objective in AdversarialObjective.allCases {
            let step = makeStep(objective: objective)
            let generatorBefore = step.generator.parameters.map(\.value)
            let discriminatorBefore = step.discriminator.parameters.map(\.value)
            let (real, latent) = (Variable(batch(1, [16, 2])), Variable(batch(2, [16, 2])))
            let samples = Variable(step.generator(latent).value)
            let expectedD = discriminatorLoss(objective, realLogits: step.discriminator(real), fakeLogits: step.discriminator(samples)).value.scalar
            let metrics = try iterate(step)
            XCTAssertEqual(try XCTUnwrap(metrics.discriminatorLoss), expectedD, accuracy: 1e-5 * max(1, abs(expectedD)), "\(objective): D's loss")
            let expectedG = generatorLoss(objective, fakeLogits: step.discriminator(samples)).value.scalar
            XCTAssertEqual(metrics.generatorLoss, expectedG, accuracy: 1e-5 * max(1, abs(expectedG)), "\(objective): G's loss")
            XCTAssertTrue((0...1).contains(metrics.realScore ?? -1) && (0...1).contains(metrics.fakeScore ?? -1), "\(objective)")
            XCTAssertNotEqual(step.generator.parameters.map(\.value), generatorBefore, "\(objective): G moved")
            XCTAssertNotEqual(step.discriminator.parameters.map(\.value), discriminatorBefore, "\(objective): D moved")
            XCTAssertEqual(step.generatorOptimizer.stepCount, 1)
            XCTAssertEqual(step.discriminatorOptimizer.stepCount, 1)
        }
    }

    /// With DiffAugment, D judges augmented real and generated images in its phase, and G learns
    /// through the augmentation in its own, on the samples D judged: both networks' gradients are
    /// those of the losses written out by hand on the augmented images, each side with its own draws.
    func testAugmentationReachesBothPhasesWithItsOwnDraws() throws {
        let step = makeStep(.dcgan28, objective: .hinge)
        let discriminator = step.discriminator
        let augment = DiffAugment([.color, .translation, .cutout, .mirror])
        step.augmentation = augment
        let seeds: [RandomPurpose: UInt64] = [.discriminatorNoise: 2, .augmentReal: 4, .augmentFake: 5, .augmentGenerator: 6]
        func noise(_ purpose: RandomPurpose) -> Tensor {
            batch(seeds[purpose]!, [4, purpose == .discriminatorNoise ? 100 : DiffAugment.drawsPerSample])
        }
        let real = batch(1, [4, 1, 28, 28]).map { max(-1, min(1, $0)) }
        var observed: [[Tensor]] = []
        reduction.observe = { observed.append($0.map(\.gradient)) }
        _ = try step.iterate(nextBatch: { real }, noise: { purpose, _ in noise(purpose) })

        // The same networks as they were, for the losses by hand.
        let twin = makeStep(.dcgan28, objective: .hinge)
        let (twinG, twinD) = (twin.generator, twin.discriminator)
        let tape = Tape()
        let fake = twinG(Variable(noise(.discriminatorNoise))).value
        let dLoss = discriminatorRealLoss(.hinge, realLogits: twinD(augment(tape.variable(real), draws: noise(.augmentReal), real: true)))
            + discriminatorFakeLoss(.hinge, fakeLogits: twinD(augment(tape.variable(fake), draws: noise(.augmentFake), real: false)))
        tape.backward(from: dLoss)
        for (index, parameter) in twinD.parameters.enumerated() {
            assertClose(observed[0][index].scalars, parameter.gradient.scalars, rtol: 1e-4, atol: 1e-6, "D's gradient \(index)")
        }
        // G's phase runs through D as D's update left it.
        for (twin, trained) in zip(twinD.state, discriminator.state) { twin.entry.tensor = trained.entry.tensor }
        let generatorTape = Tape()
        let samples = twinG(generatorTape.variable(noise(.discriminatorNoise)))
        generatorTape.backward(from: generatorLoss(.hinge, fakeLogits: twinD(augment(samples, draws: noise(.augmentGenerator), real: false))))
        for (index, parameter) in twinG.parameters.enumerated() {
            assertClose(observed[1][index].scalars, parameter.gradient.scalars, rtol: 1e-4, atol: 1e-6, "G's gradient \(index)")
        }
    }
}
