import CDNNL

/// The sizes one convolution call is made for: oneDNN's primitives are created per shape.
struct ConvolutionShape: Hashable, CustomStringConvertible {
    let batch: Int, inChannels: Int, outChannels: Int
    let inHeight: Int, inWidth: Int, outHeight: Int, outWidth: Int
    let kernel: Window, stride: Int, padding: Window

    var input: [Int] { input(shards: 1) }
    var output: [Int] { output(shards: 1) }
    /// The input and output of `shards` calls of this shape, one after another.
    func input(shards: Int) -> [Int] { [shards * batch, inChannels, inHeight, inWidth] }
    func output(shards: Int) -> [Int] { [shards * batch, outChannels, outHeight, outWidth] }
    /// Elements of the input and of the output of one call: a shard's, consecutive in every layout.
    var inputCount: Int { batch * inChannels * inHeight * inWidth }
    var outputCount: Int { batch * outChannels * outHeight * outWidth }
    var description: String { "input \(input) → output \(output), kernel \(kernel), stride \(stride), padding \(padding)" }

    /// The convolution whose input map a transposed convolution of this shape is: from the
    /// transposed convolution's output image back to its input positions.
    var transposed: ConvolutionShape {
        ConvolutionShape(batch: batch, inChannels: outChannels, outChannels: inChannels, inHeight: outHeight, inWidth: outWidth,
                         outHeight: inHeight, outWidth: inWidth, kernel: kernel, stride: stride, padding: padding)
    }
}

/// oneDNN's convolution for one layer at one shape: forward, backward-data and backward-weights
/// primitives, each created on first use and run every step after. Activations come and go in
/// the blocked layout oneDNN chose for this CPU (each bridge's `layout`), so consecutive oneDNN
/// layers pass them on without a reorder; weights stay in PyTorch's order and are reordered
/// inside each call.
///
/// A transposed convolution runs on the same three primitives with the roles swapped (its
/// forward is the convolution's backward data, and so on): oneDNN 2.6's own deconvolution
/// forward took half as long again as the convolution's backward data on dcgan28's generator.
///
/// - x `[N, inChannels, H, W]`, y `[N, outChannels, OH, OW]` (NCHW)
/// - weight `[outChannels, inChannels, k, k]` (PyTorch's layout); bias `[outChannels]`, if any
final class ConvolutionKernels {
    let shape: ConvolutionShape
    let hasBias: Bool
    let name: String

    private let forwardDescriptor: PrimitiveDescriptor
    private let forwardPrimitive: Primitive
    let source: LayoutBridge, destination: LayoutBridge
    private let weights: LayoutBridge
    private let bias: DNNLMemory?

    // Made on first use: a network that is only sampled from, or never updated, never needs them.
    private var backwardDataKernels: BackwardData?
    private var backwardWeightsKernels: BackwardWeights?

    init(_ shape: ConvolutionShape, hasBias: Bool, name: String) throws(DNNLError) {
        (self.shape, self.hasBias, self.name) = (shape, hasBias, name)
        let plain = Self.plainDescriptors(shape)
        var any = Self.layoutsToChoose(shape)
        var biasDescriptor = plain.bias
        let geometry = Self.geometry(shape)
        forwardDescriptor = try Self.descriptor(name: "\(name) forward", hint: nil) { operation in
            withOptionalPointer(to: &biasDescriptor, present: hasBias) { bias in
                dnnl_convolution_forward_desc_init(operation, dnnl_forward_training, dnnl_convolution_direct, &any.input,
                                                   &any.weights, bias, &any.output, geometry.strides, geometry.left, geometry.right)
            }
        }
        forwardPrimitive = try Primitive(forwardDescriptor)
        source = try LayoutBridge(plain: plain.source, native: forwardDescriptor.descriptor(dnnl_query_src_md),
                                  image: shape.input, name: name)
        weights = try LayoutBridge(plain: plain.weights, native: forwardDescriptor.descriptor(dnnl_query_weights_md),
                                   image: nil, name: name)
        destination = try LayoutBridge(plain: plain.destination, native: forwardDescriptor.descriptor(dnnl_query_dst_md),
                                       image: shape.output, name: name)
        bias = hasBias ? try DNNLMemory(plain.bias, ownsStorage: false, name: name) : nil
    }

