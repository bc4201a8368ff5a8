import CBLAS
import Foundation

/// The one Swift file that calls OpenBLAS: the metrics' double-precision algebra and the
/// library's threading. Single-precision products run on oneDNN (`Kernels.gemm`).
public enum BLAS {
    /// OpenBLAS's worker threads for this process (`Kernels.threads` sets them with oneDNN's).
    public static var threads: Int {
        get { Int(openblas_get_num_threads()) }
        set { openblas_set_num_threads(Int32(max(1, newValue))) }
    }

    /// The default threads per rank: the node's cores shared evenly by the ranks on it, at least one,
    /// so ranks times threads never oversubscribes a node.
    public static func defaultThreads(ranksOnNode: Int) -> Int {
        max(1, ProcessInfo.processInfo.activeProcessorCount / max(1, ranksOnNode))
    }

    /// OpenBLAS's build description, for example "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Haswell MAX_THREADS=64".
    public static var configuration: String { String(cString: openblas_get_config()).trimmingCharacters(in: .whitespaces) }

    /// The CPU kernel family OpenBLAS chose (or was told by `OPENBLAS_CORETYPE`), for example "Haswell".
    public static var coreName: String { String(cString: openblas_get_corename()) }
}

/// The LAPACK routines LearnedLoss uses, from OpenBLAS.
public enum LAPACK {
    /// A LAPACK routine's failure code.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Eigenvalues (ascending) and, with `vectors`, eigenvectors (row i of `vectors` is eigenvector
    /// i; empty without) of the symmetric `n`×`n` matrix `matrix` (row-major), by `dsyevd`, whose
    /// divide and conquer took a 2048² covariance (FID in Inception features) in a fraction of `dsyev`'s time.
    public static func symmetricEigen(_ matrix: [Double], n: Int, vectors: Bool = true) throws -> (values: [Double], vectors: [Double]) {
        precondition(matrix.count == n * n)
        // Fortran is column-major: the symmetric input reads the same, and the eigenvector columns
        // come back as rows of the row-major result.
        var a = matrix, values = [Double](repeating: 0, count: n)
        let job = vectors ? "V" : "N"
        var size = Int32(n), info: Int32 = 0, query = -1 as Int32, optimal = 0.0, optimalIntegers: Int32 = 0
        dsyevd_(job, "U", &size, &a, &size, &values, &optimal, &query, &optimalIntegers, &query, &info, 1, 1)
        var (workSize, integerSize) = (Int32(optimal), optimalIntegers)
        var work = [Double](repeating: 0, count: Int(workSize)), integers = [Int32](repeating: 0, count: Int(integerSize))
        dsyevd_(job, "U", &size, &a, &size, &values, &work, &workSize, &integers, &integerSize, &info, 1, 1)
        guard info == 0 else { throw Failure(description: "dsyevd failed with info \(info)") }
        return (values, vectors ? a : [])
    }

    /// The `count` vectors of `length` (≥ `count`) in `vectors` (row-major `[count, length]`)
    /// orthonormalised in order, as Gram–Schmidt would: QR by `dgeqrf` and `dorgqr`, each of Q's
    /// columns signed so that R's diagonal is positive.
    public static func orthonormalized(_ vectors: [Double], count: Int, length: Int) throws -> [Double] {
        precondition(vectors.count == count * length && count <= length)
        // The row-major vectors are the columns of a column-major [length, count] matrix.
        var a = vectors, tau = [Double](repeating: 0, count: count)
        var (m, n, info, query, optimal) = (Int32(length), Int32(count), Int32(0), Int32(-1), 0.0)
        dgeqrf_(&m, &n, &a, &m, &tau, &optimal, &query, &info)
        var workSize = Int32(optimal)
        var work = [Double](repeating: 0, count: Int(workSize))
        dgeqrf_(&m, &n, &a, &m, &tau, &work, &workSize, &info)
        guard info == 0 else { throw Failure(description: "dgeqrf failed with info \(info)") }
        let signs = (0..<count).map { a[$0 * length + $0] < 0 ? -1.0 : 1.0 }
        dorgqr_(&m, &n, &n, &a, &m, &tau, &optimal, &query, &info)
        workSize = Int32(optimal)
        work = [Double](repeating: 0, count: Int(workSize))
        dorgqr_(&m, &n, &n, &a, &m, &tau, &work, &workSize, &info)
        guard info == 0 else { throw Failure(description: "dorgqr failed with info \(info)") }
        for (column, sign) in signs.enumerated() where sign < 0 {
            for k in column * length..<(column + 1) * length { a[k] = -a[k] }
        }
        return a
    }
}

extension BLAS {
    /// `C = alpha · op(A) · op(B) + beta · C` in Double, row-major (the evaluation metrics' covariances).
    public static func dgemm(transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int, alpha: Double = 1,
                             a: [Double], lda: Int, b: [Double], ldb: Int, beta: Double = 0, c: inout [Double], ldc: Int) {
        cblas_dgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, &c, Int32(ldc))
    }
}
