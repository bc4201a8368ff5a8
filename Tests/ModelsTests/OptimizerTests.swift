import Models
import TestSupport
import XCTest

final class OptimizerTests: XCTestCase {
    func testAdamFirstStepMovesEachWeightByTheLearningRate() {
        // With bias correction, step one is lr·g/(|g| + ε'): a move of lr against the gradient's sign.
        let parameter = Parameter(Tensor(shape: [3], scalars: [1, 2, 3]))
        parameter.gradient = Tensor(shape: [3], scalars: [0.5, -2, 0])
        let adam = Adam(parameters: [parameter], learningRate: 0.1)
        adam.step()
        assertClose(parameter.value.scalars, [0.9, 2.1, 3], rtol: 1e-6, "after one step")
        XCTAssertEqual(adam.stepCount, 1)
        assertClose(adam.firstMoments[0].scalars, [0.05, -0.2, 0], rtol: 1e-6, "exp_avg")
        assertClose(adam.secondMoments[0].scalars, [0.00025, 0.004, 0], rtol: 1e-5, "exp_avg_sq")
    }

    func testAdamRestoredStateContinuesIdentically() throws {
        func makeParameter() -> Parameter { Parameter(Tensor(shape: [2], scalars: [1, -1])) }
        let original = makeParameter()
        let adam = Adam(parameters: [original], learningRate: 0.01, beta1: 0.5, weightDecay: 0.1)
        for step in 0..<3 {
            original.gradient = Tensor(shape: [2], scalars: [Float(step) + 0.5, -0.25])
            adam.step()
        }
        let copy = makeParameter()
        copy.value = original.value
        let resumed = Adam(parameters: [copy], learningRate: 0.01, beta1: 0.5, weightDecay: 0.1)
        try resumed.restore(stepCount: adam.stepCount, firstMoments: adam.firstMoments, secondMoments: adam.secondMoments)
        for optimizer in [adam, resumed] {
            optimizer.parameters[0].gradient = Tensor(shape: [2], scalars: [0.75, 0.5])
            optimizer.step()
        }
        XCTAssertEqual(copy.value, original.value, "bit for bit")
        XCTAssertThrowsError(try resumed.restore(stepCount: 1, firstMoments: [Tensor(shape: [3])], secondMoments: [Tensor(shape: [3])]))
    }
}
