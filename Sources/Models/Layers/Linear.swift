/// A fully connected layer: `y = x Wᵀ + b`.
///
/// - input `[N, inFeatures]`, output `[N, outFeatures]`
/// - `weight` `[outFeatures, inFeatures]`, `bias` `[outFeatures]` (PyTorch's layout)
public final class Linear: Layer {
    public let inFeatures: Int
    public let outFeatures: Int
    public let weight: Parameter
    public let bias: Parameter

    /// PyTorch's default initialisation: weight and bias uniform in ±1/√inFeatures.
    public init(_ inFeatures: Int, _ outFeatures: Int, random: inout RandomStream) {
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        let bound = 1 / Float(inFeatures).squareRoot()
        weight = Parameter(random.uniform(shape: [outFeatures, inFeatures], low: -bound, high: bound))
        bias = Parameter(random.uniform(shape: [outFeatures], low: -bound, high: bound))
    }

    public var state: [(name: String, entry: StateEntry)] { [("weight", .parameter(weight)), ("bias", .parameter(bias))] }

    public func callAsFunction(_ input: Variable) -> Variable { apply(input, withBias: true) }

    /// `direction · Wᵀ` `[N, in]` → `[N, out]`: the layer without its bias, which is its Jacobian.
    func jacobianProduct(_ direction: Variable) -> Variable { apply(direction, withBias: false) }

    /// `v · W` `[N, out]` → `[N, in]`: the transposed Jacobian, a constant.
    func transposedJacobianProduct(_ v: Tensor) -> Tensor {
        let batch = v.shape[0]
        return Tensor(shape: [batch, inFeatures], scalars: .filled(count: batch * inFeatures) {
            BLAS.gemm(m: batch, n: inFeatures, k: outFeatures, a: v.scalars, lda: outFeatures,
                      b: weight.value.scalars, ldb: inFeatures, c: $0, ldc: inFeatures)
        })
    }

    private func apply(_ input: Variable, withBias: Bool) -> Variable {
        let x = input.value
        precondition(x.rank == 2 && x.shape[1] == inFeatures, "Linear(\(inFeatures), \(outFeatures)) got input \(x.shape)")
        let batch = x.shape[0]
        var y = Tensor(shape: [batch, outFeatures])
        forward(x.scalars, into: &y.scalars, batch: batch, withBias: withBias)
        return Variable.result(y, of: [input], parameters: withBias ? [weight, bias] : [weight]) { dy in
            self.backward(dy, input: input, batch: batch, withBias: withBias)
        }
    }

    /// y[N, out] = x[N, in] · Wᵀ + b (y starts at 0 without the bias)
    private func forward(_ x: [Float], into y: inout [Float], batch: Int, withBias: Bool) {
        let (n, m, k) = (outFeatures, batch, inFeatures)
        y.withUnsafeMutableBufferPointer { out in
            if withBias {
                bias.value.scalars.withUnsafeBufferPointer { b in
                    for row in 0..<m { (out.baseAddress! + row * n).update(from: b.baseAddress!, count: n) }
                }
            }
            BLAS.gemm(transposeB: true, m: m, n: n, k: k, a: x, lda: k, b: weight.value.scalars, ldb: k, beta: 1, c: out.baseAddress!, ldc: n)
        }
    }

    /// dx[N, in] = dy · W;  dW[out, in] += dyᵀ · x;  db[out] += Σ_N dy
    private func backward(_ dy: Tensor, input: Variable, batch: Int, withBias: Bool) {
        if weight.requiresGradient {
            BLAS.gemm(transposeA: true, m: outFeatures, n: inFeatures, k: batch, a: dy.scalars, lda: outFeatures,
                      b: input.value.scalars, ldb: inFeatures, beta: 1, c: &weight.gradient.scalars, ldc: inFeatures)
        }
        if withBias, bias.requiresGradient {
            bias.gradient.scalars.withUnsafeMutableBufferPointer { db in
                dy.scalars.withUnsafeBufferPointer { g in
                    for row in 0..<batch { for column in 0..<outFeatures { db[column] += g[row * outFeatures + column] } }
                }
            }
        }
        if input.requiresGradient { input.accumulate(transposedJacobianProduct(dy)) }
    }
}

extension Linear: PiecewiseLinear {
    public func linearized(_ input: Variable) -> Linearization {
        Linearization(output: self(input), jacobian: jacobianProduct, transposedJacobian: transposedJacobianProduct)
    }
}
