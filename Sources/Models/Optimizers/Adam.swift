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
        // Apart, so the first step writes each without copying the other.
        firstMoments = parameters.map { Tensor(shape: $0.value.shape) }
        secondMoments = parameters.map { Tensor(shape: $0.value.shape) }
    }

    public func step(learningRate: Float) {
        stepCount += 1
        let correction1 = 1 - pow(Double(beta1), Double(stepCount))
        let correction2Root = (1 - pow(Double(beta2), Double(stepCount))).squareRoot()
        let stepSize = Float(Double(learningRate) / correction1)
        let update = Update(stepSize: stepSize, beta1: beta1, beta2: beta2, epsilon: epsilon,
                            weightDecay: weightDecay, root: Float(correction2Root))
        for (index, parameter) in parameters.enumerated() {
            parameter.value.scalars.withUnsafeMutableBufferPointer { theta in
                parameter.gradient.scalars.withUnsafeBufferPointer { gradient in
                    firstMoments[index].scalars.withUnsafeMutableBufferPointer { m in
                        secondMoments[index].scalars.withUnsafeMutableBufferPointer { v in
                            // Elementwise, so any split gives the same bits; one thread alone left
                            // the others waiting for a twelfth of a 2-thread dcgan28 step.
                            Parallel.forEach(theta.count) { range in
                                update.apply(theta: UnsafeMutableBufferPointer(rebasing: theta[range]),
                                             gradient: UnsafeBufferPointer(rebasing: gradient[range]),
                                             m: UnsafeMutableBufferPointer(rebasing: m[range]),
                                             v: UnsafeMutableBufferPointer(rebasing: v[range]))
                            }
                        }
                    }
                }
            }
        }
    }

    /// One step's constants, applied eight elements at a time: the step is elementwise and runs
    /// over every parameter on every rank, so one element at a time it took a sixth of a grid2d step.
    /// Each lane does the scalar operations in the scalar order (no fused multiply-add), so
    /// results stay bit-identical to PyTorch's.
    private struct Update {
        let stepSize: Float, beta1: Float, beta2: Float, epsilon: Float, weightDecay: Float, root: Float

        func apply(theta: UnsafeMutableBufferPointer<Float>, gradient: UnsafeBufferPointer<Float>,
                   m: UnsafeMutableBufferPointer<Float>, v: UnsafeMutableBufferPointer<Float>) {
            let count = theta.count
            var start = 0
            while start + Lanes.scalarCount <= count {
                let (t, m1, v1) = step(theta: load(theta, start), gradient: load(gradient, start), m: load(m, start), v: load(v, start))
                store(t, theta, start)
                store(m1, m, start)
                store(v1, v, start)
                start += Lanes.scalarCount
            }
            for i in start..<count {
                let (t, m1, v1) = step(theta: Lanes(repeating: theta[i]), gradient: Lanes(repeating: gradient[i]),
                                       m: Lanes(repeating: m[i]), v: Lanes(repeating: v[i]))
                (theta[i], m[i], v[i]) = (t[0], m1[0], v1[0])
            }
        }

        typealias Lanes = SIMD8<Float>

        @inline(__always)
        private func step(theta: Lanes, gradient: Lanes, m: Lanes, v: Lanes) -> (theta: Lanes, m: Lanes, v: Lanes) {
            let g = weightDecay == 0 ? gradient : gradient + weightDecay * theta
            let m = lerp(m, g, 1 - beta1)
            let v = v * beta2 + (1 - beta2) * g * g
            return (theta - stepSize * (m / (v.squareRoot() / root + epsilon)), m, v)
        }

        @inline(__always)
        private func load(_ buffer: UnsafeMutableBufferPointer<Float>, _ start: Int) -> Lanes {
            UnsafeRawPointer(buffer.baseAddress! + start).loadUnaligned(as: Lanes.self)
        }

        @inline(__always)
        private func load(_ buffer: UnsafeBufferPointer<Float>, _ start: Int) -> Lanes {
            UnsafeRawPointer(buffer.baseAddress! + start).loadUnaligned(as: Lanes.self)
        }

        @inline(__always)
        private func store(_ lanes: Lanes, _ buffer: UnsafeMutableBufferPointer<Float>, _ start: Int) {
            UnsafeMutableRawPointer(buffer.baseAddress! + start).storeBytes(of: lanes, as: Lanes.self)
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
