/// A kernel's or a padding's height and width.
public struct Window: Hashable, Sendable, CustomStringConvertible {
    public let height: Int, width: Int
    public init(_ height: Int, _ width: Int) { (self.height, self.width) = (height, width) }
    public static func square(_ side: Int) -> Window { Window(side, side) }
    public var description: String { height == width ? "\(height)" : "(\(height), \(width))" }
}

/// A 2-D convolution over NCHW images, on oneDNN's convolution primitives.
///
/// - input `[N, inChannels, H, W]`, output `[N, outChannels, OH, OW]` with
///   `OH = (H + 2·padding.height − kernel.height) / stride + 1` (likewise OW)
/// - `weight` `[outChannels, inChannels, kernel.height, kernel.width]`, `bias` `[outChannels]` (PyTorch's layout), if any
public final class Conv2d: Layer {
    public let inChannels: Int, outChannels: Int, kernel: Window, stride: Int, padding: Window
    public let weight: Parameter
    /// nil for PyTorch's `bias=False`, as before a BatchNorm, whose shift makes a bias redundant.
    public let bias: Parameter?

    /// A square kernel, padded alike on every side.
    public convenience init(_ inChannels: Int, _ outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0, bias: Bool = true,
                            random: inout RandomStream) {
        self.init(inChannels, outChannels, kernel: .square(kernel), stride: stride, padding: .square(padding), bias: bias, random: &random)
    }

    /// PyTorch's default initialisation: weight and bias uniform in ±1/√(inChannels·kernel area).
    public init(_ inChannels: Int, _ outChannels: Int, kernel: Window, stride: Int = 1, padding: Window, bias: Bool = true,
                random: inout RandomStream) {
        (self.inChannels, self.outChannels, self.kernel, self.stride, self.padding) = (inChannels, outChannels, kernel, stride, padding)
        let bound = 1 / Float(inChannels * kernel.height * kernel.width).squareRoot()
        weight = Parameter(random.uniform(shape: [outChannels, inChannels, kernel.height, kernel.width], low: -bound, high: bound))
        self.bias = bias ? Parameter(random.uniform(shape: [outChannels], low: -bound, high: bound)) : nil
    }

    public var state: [(name: String, entry: StateEntry)] { convolutionState(weight, bias) }

    public func callAsFunction(_ input: Variable) -> Variable {
        let x = input.value
        precondition(x.rank == 4 && x.shape[1] == inChannels, "Conv2d(\(inChannels), \(outChannels)) got input \(x.shape)")
        let (height, width) = (x.shape[2], x.shape[3])
        let shards = BatchShards.rows(of: x.shape[0], shards: input.shards, in: cache.name).count
        let shape = ConvolutionShape(batch: x.shape[0] / shards, inChannels: inChannels, outChannels: outChannels,
                                     inHeight: height, inWidth: width,
                                     outHeight: (height + 2 * padding.height - kernel.height) / stride + 1,
                                     outWidth: (width + 2 * padding.width - kernel.width) / stride + 1,
                                     kernel: kernel, stride: stride, padding: padding)
        return cache.kernels(for: shape).apply(input, weight: weight, bias: bias, shards: shards)
    }

    lazy var cache = ConvolutionCache(hasBias: bias != nil, name: "Conv2d(\(inChannels), \(outChannels), k\(kernel), s\(stride), p\(padding))")
}

/// A 2-D transposed convolution (the adjoint of `Conv2d`'s input map), for upsampling.
///
/// - input `[N, inChannels, H, W]`, output `[N, outChannels, OH, OW]` with
///   `OH = (H − 1)·stride − 2·padding + kernel` (likewise OW)
/// - `weight` `[inChannels, outChannels, kernel, kernel]`, `bias` `[outChannels]` (PyTorch's layout), if any
public final class ConvTranspose2d: Layer {
    public let inChannels: Int, outChannels: Int, kernel: Int, stride: Int, padding: Int
    public let weight: Parameter
    /// nil for PyTorch's `bias=False`.
    public let bias: Parameter?

