/// What the network layers run on, as one process-wide setting and report: oneDNN (convolutions
/// and every single-precision matrix product) and OpenBLAS (the metrics' double-precision
/// linear algebra).
public enum Kernels {
    /// Threads per rank for both libraries and for `Parallel`'s loops, set together so ranks
    /// times threads never exceeds a node's cores. Results are run-to-run identical for a fixed
    /// count, which is why it is part of what a bit-exact resume repeats.
    public static var threads: Int {
        get { DNNL.threads }
        set {
            BLAS.threads = newValue
            DNNL.threads = newValue
        }
    }

    /// `C = alpha * op(A) * op(B) + beta * C` on row-major matrices, on oneDNN's GEMM: every layer's
    /// single-precision matrix product, counted in `floatOperations`.
    ///
    /// oneDNN's GEMM runs on the OpenMP threads its convolutions use. OpenBLAS keeps a pool of
    /// its own, whose workers spin after each product; beside OpenMP's, the two pools fought over
    /// the cores and dcgan28 at 2 threads ran at two thirds of the speed it reaches on one pool.
    ///
    /// - Parameters:
    ///   - a: `[m, k]` (or `[k, m]` when `transposeA`), leading dimension `lda`.
    ///   - b: `[k, n]` (or `[n, k]` when `transposeB`), leading dimension `ldb`.
    ///   - c: `[m, n]`, leading dimension `ldc`; read only when `beta != 0`.
    public static func gemm(
        transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int,
        alpha: Float = 1, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        Kernels.floatOperations &+= 2 * m * n * k
        DNNL.sgemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha,
                   a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
    }

    /// Floating-point operations issued by matrix products and convolutions so far (2 per
    /// multiply-add): benchmarks read it to report the rate a training iteration reaches.
    /// Only the thread running the model issues them, so a plain counter suffices.
    nonisolated(unsafe) public static var floatOperations = 0

    /// The oneDNN implementations the convolutions among `layers` chose for the shapes they
    /// have run on, for example ["jit:avx512_core", "x64:gemm:jit"].
    public static func convolutionImplementations(in layers: [Layer]) -> [String] {
        let caches = layers.flatMap(\.allLayers).compactMap { ($0 as? Conv2d)?.cache ?? ($0 as? ConvTranspose2d)?.cache }
        return Set(caches.flatMap(\.implementations)).sorted()
    }

    /// One line naming both libraries and what they run on this CPU, for example
    /// "oneDNN 2.6.3 (avx512_core_bf16), OpenBLAS Cooperlake".
    public static var summary: String {
        "oneDNN \(DNNL.version) (\(DNNL.instructionSet)), OpenBLAS \(BLAS.coreName)"
    }
}
