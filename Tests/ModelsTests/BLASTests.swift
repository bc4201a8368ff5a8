import Models
import XCTest

final class BLASTests: XCTestCase {
    func testGemmWithTransposes() {
        // A = [[1, 2, 3], [4, 5, 6]] (2x3); B = [[1, 0], [0, 1], [1, 1]] (3x2).
        let a: [Float] = [1, 2, 3, 4, 5, 6]
        let b: [Float] = [1, 0, 0, 1, 1, 1]
        var c = [Float](repeating: 0, count: 4)
        Kernels.gemm(m: 2, n: 2, k: 3, a: a, lda: 3, b: b, ldb: 2, c: &c, ldc: 2)
        XCTAssertEqual(c, [4, 5, 10, 11])
        // Aᵀ A (3x3) reading A as [k=2, m=3] transposed.
        var gram = [Float](repeating: 1, count: 9)
        Kernels.gemm(transposeA: true, m: 3, n: 3, k: 2, a: a, lda: 3, b: a, ldb: 3, beta: 1, c: &gram, ldc: 3)
        XCTAssertEqual(gram, [18, 23, 28, 23, 30, 37, 28, 37, 46])
    }

    func testThreadsAreSetAndDefaultsShareTheNode() {
        let before = BLAS.threads
        defer { BLAS.threads = before }
        BLAS.threads = 1
        XCTAssertEqual(BLAS.threads, 1)
        let cores = ProcessInfo.processInfo.activeProcessorCount
        XCTAssertEqual(BLAS.defaultThreads(ranksOnNode: 1), cores)
        XCTAssertEqual(BLAS.defaultThreads(ranksOnNode: cores * 4), 1)
        XCTAssertFalse(BLAS.coreName.isEmpty)
        XCTAssertTrue(BLAS.configuration.hasPrefix("OpenBLAS"), BLAS.configuration)
    }
}
