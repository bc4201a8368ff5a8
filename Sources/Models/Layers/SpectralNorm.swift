/// Spectral normalization (Miyato et al. 2018) of a `Conv2d` or `Linear`, as PyTorch's
/// `torch.nn.utils.spectral_norm` applies it: the layer runs with its weight divided by σ, the
/// weight's largest singular value (the weight seen as a `[out, in·k·k]` matrix W), so the layer
/// is 1-Lipschitz. σ is estimated as uᵀWv, and every call in training mode first takes one power
/// iteration (v = Wᵀu/‖Wᵀu‖, u = Wv/‖Wv‖) that moves u and v towards the singular vectors; in
/// evaluation the stored u and v are used as they are. The gradient reaches W through σ as well
/// (u and v are constants), as in PyTorch.
///
/// - state, in PyTorch's order: `bias` (if the layer has one), `weight_orig` (W, the layer's
///   weight shape), `weight_u` `[out]`, `weight_v` `[in·k·k]`
public final class SpectralNorm: Layer {
    /// The wrapped layer; its own `weight` holds W/σ of the latest call, and is not state.
    public let layer: Layer
    /// W, the weight that is trained.
    public let weight: Parameter
    public let u: Buffer, v: Buffer
    public let epsilon: Float
    public private(set) var training = true
    /// The wrapped layer's bias, trained as it is.
    public let bias: Parameter?
    private let normalized: Parameter

    /// u and v start as normalised draws from N(0, 1), as PyTorch's do; `epsilon` guards the
    /// normalisations (StudioGAN uses 1e-6, PyTorch's default is 1e-12).
    public convenience init(_ layer: Conv2d, epsilon: Float = 1e-12, random: inout RandomStream) {
        self.init(layer: layer, weight: layer.weight, bias: layer.bias, epsilon: epsilon, random: &random)
    }

    public convenience init(_ layer: Linear, epsilon: Float = 1e-12, random: inout RandomStream) {
        self.init(layer: layer, weight: layer.weight, bias: layer.bias, epsilon: epsilon, random: &random)
    }

    private init(layer: Layer, weight normalized: Parameter, bias: Parameter?, epsilon: Float, random: inout RandomStream) {
        (self.layer, self.normalized, self.bias, self.epsilon) = (layer, normalized, bias, epsilon)
        weight = Parameter(normalized.value)
        let rows = normalized.value.shape[0]
        let columns = normalized.value.count / rows
        u = Buffer(Self.normalize(random.normal(shape: [rows]), epsilon: epsilon))
        v = Buffer(Self.normalize(random.normal(shape: [columns]), epsilon: epsilon))
    }

    public var state: [(name: String, entry: StateEntry)] {
        (bias.map { [("bias", .parameter($0))] } ?? []) + [("weight_orig", .parameter(weight)), ("weight_u", .buffer(u)), ("weight_v", .buffer(v))]
    }

    public func setTraining(_ training: Bool) { self.training = training }
    public var sublayers: [Layer] { [layer] }

    public func callAsFunction(_ input: Variable) -> Variable {
        let product = training ? powerIteration() : product(v.value, transposed: false)
        let sigma = Self.dot(u.value.scalars, product)
        let matrix = weight.value.map { $0 / sigma }
        normalized.value = matrix
        normalized.requiresGradient = weight.requiresGradient
        if weight.requiresGradient, let tape = input.tape {
            // Recorded before the layer's operation, so it runs right after that operation's
            // backward and finds the gradient of W/σ of this call alone.
            let (shards, u, v) = (input.shards, u.value.scalars, v.value.scalars)
            tape.recordFollowUp(parameters: [weight]) { [normalized, weight] in
                for (shard, gradient) in normalized.takeGradients(shards: shards).enumerated() {
                    weight.withGradient(shard: shard, of: shards) {
                        $0.add(Self.weightGradient(gradient, normalized: matrix, u: u, v: v, sigma: sigma))
                    }
                }
            }
        }
        return layer(input)
    }

    /// dL/dW from G = dL/d(W/σ) with σ = uᵀWv: (G − ⟨G, W/σ⟩ uvᵀ) / σ.
    static func weightGradient(_ gradient: Tensor, normalized: Tensor, u: [Float], v: [Float], sigma: Float) -> Tensor {
        let inner = Float(zip(gradient.scalars, normalized.scalars).reduce(0.0) { $0 + Double($1.0) * Double($1.1) })
        let columns = v.count
        return Tensor(shape: gradient.shape, scalars: gradient.scalars.withUnsafeBufferPointer { g in
            .filled(count: g.count) { dw in
                for (row, ur) in u.enumerated() {
                    let scale = inner * ur
                    for column in 0..<columns {
                        let index = row &* columns &+ column
                        dw[index] = (g[index] - scale * v[column]) / sigma
                    }
                }
            }
        })
    }

    /// One step of power iteration on u and v; returns Wv of the new v, which σ reads.
    private func powerIteration() -> Tensor {
        v.value = Self.normalize(product(u.value, transposed: true), epsilon: epsilon)
        let wv = product(v.value, transposed: false)
        u.value = Self.normalize(wv, epsilon: epsilon)
        return wv
    }

    /// Wx for x `[in·k·k]` → `[out]`, or Wᵀx for x `[out]` → `[in·k·k]` when `transposed`.
    private func product(_ x: Tensor, transposed: Bool) -> Tensor {
        let rows = weight.value.shape[0], columns = weight.value.count / rows
        let size = transposed ? columns : rows
        return Tensor(shape: [size], scalars: x.scalars.withUnsafeBufferPointer { x in
            .filled(count: size) { y in
                if transposed {
                    Kernels.gemm(m: 1, n: columns, k: rows, a: x.baseAddress!, lda: rows, b: weight.value.scalars, ldb: columns, c: y, ldc: columns)
                } else {
                    Kernels.gemm(transposeB: true, m: 1, n: rows, k: columns, a: x.baseAddress!, lda: columns, b: weight.value.scalars, ldb: columns,
                                 c: y, ldc: rows)
                }
            }
        })
    }

    /// x / max(‖x‖, ε), PyTorch's `F.normalize`.
    private static func normalize(_ x: Tensor, epsilon: Float) -> Tensor {
        let norm = Float(x.scalars.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot())
        let divisor = max(norm, epsilon)
        return x.map { $0 / divisor }
    }

    private static func dot(_ a: [Float], _ b: Tensor) -> Float {
        Float(zip(a, b.scalars).reduce(0.0) { $0 + Double($1.0) * Double($1.1) })
    }
}
