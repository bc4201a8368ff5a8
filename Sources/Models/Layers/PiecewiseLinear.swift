/// A layer that is affine between the kinks of its input (Linear, Maxout, a Sequential of them):
/// near a given input it equals its Jacobian there times the input, plus a constant.
///
/// That Jacobian, held at the kinks (Maxout's winning pieces) one input chose, is linear in the
/// direction and polynomial in the weights, so a penalty on the input gradient (R1) is
/// differentiated by the ordinary tape with no second-order pass.
public protocol PiecewiseLinear: Layer {
    /// The layer applied to `input` `[N, in]`, with its Jacobian there.
    func linearized(_ input: Variable) -> Linearization
}

/// A piecewise-linear layer at one input `[N, in]`; each row of the batch has its own Jacobian J.
public struct Linearization {
    /// The layer's output at the input `[N, out]`.
    public let output: Variable
    /// J·direction, row by row: `[N, in]` → `[N, out]`, recorded on the direction's tape with
    /// gradients into the weights; the kinks stay where the input put them.
    public let jacobian: (Variable) -> Variable
    /// Jᵀ·v, row by row: `[N, out]` → `[N, in]`, the input gradient of Σ v·output; records nothing.
    public let transposedJacobian: (Tensor) -> Tensor
}

extension Sequential: PiecewiseLinear {
    /// Every layer must be piecewise linear (`isPiecewiseLinear`).
    public func linearized(_ input: Variable) -> Linearization {
        var output = input
        var parts: [Linearization] = []
        for layer in layers {
            guard let layer = layer as? PiecewiseLinear else { preconditionFailure("\(type(of: layer)) is not piecewise linear") }
            parts.append(layer.linearized(output))
            output = parts.last!.output
        }
        return Linearization(output: output, jacobian: { direction in parts.reduce(direction) { $1.jacobian($0) } },
                             transposedJacobian: { v in parts.reversed().reduce(v) { $1.transposedJacobian($0) } })
    }

    /// Whether `linearized` may be called: every layer, nested ones included, is piecewise linear.
    public var isPiecewiseLinear: Bool {
        layers.allSatisfy { ($0 as? Sequential)?.isPiecewiseLinear ?? ($0 is PiecewiseLinear) }
    }
}