    /// PyTorch's default initialisation: uniform in ±1/√(outChannels·kernel²), PyTorch's fan-in for this layout.
    public init(_ inChannels: Int, _ outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0, bias: Bool = true,
                random: inout RandomStream) {
        (self.inChannels, self.outChannels, self.kernel, self.stride, self.padding) = (inChannels, outChannels, kernel, stride, padding)
        let bound = 1 / Float(outChannels * kernel * kernel).squareRoot()
        weight = Parameter(random.uniform(shape: [inChannels, outChannels, kernel, kernel], low: -bound, high: bound))
        self.bias = bias ? Parameter(random.uniform(shape: [outChannels], low: -bound, high: bound)) : nil
    }

    public var state: [(name: String, entry: StateEntry)] { convolutionState(weight, bias) }

    public func callAsFunction(_ input: Variable) -> Variable {
        let x = input.value
        precondition(x.rank == 4 && x.shape[1] == inChannels, "ConvTranspose2d(\(inChannels), \(outChannels)) got input \(x.shape)")
        let (height, width) = (x.shape[2], x.shape[3])
        let shards = BatchShards.rows(of: x.shape[0], shards: input.shards, in: cache.name).count
        let shape = ConvolutionShape(batch: x.shape[0] / shards, inChannels: inChannels, outChannels: outChannels,
                                     inHeight: height, inWidth: width,
                                     outHeight: (height - 1) * stride - 2 * padding + kernel,
                                     outWidth: (width - 1) * stride - 2 * padding + kernel,
                                     kernel: .square(kernel), stride: stride, padding: .square(padding))
        return cache.kernels(for: shape.transposed).applyTransposed(input, weight: weight, bias: bias, shards: shards)
    }

    /// Kernels of the convolution this layer transposes (the bias is added apart).
    lazy var cache = ConvolutionCache(hasBias: false,
                                      name: "ConvTranspose2d(\(inChannels), \(outChannels), k\(kernel), s\(stride), p\(padding))")
}

/// A layer's oneDNN kernels for the few input shapes it meets (the training batch, the
/// evaluation batch, a last partial batch), the oldest dropped past `capacity`.
final class ConvolutionCache {
    private let hasBias: Bool
    let name: String
    private let capacity = 4
    private var entries: [(shape: ConvolutionShape, kernels: ConvolutionKernels)] = []

    init(hasBias: Bool, name: String) { (self.hasBias, self.name) = (hasBias, name) }

    /// The forward kernels oneDNN chose for the shapes met so far.
    var implementations: [String] { entries.map(\.kernels.implementation) }

