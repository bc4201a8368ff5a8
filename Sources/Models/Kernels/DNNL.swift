import CDNNL

/// A oneDNN call that failed: which primitive or call, on what, and oneDNN's status.
public struct DNNLError: Error, CustomStringConvertible {
    /// What was being done, for example "Conv2d(64, 128) forward for input [64, 64, 14, 14]".
    public let operation: String
    /// oneDNN's status name, for example "unimplemented".
    public let status: String

    public var description: String { "oneDNN: \(operation) failed: \(status)" }

    init(_ operation: String, _ code: dnnl_status_t) {
        self.operation = operation
        status = switch code {
        case dnnl_out_of_memory: "out of memory"
        case dnnl_invalid_arguments: "invalid arguments"
        case dnnl_unimplemented: "unimplemented (no kernel for this shape on this CPU)"
        case dnnl_runtime_error: "runtime error"
        case dnnl_not_required: "not required"
        default: "status \(code.rawValue)"
        }
    }
}

/// Turns a oneDNN status into a thrown `DNNLError` naming `operation`.
@inline(__always)
func check(_ code: dnnl_status_t, _ operation: @autoclosure () -> String) throws(DNNLError) {
    if code != dnnl_success { throw DNNLError(operation(), code) }
}

/// The one place that calls oneDNN's engine, stream, memory and primitive API: everything
/// else in LearnedLoss reaches oneDNN through these owners.
public enum DNNL {
    /// The CPU engine and its in-order stream, made once per process. On the CPU a primitive
    /// runs to completion inside `execute`, so no wait is needed after it.
    nonisolated(unsafe) static let context: (engine: dnnl_engine_t, stream: dnnl_stream_t) = {
        var engine: dnnl_engine_t?
        var stream: dnnl_stream_t?
        guard dnnl_engine_create(&engine, dnnl_cpu, 0) == dnnl_success, let engine,
              dnnl_stream_create(&stream, engine, dnnl_stream_default_flags.rawValue) == dnnl_success, let stream
        else { fatalError("oneDNN could not create its CPU engine: the library is installed but unusable on this machine") }
        return (engine, stream)
    }()

    /// oneDNN's version, for example "2.6.3".
    public static var version: String {
        let version = dnnl_version().pointee
        return "\(version.major).\(version.minor).\(version.patch)"
    }

    /// The instruction set oneDNN's JIT kernels use on this CPU, for example "avx512_core".
    public static var instructionSet: String {
        switch dnnl_get_effective_cpu_isa() {
        case dnnl_cpu_isa_sse41: "sse41"
        case dnnl_cpu_isa_avx: "avx"
        case dnnl_cpu_isa_avx2: "avx2"
        case dnnl_cpu_isa_avx2_vnni: "avx2_vnni"
        case dnnl_cpu_isa_avx512_core: "avx512_core"
        case dnnl_cpu_isa_avx512_core_vnni: "avx512_core_vnni"
        case dnnl_cpu_isa_avx512_core_bf16: "avx512_core_bf16"
        case dnnl_cpu_isa_avx512_core_amx: "avx512_core_amx"
        case let other: "isa 0x\(String(other.rawValue, radix: 16))"
        }
    }

    /// oneDNN's worker threads for this process (OpenMP's). Results are run-to-run identical
    /// for a fixed count, which is why a rank's count is part of what a bit-exact resume repeats.
    public static var threads: Int {
        get { Int(omp_get_max_threads()) }
        set { omp_set_num_threads(Int32(max(1, newValue))) }
    }

    /// A plain (dense, row-major) f32 memory descriptor of `dimensions` in `tag`'s order.
    static func descriptor(_ dimensions: [Int], _ tag: dnnl_format_tag_t) -> dnnl_memory_desc_t {
        var descriptor = dnnl_memory_desc_t()
        let dims = dimensions.map { dnnl_dim_t($0) }
        // Only fails for a rank above 12 or a tag of another rank: a programming error.
        let status = dims.withUnsafeBufferPointer {
            dnnl_memory_desc_init_by_tag(&descriptor, Int32(dims.count), $0.baseAddress, dnnl_f32, tag)
        }
        precondition(status == dnnl_success, "oneDNN memory descriptor \(dimensions) with tag \(tag.rawValue)")
        return descriptor
    }

    /// Row-major `C = alpha · op(A) · op(B) + beta · C` on oneDNN's JIT GEMM (see `Kernels.gemm`).
    static func sgemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                      a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                      beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        let status = dnnl_sgemm(CChar(UInt8(ascii: transposeA ? "T" : "N")), CChar(UInt8(ascii: transposeB ? "T" : "N")),
                                dnnl_dim_t(m), dnnl_dim_t(n), dnnl_dim_t(k), alpha, a, dnnl_dim_t(lda), b, dnnl_dim_t(ldb),
                                beta, c, dnnl_dim_t(ldc))
        // Fails only for inconsistent sizes or leading dimensions: a programming error.
        precondition(status == dnnl_success, "oneDNN sgemm \(m)x\(n)x\(k) (lda \(lda), ldb \(ldb), ldc \(ldc)) failed")
    }

    static func equal(_ lhs: dnnl_memory_desc_t, _ rhs: dnnl_memory_desc_t) -> Bool {
        withUnsafePointer(to: lhs) { l in withUnsafePointer(to: rhs) { r in dnnl_memory_desc_equal(l, r) != 0 } }
    }
}