    /// The kernel oneDNN runs forward, for example "jit:avx512_core".
    var implementation: String { forwardDescriptor.implementation }

    /// Multiply-adds times two of one pass (forward, backward data or backward weights alike).
    var floatOperations: Int {
        2 * shape.batch * shape.inChannels * shape.outChannels * shape.kernel.height * shape.kernel.width * shape.outHeight * shape.outWidth
    }

    /// y = conv(x, weight) (+ bias); `y` is overwritten. x is in `source.layout`, y in `destination.layout`.
    func forward(_ x: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias biasValues: UnsafePointer<Float>?,
                 into y: UnsafeMutablePointer<Float>) throws(DNNLError) {
        try source.load(x)
        try weights.load(weight)
        destination.prepareOutput(y)
        var arguments = [(DNNL_ARG_SRC, source.native), (DNNL_ARG_WEIGHTS, weights.native), (DNNL_ARG_DST, destination.native)]
        if let bias, let biasValues {
            bias.bind(biasValues)
            arguments.append((DNNL_ARG_BIAS, bias))
        }
        Kernels.floatOperations &+= floatOperations
        try forwardPrimitive.execute(arguments)
        try destination.store()
    }

    /// The backward-data primitive, made on first use.
    func backwardData() throws(DNNLError) -> BackwardData {
        if let kernels = backwardDataKernels { return kernels }
        let kernels = try BackwardData(self)
        backwardDataKernels = kernels
        return kernels
    }

    /// The backward-weights primitive, made on first use.
    func backwardWeights() throws(DNNLError) -> BackwardWeights {
        if let kernels = backwardWeightsKernels { return kernels }
        let kernels = try BackwardWeights(self)
        backwardWeightsKernels = kernels
        return kernels
    }

    /// dx = the gradient of `forward` by x for the output gradient dy; `dx` is overwritten.
    final class BackwardData {
        let primitive: Primitive
        let outputGradient: LayoutBridge, weights: LayoutBridge, inputGradient: LayoutBridge
        let operations: Int

        init(_ kernels: ConvolutionKernels) throws(DNNLError) {
            let (shape, name) = (kernels.shape, "\(kernels.name) backward data")
            operations = kernels.floatOperations
            let plain = ConvolutionKernels.plainDescriptors(shape)
            var any = ConvolutionKernels.layoutsToChoose(shape)
            let geometry = ConvolutionKernels.geometry(shape)
            let descriptor = try ConvolutionKernels.descriptor(name: name, hint: kernels.forwardDescriptor) { operation in
                dnnl_convolution_backward_data_desc_init(operation, dnnl_convolution_direct, &any.input, &any.weights,
                                                         &any.output, geometry.strides, geometry.left, geometry.right)
            }
            primitive = try Primitive(descriptor)
            outputGradient = try LayoutBridge(plain: plain.destination, native: descriptor.descriptor(dnnl_query_diff_dst_md),
                                              image: shape.output, name: name)
            weights = try LayoutBridge(plain: plain.weights, native: descriptor.descriptor(dnnl_query_weights_md), image: nil, name: name)
            inputGradient = try LayoutBridge(plain: plain.source, native: descriptor.descriptor(dnnl_query_diff_src_md),
                                             image: shape.input, name: name)
        }

