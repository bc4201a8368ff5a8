import Models
import TestSupport
import XCTest

/// Every loss against finite differences and against values worked out by hand.
final class LossGradientTests: XCTestCase {
    let check = GradientCheck()
    let predictions = Sample.tensor([4, 3], seed: 30)
    let targets = Sample.tensor([4, 3], seed: 31)
    let binaryTargets = Tensor(shape: [4, 3], scalars: [1, 0, 1, 1, 0, 0, 1, 0, 1, 0, 1, 0])

    func testL1AndL2() {
        check.check(input: predictions) { l1Loss(prediction: $0, target: targets) }
        check.check(input: predictions) { mseLoss(prediction: $0, target: targets) }
        let p = Variable(Tensor(shape: [2], scalars: [1, -2])), t = Tensor(shape: [2], scalars: [0, 0])
        XCTAssertEqual(l1Loss(prediction: p, target: t).value.scalar, 1.5)
        XCTAssertEqual(mseLoss(prediction: p, target: t).value.scalar, 2.5)
    }

    /// MSGAN's term against finite differences in both outputs, and its value per pair: outputs 0.5
    /// apart from noise 2 apart give 1 / (0.25 + ε), outputs 1 apart from noise 1 apart 1 / (1 + ε).
    func testModeSeeking() {
        let distances: [Float] = [0.7, 1.3, 0.4, 2.0]
        check.check(input: predictions) { modeSeekingLoss(first: $0, second: Variable(targets), noiseDistances: distances) }
        check.check(input: predictions) { x, tape in
            modeSeekingLoss(first: tape.variable(targets, requiresGradient: true) * 1, second: x, noiseDistances: distances)
        }
        let first = Variable(Tensor(shape: [2, 2], scalars: [0.5, 0.5, 1, -1])), second = Variable(Tensor(shape: [2, 2], scalars: [0, 0, 0, 0]))
        let (halfApart, oneApart): (Float, Float) = (1 / (0.25 + 1e-5), 1 / (1 + 1e-5))
        XCTAssertEqual(modeSeekingLoss(first: first, second: second, noiseDistances: [2, 1]).value.scalar, (halfApart + oneApart) / 2, accuracy: 1e-3)
    }

    func testBinaryCrossEntropyWithLogits() {
        check.check(input: predictions) { binaryCrossEntropy(logits: $0, targets: binaryTargets) }
        check.check(input: predictions) { binaryCrossEntropy(logits: $0, target: 1) }
        // log 2 at logit 0; stays finite for extreme logits.
        XCTAssertEqual(binaryCrossEntropy(logits: Variable(Tensor(shape: [1], scalars: [0])), target: 1).value.scalar, 0.6931472, accuracy: 1e-6)
        XCTAssertEqual(binaryCrossEntropy(logits: Variable(Tensor(shape: [1], scalars: [-200])), target: 1).value.scalar, 200, accuracy: 1e-3)
    }

    func testSoftmaxCrossEntropy() {
        check.check(input: predictions) { softmaxCrossEntropy(logits: $0, labels: [0, 2, 1, 2]) }
        // Uniform logits over 3 classes: log 3.
        XCTAssertEqual(softmaxCrossEntropy(logits: Variable(Tensor(shape: [1, 3])), labels: [1]).value.scalar, 1.0986123, accuracy: 1e-6)
    }

    /// R1: its value is γ/2 · mean ‖∇ₓD‖² with the input gradient taken by central differences, and
    /// its gradient with respect to D's weights matches finite differences of that value.
    func testR1Penalty() {
        var random = Sample.stream
        let discriminator = Sequential([
            Maxout(2, units: 6, pieces: 3, random: &random), Maxout(6, units: 4, pieces: 3, random: &random), Linear(4, 1, random: &random),
        ])
        let (real, gamma) = (Sample.tensor([6, 2], seed: 32), Float(0.5))
        let tape = Tape()
        let (logits, penalty) = discriminatorWithR1Penalty(discriminator, real: tape.variable(real), gamma: gamma)
        XCTAssertEqual(logits.value.scalars, discriminator(Variable(real)).value.scalars)
        let step: Float = 1e-3
        var squaredNorms = [Float](repeating: 0, count: 6)
        for axis in 0..<2 {
            var shift = Tensor(shape: [6, 2])
            for row in 0..<6 { shift.scalars[row * 2 + axis] = step }
            let slope = (discriminator(Variable(real + shift)).value - discriminator(Variable(real - shift)).value) * (1 / (2 * step))
            for row in 0..<6 { squaredNorms[row] += slope.scalars[row] * slope.scalars[row] }
        }
        XCTAssertEqual(penalty.value.scalar, gamma / 2 * squaredNorms.reduce(0, +) / 6, accuracy: 1e-3 * penalty.value.scalar)

        // The penalty jumps where a weight moves a Maxout winner; a small step crosses fewer of those kinks.
        GradientCheck(epsilon: 1e-3).check(input: real, inputRequiresGradient: false, parameters: discriminator.parameters) { x, _ in
            discriminatorWithR1Penalty(discriminator, real: x, gamma: gamma).penalty
        }
    }

    func testAdversarialObjectivesForBothPlayers() {
        let real = Sample.tensor([5, 1], seed: 33, awayFromZero: 0.05).map { $0 + 0.3 }
        let fake = Sample.tensor([5, 1], seed: 34, awayFromZero: 0.05).map { $0 - 0.3 }
        for objective in AdversarialObjective.allCases {
            check.check(input: real) { discriminatorLoss(objective, realLogits: $0, fakeLogits: Variable(fake)) }
            check.check(input: fake) { discriminatorLoss(objective, realLogits: Variable(real), fakeLogits: $0) }
            check.check(input: fake) { generatorLoss(objective, fakeLogits: $0) }
        }
    }

    func testAdversarialObjectivesValuesAtKnownPoints() {
        let zero = Variable(Tensor(shape: [2, 1])), one = Variable(Tensor(shape: [2, 1], repeating: 1))
        XCTAssertEqual(discriminatorLoss(.nonSaturating, realLogits: zero, fakeLogits: zero).value.scalar, 2 * 0.6931472, accuracy: 1e-6)
        XCTAssertEqual(generatorLoss(.minimax, fakeLogits: zero).value.scalar, -0.6931472, accuracy: 1e-6)
        XCTAssertEqual(discriminatorLoss(.leastSquares, realLogits: one, fakeLogits: zero).value.scalar, 0)
        XCTAssertEqual(generatorLoss(.leastSquares, fakeLogits: zero).value.scalar, 0.5)
        XCTAssertEqual(discriminatorLoss(.hinge, realLogits: one, fakeLogits: zero).value.scalar, 1)
        XCTAssertEqual(discriminatorLoss(.wasserstein, realLogits: one, fakeLogits: zero).value.scalar, -1)
        XCTAssertEqual(generatorLoss(.wasserstein, fakeLogits: one).value.scalar, -1)
        XCTAssertEqual(AdversarialObjective(rawValue: "non-saturating"), .nonSaturating)
    }
}
