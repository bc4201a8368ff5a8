import CDNNL

/// The sizes one convolution call is made for: oneDNN's primitives are created per shape.
struct ConvolutionShape: Hashable, CustomStringConvertible {
    let batch: Int, inChannels: Int, outChannels: Int
    let inHeight: Int, inWidth: Int, outHeight: Int, outWidth: Int
    let kernel: Int, stride: Int, padding: Int

    var input: [Int] { [batch, inChannels, inHeight, inWidth] }
    var output: [Int] { [batch, outChannels, outHeight, outWidth] }
    var description: String { "input \(input) → output \(output), kernel \(kernel), stride \(stride), padding \(padding)" }
}

/// oneDNN's convolution or deconvolution (transposed convolution) for one layer at one shape:
/// forward, backward-data and backward-weights primitives, each created on first use and run
/// every step after. Activations come and go in the blocked layout oneDNN chose for this CPU
/// (`source.layout`, `destination.layout`), so consecutive oneDNN layers pass them on without
/// a reorder; weights stay in PyTorch's order and are reordered inside each call.
///
/// - x `[N, inChannels, H, W]`, y `[N, outChannels, OH, OW]` (NCHW)
/// - weight `[outChannels, inChannels, k, k]` for a convolution, `[inChannels, outChannels, k, k]`
///   for a deconvolution (PyTorch's layouts); bias `[outChannels]`
final class ConvolutionKernels {
    enum Kind { case convolution, deconvolution }

    let kind: Kind
    let shape: ConvolutionShape
    let name: String

    private let forwardDescriptor: PrimitiveDescriptor
    private let forwardPrimitive: Primitive
    let source: LayoutBridge, destination: LayoutBridge
    private let weights: LayoutBridge
    private let bias: DNNLMemory

    // Made on first use: a network that is only sampled from, or never updated, never needs them.
    private var backwardDataKernels: BackwardData?
    private var backwardWeightsKernels: BackwardWeights?

    init(_ kind: Kind, _ shape: ConvolutionShape, name: String) throws(DNNLError) {
        (self.kind, self.shape, self.name) = (kind, shape, name)
        let plain = Self.plainDescriptors(kind, shape)
        var any = (source: Self.activation(shape.input), weights: DNNL.descriptor(plain.weightDimensions, dnnl_format_tag_any),
                   destination: Self.activation(shape.output))
        var biasDescriptor = plain.bias
        let geometry = Self.geometry(kind, shape)
        forwardDescriptor = try Self.withOperation(kind, name: "\(name) forward", hint: nil) { convolution, deconvolution in
            switch kind {
            case .convolution:
                dnnl_convolution_forward_desc_init(convolution, dnnl_forward_training, dnnl_convolution_direct, &any.source,
                                                   &any.weights, &biasDescriptor, &any.destination,
                                                   geometry.strides, geometry.left, geometry.right)
            case .deconvolution:
                dnnl_deconvolution_forward_desc_init(deconvolution, dnnl_forward_training, dnnl_deconvolution_direct, &any.source,
                                                     &any.weights, &biasDescriptor, &any.destination,
                                                     geometry.strides, geometry.left, geometry.right)
            }
        }
        forwardPrimitive = try Primitive(forwardDescriptor)
        source = try LayoutBridge(plain: plain.source, native: forwardDescriptor.descriptor(dnnl_query_src_md),
                                  image: shape.input, name: name)
        weights = try LayoutBridge(plain: plain.weights, native: forwardDescriptor.descriptor(dnnl_query_weights_md),
                                   image: nil, name: name)
        destination = try LayoutBridge(plain: plain.destination, native: forwardDescriptor.descriptor(dnnl_query_dst_md),
                                       image: shape.output, name: name)
        bias = try DNNLMemory(plain.bias, ownsStorage: false, name: name)
    }

    /// The kernel oneDNN runs forward, for example "jit:avx512_core".
    var implementation: String { forwardDescriptor.implementation }

    /// Multiply-adds times two of one pass (forward, backward data or backward weights alike).
    var floatOperations: Int {
        let image = kind == .convolution ? shape.outHeight * shape.outWidth : shape.inHeight * shape.inWidth
        return 2 * shape.batch * shape.inChannels * shape.outChannels * shape.kernel * shape.kernel * image
    }

