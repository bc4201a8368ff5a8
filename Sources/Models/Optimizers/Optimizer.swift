/// Updates a fixed list of parameters from their accumulated gradients.
public protocol Optimizer: AnyObject {
    var parameters: [Parameter] { get }
    /// How many updates have been applied.
    var stepCount: Int { get }
    /// Applies one update from the current gradients.
    func step()
}

extension Optimizer {
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