/// A primitive descriptor: what oneDNN chose for one operation on one shape (kernel, layouts).
final class PrimitiveDescriptor {
    let handle: dnnl_primitive_desc_t
    let name: String

    /// `operationDescriptor` points at a `dnnl_*_desc_t`; `hint` is the forward descriptor a
    /// backward one must agree with.
    init(_ operationDescriptor: UnsafeRawPointer, hint: PrimitiveDescriptor? = nil, name: String) throws(DNNLError) {
        var handle: dnnl_primitive_desc_t?
        try check(dnnl_primitive_desc_create(&handle, operationDescriptor, nil, DNNL.context.engine, hint?.handle), name)
        self.handle = handle!
        self.name = name
    }

    /// A reorder from one layout of the same tensor to another.
    init(reorderFrom source: dnnl_memory_desc_t, to destination: dnnl_memory_desc_t, name: String) throws(DNNLError) {
        var handle: dnnl_primitive_desc_t?
        let engine = DNNL.context.engine
        let status = withUnsafePointer(to: source) { s in
            withUnsafePointer(to: destination) { d in dnnl_reorder_primitive_desc_create(&handle, s, engine, d, engine, nil) }
        }
        try check(status, name)
        self.handle = handle!
        self.name = name
    }

    deinit { dnnl_primitive_desc_destroy(handle) }

    /// The layout oneDNN chose for one of the operation's tensors.
    func descriptor(_ query: dnnl_query_t) -> dnnl_memory_desc_t { dnnl_primitive_desc_query_md(handle, query, 0).pointee }

    /// The kernel oneDNN picked, for example "jit:avx512_core" or "gemm:jit".
    var implementation: String {
        var text: UnsafePointer<CChar>?
        guard dnnl_primitive_desc_query(handle, dnnl_query_impl_info_str, 0, &text) == dnnl_success, let text else { return "?" }
        return String(cString: text)
    }
}

/// A created primitive, ready to run many times.
final class Primitive {
    let handle: dnnl_primitive_t
    let descriptor: PrimitiveDescriptor

    init(_ descriptor: PrimitiveDescriptor) throws(DNNLError) {
        var handle: dnnl_primitive_t?
        try check(dnnl_primitive_create(&handle, descriptor.handle), descriptor.name)
        self.handle = handle!
        self.descriptor = descriptor
    }

    deinit { dnnl_primitive_destroy(handle) }

    /// Runs the primitive on `arguments` (`DNNL_ARG_*`, memory).
    func execute(_ arguments: [(Int32, DNNLMemory)]) throws(DNNLError) {
        let list = arguments.map { dnnl_exec_arg_t(arg: $0.0, memory: $0.1.handle) }
        let status = list.withUnsafeBufferPointer {
            dnnl_primitive_execute(handle, DNNL.context.stream, Int32($0.count), $0.baseAddress)
        }
        try check(status, descriptor.name)
    }
}

/// A oneDNN memory object: either buffer oneDNN owns (a blocked copy), or a view whose data
/// pointer is set to a tensor's storage right before each use.
final class DNNLMemory {
    let handle: dnnl_memory_t

    /// `ownsStorage`: oneDNN allocates (and frees) the buffer; otherwise `bind` must set it before use.
    init(_ descriptor: dnnl_memory_desc_t, ownsStorage: Bool, name: String) throws(DNNLError) {
        var handle: dnnl_memory_t?
        let status = withUnsafePointer(to: descriptor) {
            dnnl_memory_create(&handle, $0, DNNL.context.engine, ownsStorage ? DNNL_MEMORY_ALLOCATE : nil)
        }
        try check(status, name)
        self.handle = handle!
    }

    deinit { dnnl_memory_destroy(handle) }

    /// Points this memory at `pointer`, which must hold the descriptor's size and outlive the next use.
    func bind(_ pointer: UnsafeRawPointer) {
        // Only fails for a null handle or a mismatched engine: neither can happen here.
        _ = dnnl_memory_set_data_handle(handle, UnsafeMutableRawPointer(mutating: pointer))
    }
}

/// A tensor as one primitive sees it: the layout LearnedLoss keeps it in (`layout`: oneDNN's
/// own blocked layout when a `Tensor` can hold it, else plain), and, only when oneDNN chose a
/// layout no `Tensor` holds, an owned copy in that layout with the reorders between them.
final class LayoutBridge {
    let layout: TensorLayout
    let outer: DNNLMemory
    let native: DNNLMemory
    private let toNative: Primitive?
    private let toOuter: Primitive?