    /// y = conv(x, weight) + bias; `y` is overwritten. x is in `source.layout`, y in `destination.layout`.
    func forward(_ x: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias biasValues: UnsafePointer<Float>,
                 into y: UnsafeMutablePointer<Float>) throws(DNNLError) {
        try source.load(x)
        try weights.load(weight)
        bias.bind(biasValues)
        destination.prepareOutput(y)
        Kernels.floatOperations &+= floatOperations
        try forwardPrimitive.execute([(DNNL_ARG_SRC, source.native), (DNNL_ARG_WEIGHTS, weights.native),
                                      (DNNL_ARG_BIAS, bias), (DNNL_ARG_DST, destination.native)])
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
            let (kind, shape, name) = (kernels.kind, kernels.shape, "\(kernels.name) backward data")
            operations = kernels.floatOperations
            let plain = ConvolutionKernels.plainDescriptors(kind, shape)
            var any = (inputGradient: ConvolutionKernels.activation(shape.input),
                       weights: DNNL.descriptor(plain.weightDimensions, dnnl_format_tag_any),
                       outputGradient: ConvolutionKernels.activation(shape.output))
            let geometry = ConvolutionKernels.geometry(kind, shape)
            let descriptor = try ConvolutionKernels.withOperation(kind, name: name, hint: kernels.forwardDescriptor) { convolution, deconvolution in
                switch kind {
                case .convolution:
                    dnnl_convolution_backward_data_desc_init(convolution, dnnl_convolution_direct, &any.inputGradient, &any.weights,
                                                             &any.outputGradient, geometry.strides, geometry.left, geometry.right)
                case .deconvolution:
                    dnnl_deconvolution_backward_data_desc_init(deconvolution, dnnl_deconvolution_direct, &any.inputGradient,
                                                               &any.weights, &any.outputGradient,
                                                               geometry.strides, geometry.left, geometry.right)
                }
            }
            primitive = try Primitive(descriptor)
            outputGradient = try LayoutBridge(plain: plain.destination, native: descriptor.descriptor(dnnl_query_diff_dst_md),
                                              image: shape.output, name: name)
            weights = try LayoutBridge(plain: plain.weights, native: descriptor.descriptor(dnnl_query_weights_md), image: nil, name: name)
            inputGradient = try LayoutBridge(plain: plain.source, native: descriptor.descriptor(dnnl_query_diff_src_md),
                                             image: shape.input, name: name)
        }

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

    /// Adds the gradients of `forward` by weight and bias, for input x and output gradient dy,
    /// onto the weight and bias gradients (PyTorch's layouts).
    final class BackwardWeights {
        let primitive: Primitive
        let input: LayoutBridge, outputGradient: LayoutBridge, weightGradient: LayoutBridge
        let operations: Int
        let biasGradient: DNNLMemory
        /// The step's weight and bias gradients in plain layout, before they are added on.
        var weightScratch: [Float], biasScratch: [Float]

        init(_ kernels: ConvolutionKernels) throws(DNNLError) {
            let (kind, shape, name) = (kernels.kind, kernels.shape, "\(kernels.name) backward weights")
            operations = kernels.floatOperations
            let plain = ConvolutionKernels.plainDescriptors(kind, shape)
            var any = (input: ConvolutionKernels.activation(shape.input),
                       weightGradient: DNNL.descriptor(plain.weightDimensions, dnnl_format_tag_any),
                       outputGradient: ConvolutionKernels.activation(shape.output))
            var biasDescriptor = plain.bias
            let geometry = ConvolutionKernels.geometry(kind, shape)
            let descriptor = try ConvolutionKernels.withOperation(kind, name: name, hint: kernels.forwardDescriptor) { convolution, deconvolution in
                switch kind {
                case .convolution:
                    dnnl_convolution_backward_weights_desc_init(convolution, dnnl_convolution_direct, &any.input, &any.weightGradient,
                                                                &biasDescriptor, &any.outputGradient,
                                                                geometry.strides, geometry.left, geometry.right)
                case .deconvolution:
                    dnnl_deconvolution_backward_weights_desc_init(deconvolution, dnnl_deconvolution_direct, &any.input,
                                                                  &any.weightGradient, &biasDescriptor, &any.outputGradient,
                                                                  geometry.strides, geometry.left, geometry.right)
                }
            }
            primitive = try Primitive(descriptor)
            input = try LayoutBridge(plain: plain.source, native: descriptor.descriptor(dnnl_query_src_md), image: shape.input, name: name)
            outputGradient = try LayoutBridge(plain: plain.destination, native: descriptor.descriptor(dnnl_query_diff_dst_md),
                                              image: shape.output, name: name)
            weightGradient = try LayoutBridge(plain: plain.weights, native: descriptor.descriptor(dnnl_query_diff_weights_md),
                                              image: nil, name: name)
            biasGradient = try DNNLMemory(plain.bias, ownsStorage: false, name: name)
            weightScratch = [Float](repeating: 0, count: plain.weightDimensions.reduce(1, *))
            biasScratch = [Float](repeating: 0, count: shape.outChannels)
        }

