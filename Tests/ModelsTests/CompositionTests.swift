import Models
import TestSupport
import XCTest

/// Gradients through compositions: a generator feeding a discriminator, a network used twice
/// in one step, and a frozen network in the path.
final class CompositionTests: XCTestCase {
    let check = GradientCheck()

    func smallGenerator() -> Sequential {
        var random = RandomStream(seed: 1, purpose: "generator")
        return Sequential([Linear(3, 6, random: &random), BatchNorm(6), Tanh(), Linear(6, 4, random: &random)])
    }

    func smallDiscriminator() -> Sequential {
        var random = RandomStream(seed: 2, purpose: "discriminator")
        return Sequential([Linear(4, 5, random: &random), LeakyReLU(slope: 0.2), Linear(5, 1, random: &random)])
    }

    func testGeneratorUsedTwiceInOneStep() {
        // Alpha-GAN's pattern: G on an encoded code and on a prior sample, losses summed.
        let generator = smallGenerator(), discriminator = smallDiscriminator()
        let prior = Sample.tensor([4, 3], seed: 40)
        check.check(input: Sample.tensor([4, 3], seed: 41), parameters: generator.parameters + discriminator.parameters) { code, tape in
            let onCode = discriminator(generator(code))
            let onPrior = discriminator(generator(tape.variable(prior)))
            return generatorLoss(.nonSaturating, fakeLogits: onCode) + generatorLoss(.leastSquares, fakeLogits: onPrior)
        }
    }

    func testFrozenDiscriminatorPassesGradientsButComputesNoneOfItsOwn() {
        let generator = smallGenerator(), discriminator = smallDiscriminator()
        let z = Sample.tensor([4, 3], seed: 42)
        func loss(_ input: Variable) -> Variable { generatorLoss(.nonSaturating, fakeLogits: discriminator(generator(input))) }

        let reference = Tape()
        reference.backward(from: loss(reference.variable(z)))
        let expected = generator.parameters.map(\.gradient)
        generator.zeroGradients()
        discriminator.zeroGradients()

        discriminator.isFrozen = true
        XCTAssertTrue(discriminator.isFrozen)
        let tape = Tape()
        tape.backward(from: loss(tape.variable(z)))
        for (parameter, gradient) in zip(generator.parameters, expected) {
            assertClose(parameter.gradient.scalars, gradient.scalars, rtol: 1e-6, "generator gradient through a frozen D")
        }
        for parameter in discriminator.parameters {
            XCTAssertTrue(parameter.gradient.scalars.allSatisfy { $0 == 0 }, "a frozen D accumulates nothing")
        }
        check.check(input: z, inputRequiresGradient: false, parameters: generator.parameters) { loss($0) }
    }

    func testFrozenGeneratorOnConstantInputRecordsNothing() {
        // D's phase: samples from a frozen G on constant noise are constants; no tape entries at all.
        let generator = smallGenerator(), discriminator = smallDiscriminator()
        generator.isFrozen = true
        let tape = Tape()
        let fake = generator(tape.variable(Sample.tensor([4, 3], seed: 43)))
        XCTAssertFalse(fake.requiresGradient)
        XCTAssertEqual(tape.count, 0)
        let loss = discriminatorLoss(.hinge, realLogits: discriminator(tape.variable(Sample.tensor([4, 4], seed: 44))), fakeLogits: discriminator(fake))
        XCTAssertGreaterThan(tape.count, 0)
        tape.backward(from: loss)
        XCTAssertEqual(tape.count, 0, "backward clears the tape")
        XCTAssertTrue(discriminator.parameters.contains { $0.gradient.scalars.contains { $0 != 0 } })
    }

    func testInferenceWithoutTapeKeepsNothing() {
        let generator = smallGenerator()
        let output = generator(Variable(Sample.tensor([2, 3], seed: 45)))
        XCTAssertFalse(output.requiresGradient)
        XCTAssertEqual(output.value.shape, [2, 4])
    }

    func testGradientsAccumulateOverUsesUntilZeroed() {
        var random = RandomStream(seed: 3, purpose: "linear")
        let layer = Linear(2, 2, random: &random)
        let x = Sample.tensor([3, 2], seed: 46)
        let once = Tape()
        once.backward(from: layer(once.variable(x)).mean())
        let single = layer.weight.gradient
        let twice = Tape()
        twice.backward(from: layer(twice.variable(x)).mean())
        assertClose(layer.weight.gradient.scalars, (single * 2).scalars, rtol: 1e-6, "two backward passes add up")
        layer.weight.zeroGradient()
        XCTAssertTrue(layer.weight.gradient.scalars.allSatisfy { $0 == 0 })
    }
}