    func kernels(for shape: ConvolutionShape) -> ConvolutionKernels {
        if let index = entries.firstIndex(where: { $0.shape == shape }) {
            let entry = entries.remove(at: index)
            entries.append(entry)
            return entry.kernels
        }
        do {
            let kernels = try ConvolutionKernels(shape, hasBias: hasBias, name: name)
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
    /// Conv2d on `shards` shards of this shape's batch, one kernel call each: runs forward and
    /// records the backward (dx from backward data; weight and bias gradients from backward weights,
    /// into each shard's gradient, when they are not frozen). The output is in oneDNN's layout for
    /// it; the input may come in any layout.
    func apply(_ input: Variable, weight: Parameter, bias: Parameter?, shards: Int) -> Variable {
        let x = input.value.converted(to: source.layout)
        let (inputShard, outputShard) = (shape.inputCount, shape.outputCount)
        var y = Tensor(unfilledShape: shape.output(shards: shards), layout: destination.layout)
        run("forward") { () throws(DNNLError) in
            try withPointers(x, weight.value, &y) { (x, w, y) throws(DNNLError) in
                try withOptionalPointer(bias?.value) { (b) throws(DNNLError) in
                    for shard in 0..<shards { try forward(x + shard * inputShard, weight: w, bias: b, into: y + shard * outputShard) }
                }
            }
        }
        return Variable.result(y, of: [input], parameters: [weight] + (bias.map { [$0] } ?? [])) { dy in
            if weight.requiresGradient {
                self.run("backward weights") { () throws(DNNLError) in
                    try self.addWeightGradient(try self.backwardWeights(), image: x, outputGradient: dy, shards: shards, weight: weight, bias: bias)
                }
            }
            if input.requiresGradient {
                self.run("backward data") { () throws(DNNLError) in
                    let kernels = try self.backwardData()
                    let dy = dy.converted(to: kernels.outputGradient.layout)
                    var dx = Tensor(unfilledShape: self.shape.input(shards: shards), layout: kernels.inputGradient.layout)
                    try withPointers(dy, weight.value, &dx) { (dy, w, dx) throws(DNNLError) in
                        for shard in 0..<shards { try kernels.run(dy + shard * outputShard, weight: w, into: dx + shard * inputShard) }
                    }
                    input.accumulate(dx.converted(to: input.value.layout))
                }
            }
        }
    }

    /// ConvTranspose2d, on the kernels of the convolution it transposes: its forward is that
    /// convolution's backward data (plus the bias), its backward data that convolution's forward,
    /// and its weight gradient that convolution's with image and output gradient swapped.
    /// The weight `[in, out, k, k]` of the transposed layer is the convolution's `[out, in, k, k]`.
    func applyTransposed(_ input: Variable, weight: Parameter, bias: Parameter?, shards: Int) -> Variable {
        // The transposed layer's input is the convolution's output, and the other way round.
        let (inputShard, outputShard) = (shape.outputCount, shape.inputCount)
        var (x, y) = run("forward") { () throws(DNNLError) -> (Tensor, Tensor) in
            let kernels = try backwardData()
            let x = input.value.converted(to: kernels.outputGradient.layout)
            var y = Tensor(unfilledShape: shape.input(shards: shards), layout: kernels.inputGradient.layout)
            try withPointers(x, weight.value, &y) { (x, w, y) throws(DNNLError) in
                for shard in 0..<shards { try kernels.run(x + shard * inputShard, weight: w, into: y + shard * outputShard) }
            }
            return (x, y)
        }
        if let bias { y.addChannelBias(bias.value) }
        return Variable.result(y, of: [input], parameters: [weight] + (bias.map { [$0] } ?? [])) { [x] dy in
            if weight.requiresGradient {
                self.run("backward weights") { () throws(DNNLError) in
                    try self.addWeightGradient(try self.backwardWeights(), image: dy, outputGradient: x, shards: shards, weight: weight, bias: nil)
                }
                let rows = dy.shape[0] / shards
                for shard in 0..<shards {
                    bias?.withGradient(shard: shard, of: shards) { db in
                        db.scalars.withUnsafeMutableBufferPointer { dy.addChannelSums(into: $0.baseAddress!, rows: shard * rows..<(shard + 1) * rows) }
                    }
                }
            }
            if input.requiresGradient {
                self.run("backward data") { () throws(DNNLError) in
                    let dy = dy.converted(to: self.source.layout)
                    var dx = Tensor(unfilledShape: self.shape.output(shards: shards), layout: self.destination.layout)
                    try withPointers(dy, weight.value, &dx) { (dy, w, dx) throws(DNNLError) in
                        for shard in 0..<shards { try self.forward(dy + shard * outputShard, weight: w, bias: nil, into: dx + shard * inputShard) }
                    }
                    input.accumulate(dx.converted(to: input.value.layout))
                }
            }
        }
    }

    /// Adds the convolution's weight (and bias) gradient for `image` (its input) and
    /// `outputGradient`, each of `shards` shards into that shard's gradients.
    private func addWeightGradient(_ kernels: BackwardWeights, image: Tensor, outputGradient: Tensor, shards: Int,
                                   weight: Parameter, bias: Parameter?) throws(DNNLError) {
        let x = image.converted(to: kernels.input.layout), dy = outputGradient.converted(to: kernels.outputGradient.layout)
        let (inputShard, outputShard) = (shape.inputCount, shape.outputCount)
        try x.scalars.withUnsafeBufferPointer { (x) throws(DNNLError) in
            try dy.scalars.withUnsafeBufferPointer { (dy) throws(DNNLError) in
                for shard in 0..<shards {
                    let (x, dy) = (x.baseAddress! + shard * inputShard, dy.baseAddress! + shard * outputShard)
                    try weight.withGradient(shard: shard, of: shards) { (dw) throws(DNNLError) in
                        try dw.scalars.withUnsafeMutableBufferPointer { (dw) throws(DNNLError) in
                            guard let bias else { return try kernels.run(x, dy, addingTo: dw.baseAddress!, biasGradient: nil) }
                            try bias.withGradient(shard: shard, of: shards) { (db) throws(DNNLError) in
                                try db.scalars.withUnsafeMutableBufferPointer { (db) throws(DNNLError) in
                                    try kernels.run(x, dy, addingTo: dw.baseAddress!, biasGradient: db.baseAddress!)
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    private func run<Result>(_ pass: String, _ body: () throws(DNNLError) -> Result) -> Result {
        do { return try body() } catch { fatalError("\(name) \(pass) for \(shape): \(error)") }
    }
}

/// The storage of two tensors read and one written, for a kernel call.
private func withPointers(_ a: Tensor, _ b: Tensor, _ out: inout Tensor,
                          _ body: (UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>) throws(DNNLError) -> Void)
    throws(DNNLError) {
    try a.scalars.withUnsafeBufferPointer { (a) throws(DNNLError) in
        try b.scalars.withUnsafeBufferPointer { (b) throws(DNNLError) in
            try out.scalars.withUnsafeMutableBufferPointer { (out) throws(DNNLError) in try body(a.baseAddress!, b.baseAddress!, out.baseAddress!) }
        }
    }
}

/// The storage of `tensor`, or nil without one.
private func withOptionalPointer(_ tensor: Tensor?, _ body: (UnsafePointer<Float>?) throws(DNNLError) -> Void) throws(DNNLError) {
    guard let tensor else { return try body(nil) }
    try tensor.scalars.withUnsafeBufferPointer { (values) throws(DNNLError) in try body(values.baseAddress!) }
}

/// A convolution's state: its weight, and its bias when it has one.
private func convolutionState(_ weight: Parameter, _ bias: Parameter?) -> [(name: String, entry: StateEntry)] {
    [("weight", .parameter(weight))] + (bias.map { [("bias", .parameter($0))] } ?? [])
}

extension Tensor {
    /// Adds `bias[c]` to every value of channel c of this `[N, C, H, W]` tensor, in its layout.
    mutating func addChannelBias(_ bias: Tensor) {
        let runs = ChannelRuns(self), values = bias.scalars
        scalars.withUnsafeMutableBufferPointer { out in
            runs.forEachBlock { block in
                for p in 0..<block.positions {
                    let row = block.base &+ p &* block.stride
                    for lane in 0..<block.lanes { out[row &+ lane] += values[block.first &+ lane] }
                }
            }
        }
    }

    /// Adds each channel's sum over the samples `rows` (all by default) and positions to `sums[c]`
    /// (summed in Double).
    func addChannelSums(into sums: UnsafeMutablePointer<Float>, rows: Range<Int>? = nil) {
        var totals = [Double](repeating: 0, count: 2 * shape[1])
        let runs = ChannelRuns(self, rows: rows)
        scalars.withUnsafeBufferPointer { values in
            totals.withUnsafeMutableBufferPointer { totals in runs.addSums(into: totals.baseAddress!) { (Double(values[$0]), 0) } }
        }
        for c in 0..<shape[1] { sums[c] += Float(totals[c]) }
    }
}