        func run(_ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, addingTo weightSum: UnsafeMutablePointer<Float>,
                 biasGradient biasSum: UnsafeMutablePointer<Float>) throws(DNNLError) {
            try input.load(x)
            try outputGradient.load(dy)
            try weightScratch.withUnsafeMutableBufferPointer { (weights) throws(DNNLError) in
                try biasScratch.withUnsafeMutableBufferPointer { (bias) throws(DNNLError) in
                    weightGradient.prepareOutput(weights.baseAddress!)
                    biasGradient.bind(bias.baseAddress!)
                    Kernels.floatOperations &+= operations
                    try primitive.execute([(DNNL_ARG_SRC, input.native), (DNNL_ARG_DIFF_DST, outputGradient.native),
                                           (DNNL_ARG_DIFF_WEIGHTS, weightGradient.native), (DNNL_ARG_DIFF_BIAS, biasGradient)])
                    try weightGradient.store()
                    for index in weights.indices { weightSum[index] += weights[index] }
                    for index in bias.indices { biasSum[index] += bias[index] }
                }
            }
        }
    }

    /// An activation `[N, C, H, W]` in the layout oneDNN picks, or plain NCHW for fewer than 16
    /// channels: the blocked kernels pad channels to the block width (16 on AVX-512), so a
    /// one-channel image would cost sixteen times its work, while on plain layouts oneDNN runs
    /// its GEMM-based kernel (dcgan28's image layers: 7x faster backward, 3x faster forward).
    private static func activation(_ dimensions: [Int]) -> dnnl_memory_desc_t {
        DNNL.descriptor(dimensions, dimensions[1] < 16 ? dnnl_nchw : dnnl_format_tag_any)
    }

    /// The plain layouts of the tensors LearnedLoss stores: NCHW activations, PyTorch's weight order.
    private static func plainDescriptors(_ kind: Kind, _ shape: ConvolutionShape)
        -> (source: dnnl_memory_desc_t, weights: dnnl_memory_desc_t, destination: dnnl_memory_desc_t,
            bias: dnnl_memory_desc_t, weightDimensions: [Int]) {
        // oneDNN's weight dimensions are always (out, in, k, k); a deconvolution's PyTorch storage is (in, out, k, k).
        let weightDimensions = [shape.outChannels, shape.inChannels, shape.kernel, shape.kernel]
        return (DNNL.descriptor(shape.input, dnnl_nchw),
                DNNL.descriptor(weightDimensions, kind == .convolution ? dnnl_oihw : dnnl_iohw),
                DNNL.descriptor(shape.output, dnnl_nchw),
                DNNL.descriptor([shape.outChannels], dnnl_a),
                weightDimensions)
    }

    /// Strides and the padding on each side; the right padding makes oneDNN's output size
    /// agree with the shape's (a convolution's floor division can leave less on the right).
    private static func geometry(_ kind: Kind, _ shape: ConvolutionShape)
        -> (strides: [dnnl_dim_t], left: [dnnl_dim_t], right: [dnnl_dim_t]) {
        // The image the kernel slides over is the input of a convolution and the output of a deconvolution.
        func right(_ inSize: Int, _ outSize: Int) -> dnnl_dim_t {
            let (windows, image) = kind == .convolution ? (outSize, inSize) : (inSize, outSize)
            return dnnl_dim_t((windows - 1) * shape.stride + shape.kernel - image - shape.padding)
        }
        return ([dnnl_dim_t(shape.stride), dnnl_dim_t(shape.stride)],
                [dnnl_dim_t(shape.padding), dnnl_dim_t(shape.padding)],
                [right(shape.inHeight, shape.outHeight), right(shape.inWidth, shape.outWidth)])
    }

    /// Initialises the operation descriptor of `kind` through `initialize`, then asks oneDNN for its primitive descriptor.
    private static func withOperation(
        _ kind: Kind, name: String, hint: PrimitiveDescriptor?,
        _ initialize: (UnsafeMutablePointer<dnnl_convolution_desc_t>, UnsafeMutablePointer<dnnl_deconvolution_desc_t>) -> dnnl_status_t
    ) throws(DNNLError) -> PrimitiveDescriptor {
        var convolution = dnnl_convolution_desc_t(), deconvolution = dnnl_deconvolution_desc_t()
        try check(initialize(&convolution, &deconvolution), name)
        return switch kind {
        case .convolution: try PrimitiveDescriptor(&convolution, hint: hint, name: name)
        case .deconvolution: try PrimitiveDescriptor(&deconvolution, hint: hint, name: name)
        }
    }
}