    /// - Parameters:
    ///   - plain: the tensor's plain descriptor (NCHW, or PyTorch's weight order).
    ///   - native: the layout the primitive chose.
    ///   - image: the dimensions `[N, C, H, W]` of an activation, which may stay in a blocked
    ///     layout between layers; nil for weights, which stay in PyTorch's order.
    init(plain: dnnl_memory_desc_t, native chosen: dnnl_memory_desc_t, image: [Int]?, name: String) throws(DNNLError) {
        let blocked = image.flatMap { dimensions in
            TensorLayout.blockWidths.first { width in
                dimensions[1] % width == 0 && DNNL.equal(DNNL.descriptor(dimensions, DNNL.blockedTag(width)), chosen)
            }
        }
        layout = blocked.map { .channelBlocks(width: $0) } ?? .plain
        let outerDescriptor = blocked == nil ? plain : chosen
        outer = try DNNLMemory(outerDescriptor, ownsStorage: false, name: name)
        if DNNL.equal(outerDescriptor, chosen) {
            native = outer
            toNative = nil
            toOuter = nil
        } else {
            native = try DNNLMemory(chosen, ownsStorage: true, name: name)
            toNative = try Primitive(PrimitiveDescriptor(reorderFrom: outerDescriptor, to: chosen, name: "\(name) reorder in"))
            toOuter = try Primitive(PrimitiveDescriptor(reorderFrom: chosen, to: outerDescriptor, name: "\(name) reorder out"))
        }
    }

    /// Makes the native memory hold `values` (in `layout`).
    func load(_ values: UnsafePointer<Float>) throws(DNNLError) {
        outer.bind(values)
        try toNative?.execute([(DNNL_ARG_FROM, outer), (DNNL_ARG_TO, native)])
    }

    /// Readies the native memory to be written; `store` then puts the result into `values` (in `layout`).
    func prepareOutput(_ values: UnsafeMutablePointer<Float>) { outer.bind(values) }

    func store() throws(DNNLError) {
        try toOuter?.execute([(DNNL_ARG_FROM, native), (DNNL_ARG_TO, outer)])
    }
}

extension TensorLayout {
    /// The channel blocks oneDNN's f32 kernels use: 16 on AVX-512, 8 on AVX2 and SSE4.1.
    static let blockWidths = [16, 8]
}

extension DNNL {
    /// Copies an image `[N, C, H, W]` from one layout to another with oneDNN's reorder, made
    /// once per shape and direction (a network meets a handful of them).
    static func reorder(_ source: UnsafePointer<Float>, from: TensorLayout, into destination: UnsafeMutablePointer<Float>,
                        to: TensorLayout, dimensions: [Int]) {
        let key = ReorderKey(dimensions: dimensions, from: from, to: to)
        let reorder: (primitive: Primitive, source: DNNLMemory, destination: DNNLMemory)
        if let known = reorders[key] {
            reorder = known
        } else {
            do {
                let name = "reorder of \(dimensions) from \(from) to \(to)"
                let (fromDescriptor, toDescriptor) = (descriptor(dimensions, tag(from)), descriptor(dimensions, tag(to)))
                reorder = (try Primitive(PrimitiveDescriptor(reorderFrom: fromDescriptor, to: toDescriptor, name: name)),
                           try DNNLMemory(fromDescriptor, ownsStorage: false, name: name),
                           try DNNLMemory(toDescriptor, ownsStorage: false, name: name))
            } catch {
                // A reorder between two dense f32 layouts has a reference kernel; failing here is a library fault.
                fatalError("\(error)")
            }
            if reorders.count >= 64 { reorders.removeAll() }
            reorders[key] = reorder
        }
        reorder.source.bind(source)
        reorder.destination.bind(destination)
        do { try reorder.primitive.execute([(DNNL_ARG_FROM, reorder.source), (DNNL_ARG_TO, reorder.destination)]) } catch {
            fatalError("\(error)")
        }
    }

    private struct ReorderKey: Hashable {
        let dimensions: [Int]
        let from: TensorLayout, to: TensorLayout
    }
    nonisolated(unsafe) private static var reorders: [ReorderKey: (primitive: Primitive, source: DNNLMemory, destination: DNNLMemory)] = [:]

    private static func tag(_ layout: TensorLayout) -> dnnl_format_tag_t {
        switch layout {
        case .plain: dnnl_nchw
        case .channelBlocks(let width): blockedTag(width)
        }
    }

    /// oneDNN's tag for `[N, C/width, H, W, width]`.
    static func blockedTag(_ width: Int) -> dnnl_format_tag_t {
        precondition(TensorLayout.blockWidths.contains(width), "oneDNN's f32 kernels block channels by 8 or 16, not \(width)")
        return width == 16 ? dnnl_aBcd16b : dnnl_aBcd8b
    }
}
