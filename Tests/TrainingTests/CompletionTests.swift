import Checkpoints
import Models
import TestSupport
import XCTest
@testable import Evaluation
@testable import Metrics
@testable import Training

/// completion28's step on a tiny conditional generator and discriminator, and the completion
/// metrics on inputs whose answers are known.
final class CompletionTests: XCTestCase {
    func makeStep(_ loss: CompletionLoss, modeSeeking: Float = 0) -> ConditionalStep {
        var random = RandomStream(seed: 21, purpose: "completion-test")
        let generator = ConditionalGenerator(
            encoder: Sequential([Linear(Completion28.halfSize, 3, random: &random), Tanh()]),
            decoder: Sequential([Linear(3 + Completion28.noiseSize, Completion28.halfSize, random: &random), Tanh(), Reshape(Completion28.halfShape)]),
            conditionShape: Completion28.halfShape)
        let discriminator = loss.usesDiscriminator ? Sequential([Flatten(), Linear(784, 1, random: &random)]) : nil
        return ConditionalStep(task: .completion, generator: generator, discriminator: discriminator,
                              generatorOptimizer: Adam(parameters: generator.parameters, learningRate: 1e-3),
                              discriminatorOptimizer: discriminator.map { Adam(parameters: $0.parameters, learningRate: 1e-3) },
                              loss: loss, objective: .nonSaturating, reconstructionWeight: 5, modeSeekingWeight: modeSeeking)
    }

    let images = randomTensor([3, 1, 28, 28], seed: 30, scale: 0.5)
    let noise = randomTensor([3, Completion28.noiseSize], seed: 31)

    func testGeneratorGradientsForEveryLoss() {
        // True bottoms of ±1.5, beyond tanh's reach, keep L1 off its kink at every pixel (a finite
        // difference across a kink measures neither side's slope); both signs of the slope are used.
        let top = Completion28.halves(of: images).top
        let bottom = Tensor(shape: [3, 1, 14, 28]) { $0 % 3 == 0 ? -1.5 : 1.5 }
        let input = Completion28.generatorInput(top: top, noise: noise)
        for loss in CompletionLoss.allCases {
            let step = makeStep(loss)
            step.discriminator?.isFrozen = true
            let tape = Tape()
            tape.backward(from: step.generatorLossOfItsOutput(condition: tape.variable(top), input: tape.variable(input), target: bottom).loss)
            // The decoder's first layer: 35 × 392 weights; its bias and the encoder's are checked whole.
            let checked = step.generator.parameters.filter { $0.value.count <= 2000 }
            assertGradientsMatchFiniteDifferences(checked, "G, \(loss.rawValue)") {
                step.generatorLossOfItsOutput(condition: Variable(top), input: Variable(input), target: bottom).loss.value.scalar
            }
        }
    }

    /// With the mode-seeking term, rows 2k and 2k + 1 share row 2k's top, firsts of pairs before
    /// seconds; the term is MSGAN's mean over pairs of 1 / (mean |G(c, z₁) − G(c, z₂)| / mean |z₁ − z₂| + ε),
    /// and G's gradients through it match finite differences.
    func testModeSeekingTermPairsRowsAndMatchesItsFormulaAndFiniteDifferences() {
        let step = makeStep(.adversarial, modeSeeking: 0.5)
        XCTAssertEqual(step.pairing(5).conditions, [0, 2, 0, 2, 4])
        XCTAssertEqual(step.pairing(5).noise, [0, 2, 1, 3, 4])
        XCTAssertEqual(makeStep(.adversarial).pairing(5).conditions, [0, 1, 2, 3, 4], "no pairing without the term")
        // Under --exact each shard is paired as a batch of its own, its firsts before its seconds.
        XCTAssertEqual(step.pairing(8, shards: 2).conditions, [0, 2, 0, 2, 4, 6, 4, 6])
        XCTAssertEqual(step.pairing(8, shards: 2).noise, [0, 2, 1, 3, 4, 6, 5, 7])
        XCTAssertEqual(step.pairRows(8, shards: 2).first, [0, 1, 4, 5])
        XCTAssertEqual(step.pairRows(8, shards: 2).second, [2, 3, 6, 7])
        XCTAssertEqual(makeStep(.l2, modeSeeking: 0.5).modeSeekingWeight, 0, "an explicit loss has no noise to reward")
        step.discriminator?.isFrozen = true
        let rows = step.pairing(4)
        let images = randomTensor([4, 1, 28, 28], seed: 34, scale: 0.5), noise = randomTensor([4, Completion28.noiseSize], seed: 35)
        let (top, bottom) = Completion28.halves(of: images)
        let (pairedTop, pairedBottom) = (top.rows(rows.conditions), bottom.rows(rows.conditions))
        let input = Completion28.generatorInput(top: pairedTop, noise: noise.rows(rows.noise))
        let generated = step.generator(Variable(input)).value
        let expected = (0..<2).map { p -> Float in
            let outputs = (generated.slice(p..<p + 1, axis: 0) - generated.slice(p + 2..<p + 3, axis: 0)).map { abs($0) }.mean()
            let draws = (noise.slice(2 * p..<2 * p + 1, axis: 0) - noise.slice(2 * p + 1..<2 * p + 2, axis: 0)).map { abs($0) }.mean()
            return 1 / (outputs / draws + 1e-5)
        }.reduce(0, +) / 2
        let withoutTerm = makeStep(.adversarial).generatorLossOfItsOutput(condition: Variable(pairedTop), input: Variable(input), target: pairedBottom).loss
        let withTerm = step.generatorLossOfItsOutput(condition: Variable(pairedTop), input: Variable(input), target: pairedBottom).loss
        XCTAssertEqual(withTerm.value.scalar - withoutTerm.value.scalar, 0.5 * expected, accuracy: 1e-3 * expected)
        let tape = Tape()
        tape.backward(from: step.generatorLossOfItsOutput(condition: tape.variable(pairedTop), input: tape.variable(input), target: pairedBottom).loss)
        assertGradientsMatchFiniteDifferences(step.generator.parameters.filter { $0.value.count <= 2000 }, "G with the mode-seeking term") {
            step.generatorLossOfItsOutput(condition: Variable(pairedTop), input: Variable(input), target: pairedBottom).loss.value.scalar
        }
    }

