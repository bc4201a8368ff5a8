/// A 2-D convolution over NCHW images, on oneDNN's convolution primitives.
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
        let (height, width) = (x.shape[2], x.shape[3])
        let shape = ConvolutionShape(batch: x.shape[0], inChannels: inChannels, outChannels: outChannels,
                                     inHeight: height, inWidth: width,
                                     outHeight: (height + 2 * padding - kernel) / stride + 1,
                                     outWidth: (width + 2 * padding - kernel) / stride + 1,
                                     kernel: kernel, stride: stride, padding: padding)
        let kernels = cache.kernels(for: shape)
        return kernels.apply(input, weight: weight, bias: bias)
    }

    lazy var cache = ConvolutionCache(.convolution, name: "Conv2d(\(inChannels), \(outChannels), k\(kernel), s\(stride), p\(padding))")
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
        let (height, width) = (x.shape[2], x.shape[3])
        let shape = ConvolutionShape(batch: x.shape[0], inChannels: inChannels, outChannels: outChannels,
                                     inHeight: height, inWidth: width,
                                     outHeight: (height - 1) * stride - 2 * padding + kernel,
                                     outWidth: (width - 1) * stride - 2 * padding + kernel,
                                     kernel: kernel, stride: stride, padding: padding)
        return cache.kernels(for: shape).apply(input, weight: weight, bias: bias)
    }

    lazy var cache = ConvolutionCache(.deconvolution,
                                              name: "ConvTranspose2d(\(inChannels), \(outChannels), k\(kernel), s\(stride), p\(padding))")
}

/// A layer's oneDNN kernels for the few input shapes it meets (the training batch, the
/// evaluation batch, a last partial batch), the oldest dropped past `capacity`.
final class ConvolutionCache {
    private let kind: ConvolutionKernels.Kind
    private let name: String
    private let capacity = 4
    private var entries: [(shape: ConvolutionShape, kernels: ConvolutionKernels)] = []

    init(_ kind: ConvolutionKernels.Kind, name: String) { (self.kind, self.name) = (kind, name) }

    /// The forward kernels oneDNN chose for the shapes met so far.
    var implementations: [String] { entries.map(\.kernels.implementation) }

    func kernels(for shape: ConvolutionShape) -> ConvolutionKernels {
        if let index = entries.firstIndex(where: { $0.shape == shape }) {
            let entry = entries.remove(at: index)
            entries.append(entry)
            return entry.kernels
        }
        do {
            let kernels = try ConvolutionKernels(kind, shape, name: name)
            if entries.count == capacity { entries.removeFirst() }
            entries.append((shape, kernels))
            return kernels
        } catch {
            // Layers do not throw; oneDNN has a reference kernel for every f32 shape, so this is
            // a library or memory failure, reported with the layer and shape before stopping.
            fatalError("\(name) for \(shape): \(error)")
        }
    }
}

extension ConvolutionKernels {
    /// Runs the layer forward and records its backward: dx from backward data, and the weight
    /// and bias gradients from backward weights, each only when something needs it. The output
    /// is in oneDNN's layout for it; the input may come in any layout.
    func apply(_ input: Variable, weight: Parameter, bias: Parameter) -> Variable {
        let x = input.value.converted(to: source.layout)
        var y = Tensor(shape: shape.output, layout: destination.layout)
        run("forward") { () throws(DNNLError) in
            try x.scalars.withUnsafeBufferPointer { (x) throws(DNNLError) in
                try weight.value.scalars.withUnsafeBufferPointer { (w) throws(DNNLError) in
                    try bias.value.scalars.withUnsafeBufferPointer { (b) throws(DNNLError) in
                        try y.scalars.withUnsafeMutableBufferPointer { (y) throws(DNNLError) in
                            try forward(x.baseAddress!, weight: w.baseAddress!, bias: b.baseAddress!, into: y.baseAddress!)
                        }
                    }
                }
            }
        }
        return Variable.result(y, of: [input], parameters: [weight, bias]) { dy in
            self.backward(dy, input: input, x: x, weight: weight, bias: bias)
        }
    }

    private func backward(_ dy: Tensor, input: Variable, x: Tensor, weight: Parameter, bias: Parameter) {
        precondition(weight.requiresGradient == bias.requiresGradient, "\(name): weight and bias are frozen together")
        if weight.requiresGradient {
            run("backward weights") { () throws(DNNLError) in
                let kernels = try backwardWeights()
                let x = x.converted(to: kernels.input.layout), dy = dy.converted(to: kernels.outputGradient.layout)
                try x.scalars.withUnsafeBufferPointer { (x) throws(DNNLError) in
                    try dy.scalars.withUnsafeBufferPointer { (dy) throws(DNNLError) in
                        try weight.gradient.scalars.withUnsafeMutableBufferPointer { (dw) throws(DNNLError) in
                            try bias.gradient.scalars.withUnsafeMutableBufferPointer { (db) throws(DNNLError) in
                                try kernels.run(x.baseAddress!, dy.baseAddress!, addingTo: dw.baseAddress!, biasGradient: db.baseAddress!)
                            }
                        }
                    }
                }
            }
        }
        guard input.requiresGradient else { return }
        run("backward data") { () throws(DNNLError) in
            let kernels = try backwardData()
            let dy = dy.converted(to: kernels.outputGradient.layout)
            var dx = Tensor(shape: shape.input, layout: kernels.inputGradient.layout)
            try dy.scalars.withUnsafeBufferPointer { (dy) throws(DNNLError) in
                try weight.value.scalars.withUnsafeBufferPointer { (w) throws(DNNLError) in
                    try dx.scalars.withUnsafeMutableBufferPointer { (dx) throws(DNNLError) in
                        try kernels.run(dy.baseAddress!, weight: w.baseAddress!, into: dx.baseAddress!)
                    }
                }
            }
            input.accumulate(dx.converted(to: input.value.layout))
        }
    }

    private func run(_ pass: String, _ body: () throws(DNNLError) -> Void) {
        do { try body() } catch { fatalError("\(name) \(pass) for \(shape): \(error)") }
    }
}
