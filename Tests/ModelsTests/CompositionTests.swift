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

/// The conditional generator: condition and noise split from one input, joined after the encoder.
final class ConditionalGeneratorTests: XCTestCase {
    func tiny() -> ConditionalGenerator {
        var random = RandomStream(seed: 5, purpose: "conditional")
        return ConditionalGenerator(encoder: Sequential([Linear(6, 3, random: &random), Tanh()]),
                                    decoder: Sequential([Linear(3 + 2, 4, random: &random)]), conditionShape: [6])
    }

    /// A condition `[1, 2, 3]` whose decoder makes 2 channels; the head sees them and the condition.
    func tinyWithHead() -> ConditionalGenerator {
        var random = RandomStream(seed: 6, purpose: "conditional-head")
        return ConditionalGenerator(encoder: Sequential([Linear(6, 3, random: &random), Tanh()]),
                                    decoder: Sequential([Linear(3 + 2, 12, random: &random), Reshape([2, 2, 3])]),
                                    head: Sequential([Conv2d(3, 2, kernel: 3, stride: 1, padding: 1, random: &random), Tanh()]),
                                    conditionShape: [1, 2, 3])
    }

    func testGradientsThroughTheHeadAndItsSkipOfTheCondition() {
        let generator = tinyWithHead()
        GradientCheck().check(input: Sample.tensor([3, 8], seed: 53), parameters: generator.parameters) { input in
            mseLoss(prediction: generator(input), target: Sample.tensor([3, 2, 2, 3], seed: 54))
        }
        XCTAssertEqual(generator.state.map(\.name), ["encoder.0.weight", "encoder.0.bias", "decoder.0.weight", "decoder.0.bias",
                                                     "head.0.weight", "head.0.bias"])
    }

    func testGradientsOfConditionNoiseAndBothParts() {
        let generator = tiny()
        GradientCheck().check(input: Sample.tensor([4, 8], seed: 50), parameters: generator.parameters) { input in
            mseLoss(prediction: generator(input), target: Sample.tensor([4, 4], seed: 51))
        }
    }

    func testStateNamesAndTheNoiseReachingOnlyTheDecoder() {
        let generator = tiny()
        XCTAssertEqual(generator.state.map(\.name), ["encoder.0.weight", "encoder.0.bias", "decoder.0.weight", "decoder.0.bias"])
        XCTAssertEqual(generator.allLayers.count, 6, "itself, two Sequentials, three layers")
        // The noise (columns 6 and 7) and the condition (0..<6) both steer the output.
        let input = Sample.tensor([1, 8], seed: 52)
        var other = input
        other.scalars[7] += 1
        XCTAssertNotEqual(generator(Variable(input)).value, generator(Variable(other)).value)
        var otherCondition = input
        otherCondition.scalars[0] += 1
        XCTAssertNotEqual(generator(Variable(input)).value, generator(Variable(otherCondition)).value)
    }

    func testCompletion28Shapes() {
        var random = RandomStream(seed: 1, purpose: "shapes")
        let generator = Completion28.generator(random: &random)
        let images = Sample.tensor([3, 1, 28, 28], seed: 53)
        let (top, bottom) = Completion28.halves(of: images)
        XCTAssertEqual(top.shape, [3, 1, 14, 28])
        XCTAssertEqual(Tensor.concatenate([top, bottom], axis: 2), images, "the halves put back together are the image")
        let input = Completion28.generatorInput(top: top, noise: Sample.tensor([3, Completion28.noiseSize], seed: 54))
        XCTAssertEqual(input.shape, [3, Completion28.inputSize])
        XCTAssertEqual(generator(Variable(input)).value.shape, [3, 1, 14, 28])
        XCTAssertEqual(AlphaGAN28.encoder(random: &random)(Variable(images)).value.shape, [3, AlphaGAN28.codeSize])
        XCTAssertEqual(AlphaGAN28.codeDiscriminator(random: &random)(Variable(Sample.tensor([3, 100], seed: 55))).value.shape, [3, 1])
    }
}

/// `Tape.backward`'s observer: each watched parameter is reported once, when no operation left
/// adds to its gradient, so a reduction started then sees the whole gradient.
final class BackwardObserverTests: XCTestCase {
    final class Recorder: BackwardObserver {
        let watched: [Parameter]
        /// Each report: the parameters and a copy of their gradients at that moment.
        var reports: [[(Parameter, Tensor)]] = []
        init(_ watched: [Parameter]) { self.watched = watched }
        func finished(_ parameters: [Parameter]) { reports.append(parameters.map { ($0, $0.gradient) }) }
    }

    func testEachParameterIsReportedOnceWithItsFinalGradientLastLayersFirst() {
        var random = RandomStream(seed: 3, purpose: "observer")
        let generator = Sequential([Linear(3, 6, random: &random), BatchNorm(6), Tanh(), Linear(6, 4, random: &random)])
        let discriminator = Sequential([Linear(4, 5, random: &random), LeakyReLU(slope: 0.2), Linear(5, 1, random: &random)])
        discriminator.isFrozen = true
        let tape = Tape()
        // The generator is used twice, so its parameters take two contributions each.
        let first = discriminator(generator(tape.variable(Sample.tensor([4, 3], seed: 1))))
        let second = discriminator(generator(tape.variable(Sample.tensor([4, 3], seed: 2))))
        let loss = generatorLoss(.nonSaturating, fakeLogits: first) + generatorLoss(.nonSaturating, fakeLogits: second)
        let recorder = Recorder(generator.parameters)
        tape.backward(from: loss, observer: recorder)

        XCTAssertEqual(recorder.reports.count, 2 * (generator.layers.count + discriminator.layers.count) + 3,
                       "a call after every operation: each layer twice, the two losses and their sum")
        let reported = recorder.reports.flatMap { $0 }
        XCTAssertEqual(reported.count, generator.parameters.count, "each watched parameter once, the frozen network's none")
        XCTAssertEqual(Set(reported.map { ObjectIdentifier($0.0) }), Set(generator.parameters.map(ObjectIdentifier.init)))
        for (parameter, gradient) in reported {
            XCTAssertEqual(gradient.scalars, parameter.gradient.scalars, "complete when reported")
            XCTAssertNotEqual(gradient.scalars.map(abs).max(), 0)
        }
        let order = reported.map { parameter in generator.parameters.firstIndex { $0 === parameter.0 }! }
        XCTAssertEqual(order, [4, 5, 2, 3, 0, 1], "the last layer's weight and bias first, the first layer's last")
    }
}