    func testExplicitLossesHaveNoDiscriminatorAndAdversarialOnesTrainIt() throws {
        for loss in CompletionLoss.allCases {
            let step = makeStep(loss)
            let before = step.discriminator?.parameters.map(\.value)
            let metrics = try step.iterate(nextBatch: { images }, noise: { _, _ in noise })
            XCTAssertEqual(metrics.discriminatorLoss != nil, loss.usesDiscriminator, loss.rawValue)
            XCTAssertNotNil(metrics.reconstruction)
            if let before { XCTAssertNotEqual(step.discriminator!.parameters.map(\.value), before, "\(loss.rawValue): D trained") }
        }
    }

    func testL2AndL1LossesAreTheirFormulas() {
        let (top, bottom) = Completion28.halves(of: images)
        let input = Completion28.generatorInput(top: top, noise: noise)
        for loss in [CompletionLoss.l2, .l1] {
            let step = makeStep(loss)
            let generated = step.generator(Variable(input)).value
            let difference = generated - bottom
            let expected = loss == .l2 ? (difference * difference).mean() : difference.map { abs($0) }.mean()
            XCTAssertEqual(step.generatorLossOfItsOutput(condition: Variable(top), input: Variable(input), target: bottom).loss.value.scalar, expected, accuracy: 1e-6)
        }
    }

    // MARK: Metrics on constructed inputs

    func testDiversityOfIdenticalCompletionsIsZeroAndOfTwoKnownOnesIsTheirSpread() {
        let one = randomTensor([1, 5, 1, 2, 3], seed: 32)
        XCTAssertEqual(CompletionMetrics.diversity(Tensor.concatenate(Array(repeating: one, count: 8), axis: 0)), 0, accuracy: 1e-6)
        // Two completions 0 and 1 at every pixel: the population standard deviation is 0.5.
        let pair = Tensor.concatenate([Tensor(shape: [1, 4, 7]), Tensor(shape: [1, 4, 7], repeating: 1)], axis: 0)
        XCTAssertEqual(CompletionMetrics.diversity(pair), 0.5, accuracy: 1e-6)
    }

    func testGradientMagnitudeOfARampAndSharpnessOfABlurredImage() {
        // A horizontal ramp rising 0.1 per pixel: every gradient is 0.1.
        let ramp = Tensor(shape: [1, 1, 4, 6]) { Float($0 % 6) * 0.1 }
        XCTAssertEqual(CompletionMetrics.gradientMagnitude(ramp), 0.1, accuracy: 1e-6)
        XCTAssertEqual(CompletionMetrics.gradientMagnitude(Tensor(shape: [2, 1, 5, 5], repeating: 0.3)), 0, "a flat image has no edges")

        let sharp = randomTensor([4, 1, 14, 28], seed: 33)
        var blurred = sharp
        for plane in 0..<4 {
            for y in 0..<14 {
                for x in 0..<28 {
                    var sum: Float = 0, count: Float = 0
                    for dy in -1...1 { for dx in -1...1 where (0..<14).contains(y + dy) && (0..<28).contains(x + dx) {
                        sum += sharp.scalars[plane * 392 + (y + dy) * 28 + x + dx]; count += 1
                    } }
                    blurred.scalars[plane * 392 + y * 28 + x] = sum / count
                }
            }
        }
        let sharpness = CompletionMetrics.gradientMagnitude(blurred) / CompletionMetrics.gradientMagnitude(sharp)
        XCTAssertLessThan(sharpness, 0.6, "a 3×3 box blur of noise keeps well under half its edges")
        // A flat image has no edges; a ramp rising by 1/28 a column has a step of 1/28 at every pixel.
        XCTAssertEqual(CompletionMetrics.gradientMagnitude(Tensor(shape: [1, 1, 14, 28], scalars: [Float](repeating: 0.3, count: 392))), 0)
        let columns = Tensor(shape: [1, 1, 14, 28], scalars: (0..<392).map { Float($0 % 28) / 28 })
        XCTAssertEqual(CompletionMetrics.gradientMagnitude(columns), 1 / 28.0, accuracy: 1e-6,
                       "the mean over the image's pixels of the forward differences' magnitude")
    }

    func testConfidenceIsTheMeanLargestProbability() {
        let probabilities = Tensor(shape: [2, 3], scalars: [0.7, 0.2, 0.1, 0.3, 0.6, 0.1])
        XCTAssertEqual(CompletionMetrics.confidence(probabilities), 0.65, accuracy: 1e-6)
    }
}

private extension ConditionalStep {
    /// G's loss on its own output for `input`, as the step's G phase computes it.
    func generatorLossOfItsOutput(condition: Variable, input: Variable, target: Tensor) -> (loss: Variable, l1: Float) {
        generatorLoss(condition: condition, input: input.value, generated: generator(input), target: target)
    }
}
