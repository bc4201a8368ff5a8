import Checkpoints
import Models
import TestSupport
import XCTest
@testable import Training

/// A deterministic N(0, scale²) tensor.
func randomTensor(_ shape: [Int], seed: UInt64, scale: Float = 1) -> Tensor {
    var random = RandomStream(seed: seed, purpose: "test-tensor")
    return random.normal(shape: shape, std: scale)
}

/// Central differences of `loss` for every element of `parameters`, against the gradients the
/// tape left in them. A small step, because these nets are piecewise linear (LeakyReLU, L1) and a
/// larger one crosses their kinks.
func assertGradientsMatchFiniteDifferences(_ parameters: [Parameter], _ label: String, epsilon: Float = 1e-3,
                                           file: StaticString = #filePath, line: UInt = #line, loss: () -> Float) {
    for (number, parameter) in parameters.enumerated() {
        let original = parameter.value
        var numeric: [Float] = []
        for index in 0..<original.count {
            parameter.value.scalars[index] = original.scalars[index] + epsilon
            let up = Double(loss())
            parameter.value.scalars[index] = original.scalars[index] - epsilon
            let down = Double(loss())
            parameter.value = original
            numeric.append(Float((up - down) / Double(2 * epsilon)))
        }
        assertClose(parameter.gradient.scalars, numeric, rtol: 2e-2, atol: 2e-3, "\(label): parameter \(number) \(original.shape)", file: file, line: line)
    }
}

/// Alpha-GAN's three phases on tiny networks: x `[N, 4]`, codes `[N, 2]`.
final class AlphaGANStepTests: XCTestCase {
    func makeStep(objective: AdversarialObjective = .nonSaturating, weight: Float = 3) -> AlphaGANStep {
        var random = RandomStream(seed: 11, purpose: "alpha-test")
        let encoder = Sequential([Linear(4, 2, random: &random)])
        let generator = Sequential([Linear(2, 4, random: &random), Tanh()])
        let discriminator = Sequential([Linear(4, 3, random: &random), LeakyReLU(slope: 0.2), Linear(3, 1, random: &random)])
        let code = Sequential([Linear(2, 3, random: &random), LeakyReLU(slope: 0.2), Linear(3, 1, random: &random)])
        func adam(_ network: Layer) -> Adam { Adam(parameters: network.parameters, learningRate: 1e-2, beta1: 0.5) }
        return AlphaGANStep(encoder: encoder, generator: generator, discriminator: discriminator, codeDiscriminator: code,
                            optimizers: (adam(encoder), adam(generator), adam(discriminator), adam(code)),
                            objective: objective, reconstructionWeight: weight, context: PhaseContext(reduction: reduction))
    }

    let reduction = ObservedReduction()

    let real = randomTensor([6, 4], seed: 1, scale: 0.8)
    let latent = randomTensor([6, 2], seed: 2)

    func testEncoderAndGeneratorPhaseGradients() {
        for objective in AdversarialObjective.allCases {
            let step = makeStep(objective: objective)
            step.discriminator.isFrozen = true
            step.codeDiscriminator.isFrozen = true
            let tape = Tape()
            tape.backward(from: step.encoderGeneratorLoss(real: tape.variable(real), latent: tape.variable(latent)).loss)
            XCTAssertTrue((step.discriminator.parameters + step.codeDiscriminator.parameters).allSatisfy { $0.gradient.scalars.allSatisfy { $0 == 0 } },
                          "frozen D and C get no gradient")
            assertGradientsMatchFiniteDifferences(step.encoder.parameters + step.generator.parameters, "E and G, \(objective)") {
                step.encoderGeneratorLoss(real: Variable(real), latent: Variable(latent)).loss.value.scalar
            }
        }
    }

    func testDiscriminatorPhaseGradients() {
        let step = makeStep()
        let (reconstructions, samples) = (randomTensor([6, 4], seed: 3, scale: 0.5), randomTensor([6, 4], seed: 4, scale: 0.5))
        let tape = Tape()
        tape.backward(from: step.discriminatorLoss(real: tape.variable(real), reconstructions: tape.variable(reconstructions),
                                                   samples: tape.variable(samples)).loss)
        assertGradientsMatchFiniteDifferences(step.discriminator.parameters, "D") {
            step.discriminatorLoss(real: Variable(real), reconstructions: Variable(reconstructions), samples: Variable(samples)).loss.value.scalar
        }
    }

