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

    /// `v · W` `[N, out]` → `[N, in]`: the transposed Jacobian, a constant, in `shards` shards.
    func transposedJacobianProduct(_ v: Tensor, shards count: Int) -> Tensor {
        let batch = v.shape[0]
        let shards = BatchShards.rows(of: batch, shards: count, in: name)
        return Tensor(shape: [batch, inFeatures], scalars: v.scalars.withUnsafeBufferPointer { v in
            .filled(count: batch * inFeatures) { dx in
                for rows in shards {
                    Kernels.gemm(m: rows.count, n: inFeatures, k: outFeatures, a: v.baseAddress! + rows.lowerBound * outFeatures, lda: outFeatures,
                              b: weight.value.scalars, ldb: inFeatures, c: dx + rows.lowerBound * inFeatures, ldc: inFeatures)
                }
            }
        })
    }

    private var name: String { "Linear(\(inFeatures), \(outFeatures))" }

    private func apply(_ input: Variable, withBias: Bool) -> Variable {
        let x = input.value
        precondition(x.rank == 2 && x.shape[1] == inFeatures, "\(name) got input \(x.shape)")
        let batch = x.shape[0]
        let shards = BatchShards.rows(of: batch, shards: input.shards, in: name)
        var y = Tensor(shape: [batch, outFeatures])
        forward(x.scalars, into: &y.scalars, shards: shards, withBias: withBias)
        return Variable.result(y, of: [input], parameters: withBias ? [weight, bias] : [weight]) { dy in
            self.backward(dy, input: input, shards: shards, withBias: withBias)
        }
    }

    /// y[N, out] = x[N, in] · Wᵀ + b (y starts at 0 without the bias), one product per shard.
    private func forward(_ x: [Float], into y: inout [Float], shards: [Range<Int>], withBias: Bool) {
        let (n, k) = (outFeatures, inFeatures)
        x.withUnsafeBufferPointer { x in
            y.withUnsafeMutableBufferPointer { out in
                if withBias {
                    bias.value.scalars.withUnsafeBufferPointer { b in
                        for row in 0..<shards.last!.upperBound { (out.baseAddress! + row * n).update(from: b.baseAddress!, count: n) }
                    }
                }
                for rows in shards {
                    Kernels.gemm(transposeB: true, m: rows.count, n: n, k: k, a: x.baseAddress! + rows.lowerBound * k, lda: k,
                              b: weight.value.scalars, ldb: k, beta: 1, c: out.baseAddress! + rows.lowerBound * n, ldc: n)
                }
            }
        }
    }

    /// dx[N, in] = dy · W;  dW[out, in] += dyᵀ · x;  db[out] += Σ_N dy, the sums per shard.
    private func backward(_ dy: Tensor, input: Variable, shards: [Range<Int>], withBias: Bool) {
        dy.scalars.withUnsafeBufferPointer { g in
            input.value.scalars.withUnsafeBufferPointer { x in
                for (shard, rows) in shards.enumerated() {
                    if weight.requiresGradient {
                        weight.withGradient(shard: shard, of: shards.count) { dw in
                            Kernels.gemm(transposeA: true, m: outFeatures, n: inFeatures, k: rows.count,
                                      a: g.baseAddress! + rows.lowerBound * outFeatures, lda: outFeatures,
                                      b: x.baseAddress! + rows.lowerBound * inFeatures, ldb: inFeatures, beta: 1, c: &dw.scalars, ldc: inFeatures)
                        }
                    }
                    if withBias, bias.requiresGradient {
                        bias.withGradient(shard: shard, of: shards.count) { db in
                            db.scalars.withUnsafeMutableBufferPointer { db in
                                for row in rows { for column in 0..<outFeatures { db[column] += g[row * outFeatures + column] } }
                            }
                        }
                    }
                }
            }
        }
        if input.requiresGradient { input.accumulate(transposedJacobianProduct(dy, shards: shards.count)) }
    }
}

extension Linear: PiecewiseLinear {
    public func linearized(_ input: Variable) -> Linearization {
        let shards = input.shards
        return Linearization(output: self(input), jacobian: jacobianProduct, transposedJacobian: { self.transposedJacobianProduct($0, shards: shards) })
    }
}
