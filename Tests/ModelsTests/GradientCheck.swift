import Models
import TestSupport
import XCTest

/// Compares the tape's gradients with central finite differences of the same scalar function.
///
/// `loss` builds the scalar from an input variable; it is called on a tape once for the analytic
/// gradients and then without a tape for each perturbed value. Large tensors are checked on a
/// sample of their elements.
struct GradientCheck {
    var epsilon: Float = 1e-2
    var rtol: Float = 2e-2
    var atol: Float = 2e-3
    var samplesPerTensor = 48

    func check(input: Tensor, inputRequiresGradient: Bool = true, parameters: [Parameter] = [],
               file: StaticString = #filePath, line: UInt = #line, loss: (Variable) -> Variable) {
        check(input: input, inputRequiresGradient: inputRequiresGradient, parameters: parameters, file: file, line: line) { x, _ in loss(x) }
    }

    /// `loss` also gets the tape, to put further inputs on it.
    func check(input: Tensor, inputRequiresGradient: Bool = true, parameters: [Parameter] = [],
               file: StaticString = #filePath, line: UInt = #line, loss: (Variable, Tape) -> Variable) {
        parameters.forEach { $0.zeroGradient() }
        let tape = Tape()
        let x = tape.variable(input, requiresGradient: inputRequiresGradient)
        let result = loss(x, tape)
        tape.backward(from: result)

        if inputRequiresGradient {
            let analytic = x.gradient ?? Tensor(shape: input.shape)
            var perturbed = input
            compare(analytic: analytic, label: "input", file: file, line: line) { index, delta in
                perturbed.scalars[index] = input.scalars[index] + delta
                defer { perturbed.scalars[index] = input.scalars[index] }
                let scratch = Tape()
                return loss(scratch.variable(perturbed), scratch).value.scalar
            }
        }
        for (number, parameter) in parameters.enumerated() {
            let original = parameter.value
            compare(analytic: parameter.gradient, label: "parameter \(number) \(original.shape)", file: file, line: line) { index, delta in
                parameter.value.scalars[index] = original.scalars[index] + delta
                defer { parameter.value.scalars[index] = original.scalars[index] }
                let scratch = Tape()
                return loss(scratch.variable(input), scratch).value.scalar
            }
        }
    }

    private func compare(analytic: Tensor, label: String, file: StaticString, line: UInt,
                         evaluate: (Int, Float) -> Float) {
        var random = RandomStream(seed: 99, purpose: "gradient-check")
        let indices = analytic.count <= samplesPerTensor
            ? Array(0..<analytic.count) : (0..<samplesPerTensor).map { _ in random.integer(below: analytic.count) }
        let numeric = indices.map { index in
            (Double(evaluate(index, epsilon)) - Double(evaluate(index, -epsilon))) / Double(2 * epsilon)
        }
        assertClose(indices.map { analytic.scalars[$0] }, numeric.map(Float.init), rtol: rtol, atol: atol,
                    "gradient of \(label)", file: file, line: line)
    }
}

/// A scalar that weighs every element of `output` differently, so no gradient cancels by symmetry.
func probe(_ output: Variable, seed: UInt64 = 3) -> Variable {
    output.weightedSum(Sample.tensor(output.value.shape, seed: seed))
}

/// Deterministic test data.
enum Sample {
    static func tensor(_ shape: [Int], seed: UInt64, scale: Float = 1, awayFromZero: Float = 0) -> Tensor {
        var random = RandomStream(seed: seed, purpose: "sample")
        return random.normal(shape: shape, std: scale).map { value in
            // Keeps values off the kinks of ReLU-like functions, where finite differences are meaningless.
            abs(value) < awayFromZero ? (value < 0 ? -awayFromZero : awayFromZero) : value
        }
    }

    static var stream: RandomStream { RandomStream(seed: 7, purpose: "layers") }
}
