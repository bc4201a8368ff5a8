/// A layer that is affine between the kinks of its input (Linear, Maxout, a Sequential of them):
/// near a given input it equals its Jacobian there times the input, plus a constant.
///
/// That Jacobian, held at the kinks (Maxout's winning pieces) one input chose, is linear in the
/// direction and polynomial in the weights, so a penalty on the input gradient (R1) is
/// differentiated by the ordinary tape with no second-order pass.
public protocol PiecewiseLinear: Layer {
    /// The layer applied to `input` `[N, in]`, and its Jacobian at `input` applied to a direction
    /// `[N, in]` → `[N, out]`, row by row. The Jacobian records on its direction's tape with
    /// gradients into the weights; the kinks stay where `input` put them.
    func linearized(_ input: Variable) -> (output: Variable, jacobian: (Variable) -> Variable)
}

extension Sequential: PiecewiseLinear {
    /// Every layer must be piecewise linear (`isPiecewiseLinear`).
    public func linearized(_ input: Variable) -> (output: Variable, jacobian: (Variable) -> Variable) {
        var output = input
        var jacobians: [(Variable) -> Variable] = []
        for layer in layers {
            guard let layer = layer as? PiecewiseLinear else { preconditionFailure("\(type(of: layer)) is not piecewise linear") }
            let linearized = layer.linearized(output)
            output = linearized.output
            jacobians.append(linearized.jacobian)
        }
        return (output, { direction in jacobians.reduce(direction) { $1($0) } })
    }

    /// Whether `linearized` may be called: every layer, nested ones included, is piecewise linear.
    public var isPiecewiseLinear: Bool {
        layers.allSatisfy { ($0 as? Sequential)?.isPiecewiseLinear ?? ($0 is PiecewiseLinear) }
    }
}