    func testCodeDiscriminatorPhaseGradients() {
        let step = makeStep()
        let codes = randomTensor([6, 2], seed: 5, scale: 2)
        let tape = Tape()
        tape.backward(from: step.codeDiscriminatorLoss(prior: tape.variable(latent), codes: tape.variable(codes)))
        assertGradientsMatchFiniteDifferences(step.codeDiscriminator.parameters, "C") {
            step.codeDiscriminatorLoss(prior: Variable(latent), codes: Variable(codes)).value.scalar
        }
    }

    /// The encoder ends in an affine-free BatchNorm, so a training batch's codes have the prior's
    /// mean and variance per dimension; checkpoints from before it load their own layout.
    func testEncoderGivesCodesThePriorsMomentsAndOldCheckpointsKeepTheirLayout() throws {
        var random = RandomStream(seed: 3, purpose: .initialization)
        let encoder = AlphaGAN28.encoder(random: &random)
        let codes = encoder(Variable(randomTensor([32, 1, 28, 28], seed: 4))).value
        for dimension in [0, 57, 99] {
            let column = (0..<32).map { codes.scalars[$0 * 100 + dimension] }
            XCTAssertEqual(column.reduce(0, +) / 32, 0, accuracy: 1e-5)
            XCTAssertEqual(column.map { $0 * $0 }.reduce(0, +) / 32, 1, accuracy: 1e-2)
        }
        let definition = Preset.alphagan28.definition
        let current = try XCTUnwrap(definition.makeNetwork(named: "encoder", random: &random, stored: Set(encoder.state.map(\.name))))
        XCTAssertEqual(current.state.map(\.name), encoder.state.map(\.name))
        let old = Set(encoder.state.map(\.name).filter { !$0.hasPrefix("7.") })
        let legacy = try XCTUnwrap(definition.makeNetwork(named: "encoder", random: &random, stored: old))
        XCTAssertEqual(Set(legacy.state.map(\.name)), old)
    }

    func testCodeDiscriminatorCallsPriorSamplesReal() throws {
        // Codes far from the prior: a C trained by its phase must score prior samples as real.
        let step = makeStep()
        var random = RandomStream(seed: 6, purpose: "codes")
        for _ in 0..<300 {
            let prior = random.normal(shape: [16, 2])
            let codes = random.normal(shape: [16, 2], mean: 3)
            step.codeDiscriminator.zeroGradients()
            let tape = Tape()
            tape.backward(from: step.codeDiscriminatorLoss(prior: tape.variable(prior), codes: tape.variable(codes)))
            step.codeDiscriminatorOptimizer.step()
        }
        let prior = step.codeDiscriminator(Variable(random.normal(shape: [64, 2]))).value.meanSigmoid
        let codes = step.codeDiscriminator(Variable(random.normal(shape: [64, 2], mean: 3))).value.meanSigmoid
        XCTAssertGreaterThan(prior, 0.8, "prior samples are C's real class")
        XCTAssertLessThan(codes, 0.2, "the encoder's codes are C's fake class")
    }

    func testEachPhaseReducesExactlyTheNetworksItUpdates() throws {
        let step = makeStep()
        func ids(_ networks: [Layer]) -> [ObjectIdentifier] { networks.flatMap(\.parameters).map(ObjectIdentifier.init) }
        var reduced: [[ObjectIdentifier]] = []
        reduction.observe = { reduced.append($0.map(ObjectIdentifier.init)) }
        let before = [step.encoder, step.generator, step.discriminator, step.codeDiscriminator].map { $0.parameters.map(\.value) }
        let metrics = try step.iterate(nextBatch: { real }, noise: { _, _ in latent })
        XCTAssertEqual(reduced, [ids([step.encoder, step.generator]), ids([step.discriminator]), ids([step.codeDiscriminator])])
        let after = [step.encoder, step.generator, step.discriminator, step.codeDiscriminator].map { $0.parameters.map(\.value) }
        for (index, (old, new)) in zip(before, after).enumerated() { XCTAssertNotEqual(old, new, "network \(index) was updated") }
        XCTAssertFalse([step.encoder, step.generator, step.discriminator, step.codeDiscriminator].contains { $0.isFrozen }, "all left trainable")
        XCTAssertNotNil(metrics.reconstruction)
        XCTAssertNotNil(metrics.codeDiscriminatorLoss)
        XCTAssertTrue(metrics.present.allSatisfy { $0.value.isFinite })
    }
}
