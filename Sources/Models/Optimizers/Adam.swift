import Foundation

/// Adam (Kingma & Ba 2015) with PyTorch's update, operation for operation:
///
///     g ← ∇ + λ·θ;  m ← lerp(m, g, 1 − β1);  v ← β2·v + (1 − β2)·g²
///     θ ← θ − (lr / (1 − β1ᵗ)) · m / (√v / √(1 − β2ᵗ) + ε)
///
/// `firstMoments` (PyTorch's `exp_avg`) and `secondMoments` (`exp_avg_sq`) are the state a
/// checkpoint stores; `restore` puts them back.
public final class Adam: Optimizer {
    public let parameters: [Parameter]
    public var learningRate: Float
    public let beta1: Float, beta2: Float, epsilon: Float, weightDecay: Float
    public private(set) var stepCount = 0
    public private(set) var firstMoments: [Tensor]
    public private(set) var secondMoments: [Tensor]

    public init(parameters: [Parameter], learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999,
                epsilon: Float = 1e-8, weightDecay: Float = 0) {
        self.parameters = parameters
        (self.learningRate, self.beta1, self.beta2, self.epsilon, self.weightDecay) = (learningRate, beta1, beta2, epsilon, weightDecay)
        firstMoments = parameters.map { Tensor(shape: $0.value.shape) }
        secondMoments = firstMoments
    }

    public func step() {
        stepCount += 1
        let correction1 = 1 - pow(Double(beta1), Double(stepCount))
        let correction2Root = (1 - pow(Double(beta2), Double(stepCount))).squareRoot()
        let stepSize = Float(Double(learningRate) / correction1)
        let (beta1, beta2, epsilon, weightDecay) = (self.beta1, self.beta2, self.epsilon, self.weightDecay)
        let root = Float(correction2Root)
        for (index, parameter) in parameters.enumerated() {
            parameter.value.scalars.withUnsafeMutableBufferPointer { theta in
                parameter.gradient.scalars.withUnsafeBufferPointer { gradient in
                    firstMoments[index].scalars.withUnsafeMutableBufferPointer { m in
                        secondMoments[index].scalars.withUnsafeMutableBufferPointer { v in
                            for i in theta.indices {
                                let g = weightDecay == 0 ? gradient[i] : gradient[i] + weightDecay * theta[i]
                                m[i] = lerp(m[i], g, 1 - beta1)
                                v[i] = v[i] * beta2 + (1 - beta2) * g * g
                                theta[i] -= stepSize * (m[i] / (v[i].squareRoot() / root + epsilon))
                            }
                        }
                    }
                }
            }
        }
    }

    /// Puts back a saved state; each moment must have its parameter's shape.
    public func restore(stepCount: Int, firstMoments: [Tensor], secondMoments: [Tensor]) throws {
        guard firstMoments.count == parameters.count, secondMoments.count == parameters.count else {
            throw OptimizerStateError(description: "Adam state has \(firstMoments.count) moments for \(parameters.count) parameters")
        }
        for (index, parameter) in parameters.enumerated()
        where firstMoments[index].shape != parameter.value.shape || secondMoments[index].shape != parameter.value.shape {
            throw OptimizerStateError(description: "Adam moment \(index) has shape \(firstMoments[index].shape), expected \(parameter.value.shape)")
        }
        self.stepCount = stepCount
        self.firstMoments = firstMoments
        self.secondMoments = secondMoments
    }
}
