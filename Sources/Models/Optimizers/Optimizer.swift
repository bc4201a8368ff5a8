/// Updates a fixed list of parameters from their accumulated gradients.
public protocol Optimizer: AnyObject {
    var parameters: [Parameter] { get }
    /// How many updates have been applied.
    var stepCount: Int { get }
    /// The rate of the next `step()`.
    var learningRate: Float { get set }
    /// Applies one update from the current gradients at `learningRate` rather than the current
    /// rate: an update that lands after the trainer set the next step's rate.
    func step(learningRate: Float)
}

extension Optimizer {
    /// Applies one update from the current gradients.
    public func step() { step(learningRate: learningRate) }
    public func zeroGradients() { parameters.forEach { $0.zeroGradient() } }
}

/// A restored optimizer state that does not fit the parameters.
public struct OptimizerStateError: Error, CustomStringConvertible {
    public let description: String
}

/// `start + weight·(end − start)` as PyTorch's `lerp` computes it, so Adam's moments match bit for bit.
@inline(__always)
func lerp<Lanes: SIMD>(_ start: Lanes, _ end: Lanes, _ weight: Float) -> Lanes where Lanes.Scalar == Float {
    weight < 0.5 ? start + weight * (end - start) : end - (end - start) * (1 - weight)
}
