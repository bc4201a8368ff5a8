/// A 2-D convolution over NCHW images, as one matrix product over im2col columns.
///
/// - input `[N, inChannels, H, W]`, output `[N, outChannels, OH, OW]` with
///   `OH = (H + 2·padding − kernel) / stride + 1` (likewise OW)
/// - `weight` `[outChannels, inChannels, kernel, kernel]`, `bias` `[outChannels]` (PyTorch's layout)
public final class Conv2d: Layer {
    public let inChannels: Int, outChannels: Int, kernel: Int, stride: Int, padding: Int
    public let weight: Parameter
    public let bias: Parameter

    /// PyTorch's default initialisation: weight and bias uniform in ±1/√(inChannels·kernel²).
    public init(_ inChannels: Int, _ outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0, random: inout RandomStream) {
        (self.inChannels, self.outChannels, self.kernel, self.stride, self.padding) = (inChannels, outChannels, kernel, stride, padding)
        let bound = 1 / Float(inChannels * kernel * kernel).squareRoot()
        weight = Parameter(random.uniform(shape: [outChannels, inChannels, kernel, kernel], low: -bound, high: bound))
        bias = Parameter(random.uniform(shape: [outChannels], low: -bound, high: bound))
    }

    public var state: [(name: String, entry: StateEntry)] { [("weight", .parameter(weight)), ("bias", .parameter(bias))] }

    public func callAsFunction(_ input: Variable) -> Variable {
        let x = input.value
        precondition(x.rank == 4 && x.shape[1] == inChannels, "Conv2d(\(inChannels), \(outChannels)) got input \(x.shape)")
        let batch = x.shape[0]
        let geometry = ConvolutionGeometry(channels: inChannels, height: x.shape[2], width: x.shape[3],
                                           kernel: kernel, stride: stride, padding: padding)
        let (positions, window) = (geometry.positions, geometry.windowSize)

        // columns [N·P, C·k·k]; outputByPosition [N, P, O]; y [N, O, P]
        var columns = [Float].filled(count: batch * positions * window) { geometry.im2col(x.scalars, batch: batch, into: $0) }
        let outputByPosition = [Float].filled(count: batch * positions * outChannels) {
            BLAS.gemm(transposeB: true, m: batch * positions, n: outChannels, k: window, a: columns, lda: window,
                      b: weight.value.scalars, ldb: window, c: $0, ldc: outChannels)
        }
        let y = Tensor(shape: [batch, outChannels, geometry.outputHeight, geometry.outputWidth], scalars: .filled(count: batch * outChannels * positions) {
            transposeInnerTwo(outputByPosition, into: $0, batch: batch, rows: positions, columns: outChannels)
            addChannelBias(bias.value.scalars, to: $0, batch: batch, channels: outChannels, positions: positions)
        })
        if !weight.requiresGradient { columns = [] }
        return Variable.result(y, of: [input], parameters: [weight, bias]) { dy in
            self.backward(dy, input: input, geometry: geometry, columns: columns)
        }
    }

    /// dW[O, C·k·k] += dyᵀ·columns;  db[O] += Σ dy;  dx = col2im(dy·W)
    private func backward(_ dy: Tensor, input: Variable, geometry: ConvolutionGeometry, columns: [Float]) {
        let batch = dy.shape[0]
        let (positions, window) = (geometry.positions, geometry.windowSize)
        let gradientByPosition = [Float].filled(count: dy.count) {  // [N, P, O]
            transposeInnerTwo(dy.scalars, into: $0, batch: batch, rows: outChannels, columns: positions)
        }
        if weight.requiresGradient {
            BLAS.gemm(transposeA: true, m: outChannels, n: window, k: batch * positions, a: gradientByPosition, lda: outChannels,
                      b: columns, ldb: window, beta: 1, c: &weight.gradient.scalars, ldc: window)
        }
        if bias.requiresGradient {
            bias.gradient.scalars.withUnsafeMutableBufferPointer {
                accumulateChannelSums(dy.scalars, into: $0.baseAddress!, batch: batch, channels: outChannels, positions: positions)
            }
        }
        if input.requiresGradient {
            let columnGradient = [Float].filled(count: batch * positions * window) {
                BLAS.gemm(m: batch * positions, n: window, k: outChannels, a: gradientByPosition, lda: outChannels,
                          b: weight.value.scalars, ldb: window, c: $0, ldc: window)
            }
            var dx = Tensor(shape: input.value.shape)
            dx.scalars.withUnsafeMutableBufferPointer { geometry.col2im(columnGradient, batch: batch, into: $0.baseAddress!) }
            input.accumulate(dx)
        }
    }
}

