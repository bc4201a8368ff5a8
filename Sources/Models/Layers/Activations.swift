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
        return Variable.result(input.value.concurrentMap { $0 > 0 ? $0 : slope * $0 }, of: [input]) { dy in
            input.accumulate(input.value.concurrentZip(dy) { $0 > 0 ? $1 : slope * $1 })
        }
    }
}

/// `tanh(x)`; the backward uses the output: 1 − y².
public final class Tanh: Layer {
    public init() {}

    public func callAsFunction(_ input: Variable) -> Variable {
        let y = input.value.concurrentMap { tanh($0) }
        return Variable.result(y, of: [input]) { dy in input.accumulate(y.concurrentZip(dy) { (1 - $0 * $0) * $1 }) }
    }
}

/// `1 / (1 + e^(−x))`; the backward uses the output: y·(1 − y).
public final class Sigmoid: Layer {
    public init() {}

    public func callAsFunction(_ input: Variable) -> Variable {
        let y = input.value.concurrentMap(sigmoidValue)
        return Variable.result(y, of: [input]) { dy in input.accumulate(y.concurrentZip(dy) { $0 * (1 - $0) * $1 }) }
    }
}
