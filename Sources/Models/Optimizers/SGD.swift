/// Stochastic gradient descent with momentum, PyTorch's update:
///
///     g ← ∇ + λ·θ;  b ← μ·b + (1 − dampening)·g  (b ← g on the first step);  θ ← θ − lr·(nesterov ? g + μ·b : b)
public final class SGD: Optimizer {
    public let parameters: [Parameter]
    public var learningRate: Float
    public let momentum: Float, dampening: Float, weightDecay: Float, nesterov: Bool
    public private(set) var stepCount = 0
    /// PyTorch's `momentum_buffer` per parameter; empty until the first step with momentum.
    public private(set) var momentumBuffers: [Tensor] = []

    public init(parameters: [Parameter], learningRate: Float, momentum: Float = 0, dampening: Float = 0,
                weightDecay: Float = 0, nesterov: Bool = false) {
        self.parameters = parameters
        (self.learningRate, self.momentum, self.dampening, self.weightDecay, self.nesterov) = (learningRate, momentum, dampening, weightDecay, nesterov)
    }

    public func step() {
        let firstStep = momentumBuffers.isEmpty
        if firstStep && momentum != 0 { momentumBuffers = parameters.map { Tensor(shape: $0.value.shape) } }
        for (index, parameter) in parameters.enumerated() {
            var g = parameter.gradient
            if weightDecay != 0 { g.add(parameter.value, scaledBy: weightDecay) }
            if momentum != 0 {
                momentumBuffers[index] = firstStep ? g : momentumBuffers[index].zip(g) { $0 * momentum + (1 - dampening) * $1 }
                g = nesterov ? g.zip(momentumBuffers[index]) { $0 + momentum * $1 } : momentumBuffers[index]
            }
            parameter.value.add(g, scaledBy: -learningRate)
        }
        stepCount += 1
    }

    /// Puts back a saved state; an empty `momentumBuffers` means no step has built them yet.
    public func restore(stepCount: Int, momentumBuffers: [Tensor]) throws {
        guard momentumBuffers.isEmpty || zip(momentumBuffers, parameters).allSatisfy({ $0.shape == $1.value.shape })
                && momentumBuffers.count == parameters.count else {
            throw OptimizerStateError(description: "SGD momentum buffers do not match the \(parameters.count) parameters")
        }
        self.stepCount = stepCount
        self.momentumBuffers = momentumBuffers
    }
}