/// A 2-D transposed convolution (the adjoint of `Conv2d`'s input map), for upsampling.
///
/// - input `[N, inChannels, H, W]`, output `[N, outChannels, OH, OW]` with
///   `OH = (H − 1)·stride − 2·padding + kernel` (likewise OW)
/// - `weight` `[inChannels, outChannels, kernel, kernel]`, `bias` `[outChannels]` (PyTorch's layout)
public final class ConvTranspose2d: Layer {
    public let inChannels: Int, outChannels: Int, kernel: Int, stride: Int, padding: Int
    public let weight: Parameter
    public let bias: Parameter

    /// PyTorch's default initialisation: uniform in ±1/√(outChannels·kernel²), PyTorch's fan-in for this layout.
    public init(_ inChannels: Int, _ outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0, random: inout RandomStream) {
        (self.inChannels, self.outChannels, self.kernel, self.stride, self.padding) = (inChannels, outChannels, kernel, stride, padding)
        let bound = 1 / Float(outChannels * kernel * kernel).squareRoot()
        weight = Parameter(random.uniform(shape: [inChannels, outChannels, kernel, kernel], low: -bound, high: bound))
        bias = Parameter(random.uniform(shape: [outChannels], low: -bound, high: bound))
    }

    public var state: [(name: String, entry: StateEntry)] { [("weight", .parameter(weight)), ("bias", .parameter(bias))] }

    public func callAsFunction(_ input: Variable) -> Variable {
        let x = input.value
        precondition(x.rank == 4 && x.shape[1] == inChannels, "ConvTranspose2d(\(inChannels), \(outChannels)) got input \(x.shape)")
        let (batch, height, width) = (x.shape[0], x.shape[2], x.shape[3])
        // The convolution whose input map this layer transposes: from the output image back to x's positions.
        let geometry = ConvolutionGeometry(channels: outChannels, height: (height - 1) * stride - 2 * padding + kernel,
                                           width: (width - 1) * stride - 2 * padding + kernel,
                                           kernel: kernel, stride: stride, padding: padding)
        let positions = height * width, window = geometry.windowSize

        // inputByPosition [N, H·W, Cin]; columns [N·H·W, Cout·k·k]; y [N, Cout, OH, OW]
        var inputByPosition = [Float].filled(count: x.count) {
            transposeInnerTwo(x.scalars, into: $0, batch: batch, rows: inChannels, columns: positions)
        }
        let columns = [Float].filled(count: batch * positions * window) {
            BLAS.gemm(m: batch * positions, n: window, k: inChannels, a: inputByPosition, lda: inChannels,
                      b: weight.value.scalars, ldb: window, c: $0, ldc: window)
        }
        var y = Tensor(shape: [batch, outChannels, geometry.height, geometry.width])
        y.scalars.withUnsafeMutableBufferPointer { out in
            geometry.col2im(columns, batch: batch, into: out.baseAddress!)
            addChannelBias(bias.value.scalars, to: out.baseAddress!, batch: batch, channels: outChannels,
                           positions: geometry.height * geometry.width)
        }
        if !weight.requiresGradient { inputByPosition = [] }
        return Variable.result(y, of: [input], parameters: [weight, bias]) { dy in
            self.backward(dy, input: input, geometry: geometry, inputByPosition: inputByPosition)
        }
    }

    /// columns' = im2col(dy);  dW[Cin, Cout·k·k] += xᵀ·columns';  db += Σ dy;  dx = columns'·Wᵀ
    private func backward(_ dy: Tensor, input: Variable, geometry: ConvolutionGeometry, inputByPosition: [Float]) {
        let batch = dy.shape[0]
        let positions = geometry.positions, window = geometry.windowSize
        let columnGradient = [Float].filled(count: batch * positions * window) { geometry.im2col(dy.scalars, batch: batch, into: $0) }
        if weight.requiresGradient {
            BLAS.gemm(transposeA: true, m: inChannels, n: window, k: batch * positions, a: inputByPosition, lda: inChannels,
                      b: columnGradient, ldb: window, beta: 1, c: &weight.gradient.scalars, ldc: window)
        }
        if bias.requiresGradient {
            bias.gradient.scalars.withUnsafeMutableBufferPointer {
                accumulateChannelSums(dy.scalars, into: $0.baseAddress!, batch: batch, channels: outChannels,
                                      positions: geometry.height * geometry.width)
            }
        }
        if input.requiresGradient {
            let gradientByPosition = [Float].filled(count: input.value.count) {  // [N, H·W, Cin]
                BLAS.gemm(transposeB: true, m: batch * positions, n: inChannels, k: window, a: columnGradient, lda: window,
                          b: weight.value.scalars, ldb: window, c: $0, ldc: inChannels)
            }
            let dx = Tensor(shape: input.value.shape, scalars: .filled(count: input.value.count) {
                transposeInnerTwo(gradientByPosition, into: $0, batch: batch, rows: positions, columns: inChannels)
            })
            input.accumulate(dx)
        }
    }
}