        /// dy in `outputGradient.layout`, dx in `inputGradient.layout`.
        func run(_ dy: UnsafePointer<Float>, weight: UnsafePointer<Float>, into dx: UnsafeMutablePointer<Float>) throws(DNNLError) {
            try outputGradient.load(dy)
            try weights.load(weight)
            inputGradient.prepareOutput(dx)
            Kernels.floatOperations &+= operations
            try primitive.execute([(DNNL_ARG_DIFF_DST, outputGradient.native), (DNNL_ARG_WEIGHTS, weights.native),
                                   (DNNL_ARG_DIFF_SRC, inputGradient.native)])
            try inputGradient.store()
        }
    }

    /// Adds the gradients of `forward` by weight (and bias), for input x and output gradient dy,
    /// onto the weight (and bias) gradients in PyTorch's layouts.
    final class BackwardWeights {
        let primitive: Primitive
        let input: LayoutBridge, outputGradient: LayoutBridge, weightGradient: LayoutBridge
        let biasGradient: DNNLMemory?
        let operations: Int
        /// The step's weight and bias gradients in plain layout, before they are added on.
        var weightScratch: [Float], biasScratch: [Float]

        init(_ kernels: ConvolutionKernels) throws(DNNLError) {
            let (shape, name) = (kernels.shape, "\(kernels.name) backward weights")
            operations = kernels.floatOperations
            let plain = ConvolutionKernels.plainDescriptors(shape)
            var any = ConvolutionKernels.layoutsToChoose(shape)
            var biasDescriptor = plain.bias
            let geometry = ConvolutionKernels.geometry(shape)
            let descriptor = try ConvolutionKernels.descriptor(name: name, hint: kernels.forwardDescriptor) { operation in
                withOptionalPointer(to: &biasDescriptor, present: kernels.hasBias) { bias in
                    dnnl_convolution_backward_weights_desc_init(operation, dnnl_convolution_direct, &any.input, &any.weights,
                                                                bias, &any.output, geometry.strides, geometry.left, geometry.right)
                }
            }
            primitive = try Primitive(descriptor)
            input = try LayoutBridge(plain: plain.source, native: descriptor.descriptor(dnnl_query_src_md), image: shape.input, name: name)
            outputGradient = try LayoutBridge(plain: plain.destination, native: descriptor.descriptor(dnnl_query_diff_dst_md),
                                              image: shape.output, name: name)
            weightGradient = try LayoutBridge(plain: plain.weights, native: descriptor.descriptor(dnnl_query_diff_weights_md),
                                              image: nil, name: name)
            biasGradient = kernels.hasBias ? try DNNLMemory(plain.bias, ownsStorage: false, name: name) : nil
            weightScratch = [Float](repeating: 0, count: plain.weightDimensions.reduce(1, *))
            biasScratch = [Float](repeating: 0, count: shape.outChannels)
        }

        /// x in `input.layout`, dy in `outputGradient.layout`; `biasSum` is required exactly when the kernels have a bias.
        func run(_ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, addingTo weightSum: UnsafeMutablePointer<Float>,
                 biasGradient biasSum: UnsafeMutablePointer<Float>?) throws(DNNLError) {
            try input.load(x)
            try outputGradient.load(dy)
            try weightScratch.withUnsafeMutableBufferPointer { (weights) throws(DNNLError) in
                try biasScratch.withUnsafeMutableBufferPointer { (bias) throws(DNNLError) in
                    weightGradient.prepareOutput(weights.baseAddress!)
                    var arguments = [(DNNL_ARG_SRC, input.native), (DNNL_ARG_DIFF_DST, outputGradient.native),
                                     (DNNL_ARG_DIFF_WEIGHTS, weightGradient.native)]
                    if let biasGradient {
                        biasGradient.bind(bias.baseAddress!)
                        arguments.append((DNNL_ARG_DIFF_BIAS, biasGradient))
                    }
                    Kernels.floatOperations &+= operations
                    try primitive.execute(arguments)
                    try weightGradient.store()
                    for index in weights.indices { weightSum[index] += weights[index] }
                    if let biasSum, biasGradient != nil { for index in bias.indices { biasSum[index] += bias[index] } }
                }
            }
        }
    }

