import Foundation

/// Elementwise activations: any input shape, output of the same shape.

/// `max(x, 0)`.
public final class ReLU: Layer {
    public init() {}
    public func callAsFunction(_ input: Variable) -> Variable { input.relu() }
}

/// `x` for x > 0, `slope·x` otherwise.
public final class LeakyReLU: Layer {
    public let slope: Float
    public init(slope: Float = 0.01) { self.slope = slope }

    public func callAsFunction(_ input: Variable) -> Variable {
        let slope = self.slope
        let y = input.value.elementwise { x, y, range in
            for i in range { y[i] = x[i] > 0 ? x[i] : slope * x[i] }
        }
        return Variable.result(y, of: [input]) { dy in
            input.accumulate(input.value.elementwise(with: dy) { x, dy, dx, range in
                for i in range { dx[i] = x[i] > 0 ? dy[i] : slope * dy[i] }
            })
        }
    }
}

/// `tanh(x)`; the backward uses the output: 1 − y².
public final class Tanh: Layer {
    public init() {}

    public func callAsFunction(_ input: Variable) -> Variable {
        let y = input.value.elementwise { x, y, range in for i in range { y[i] = tanh(x[i]) } }
        return Variable.result(y, of: [input]) { dy in
            input.accumulate(y.elementwise(with: dy) { y, dy, dx, range in for i in range { dx[i] = (1 - y[i] * y[i]) * dy[i] } })
        }
    }
}