    /// The descriptors a primitive is asked for: oneDNN picks the weights' layout and the
    /// activations' (see `activation`); the chosen ones are read back from the primitive.
    private static func layoutsToChoose(_ shape: ConvolutionShape)
        -> (input: dnnl_memory_desc_t, weights: dnnl_memory_desc_t, output: dnnl_memory_desc_t) {
        (activation(shape.input), DNNL.descriptor([shape.outChannels, shape.inChannels, shape.kernel.height, shape.kernel.width], dnnl_format_tag_any),
         activation(shape.output))
    }

    /// An activation `[N, C, H, W]` in the layout oneDNN picks, or plain NCHW for fewer than 16
    /// channels: the blocked kernels pad channels to the block width (16 on AVX-512), so a
    /// one-channel image would cost sixteen times its work, while on plain layouts oneDNN runs
    /// its GEMM-based kernel (dcgan28's image layers: 7x faster backward, 3x faster forward).
    private static func activation(_ dimensions: [Int]) -> dnnl_memory_desc_t {
        DNNL.descriptor(dimensions, dimensions[1] < 16 ? dnnl_nchw : dnnl_format_tag_any)
    }

    /// The plain layouts of the tensors LearnedLoss stores: NCHW activations, PyTorch's weight order.
    private static func plainDescriptors(_ shape: ConvolutionShape)
        -> (source: dnnl_memory_desc_t, weights: dnnl_memory_desc_t, destination: dnnl_memory_desc_t,
            bias: dnnl_memory_desc_t, weightDimensions: [Int]) {
        let weightDimensions = [shape.outChannels, shape.inChannels, shape.kernel.height, shape.kernel.width]
        return (DNNL.descriptor(shape.input, dnnl_nchw), DNNL.descriptor(weightDimensions, dnnl_oihw),
                DNNL.descriptor(shape.output, dnnl_nchw), DNNL.descriptor([shape.outChannels], dnnl_a), weightDimensions)
    }

    /// Strides and the padding on each side; the right padding makes oneDNN's output size agree
    /// with the shape's (the floor division of a strided convolution can leave less on the right).
    private static func geometry(_ shape: ConvolutionShape) -> (strides: [dnnl_dim_t], left: [dnnl_dim_t], right: [dnnl_dim_t]) {
        func right(_ inSize: Int, _ outSize: Int, kernel: Int, padding: Int) -> dnnl_dim_t {
            dnnl_dim_t((outSize - 1) * shape.stride + kernel - inSize - padding)
        }
        return ([dnnl_dim_t(shape.stride), dnnl_dim_t(shape.stride)],
                [dnnl_dim_t(shape.padding.height), dnnl_dim_t(shape.padding.width)],
                [right(shape.inHeight, shape.outHeight, kernel: shape.kernel.height, padding: shape.padding.height),
                 right(shape.inWidth, shape.outWidth, kernel: shape.kernel.width, padding: shape.padding.width)])
    }

    /// Initialises a convolution descriptor through `initialize`, then asks oneDNN for its primitive descriptor.
    private static func descriptor(name: String, hint: PrimitiveDescriptor?,
                                   _ initialize: (UnsafeMutablePointer<dnnl_convolution_desc_t>) -> dnnl_status_t)
        throws(DNNLError) -> PrimitiveDescriptor {
        var operation = dnnl_convolution_desc_t()
        try check(initialize(&operation), name)
        return try PrimitiveDescriptor(&operation, hint: hint, name: name)
    }
}

/// `body` with a pointer to `value`, or with nil when `present` is false (oneDNN's "no bias").
private func withOptionalPointer<T, R>(to value: inout T, present: Bool, _ body: (UnsafePointer<T>?) -> R) -> R {
    present ? withUnsafePointer(to: &value) { body($0) } : body(nil)
}
