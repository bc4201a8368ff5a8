import Distributed
import Foundation
import Models


/// Sample-quality metrics in a feature space, each a function of feature sets `[N, d]`
/// (and, for the classifier's own figures, class probabilities `[N, classes]`).
public enum ImageMetrics {
    /// The mean `[d]` and covariance `[d, d]` (unbiased, as numpy.cov) of features `[N, d]`, in Double.
    public struct Gaussian: Codable, Sendable {
        public let mean: [Double]
        public let covariance: [Double]
        public var dimension: Int { mean.count }

        public init(mean: [Double], covariance: [Double]) {
            (self.mean, self.covariance) = (mean, covariance)
        }

        public init(features: Tensor) {
            let (n, d) = (features.shape[0], features.shape[1])
            var mean = [Double](repeating: 0, count: d)
            for row in 0..<n { for column in 0..<d { mean[column] += Double(features.scalars[row * d + column]) } }
            mean = mean.map { $0 / Double(n) }
            var centred = [Double](repeating: 0, count: n * d)
            for row in 0..<n { for column in 0..<d { centred[row * d + column] = Double(features.scalars[row * d + column]) - mean[column] } }
            var covariance = [Double](repeating: 0, count: d * d)
            BLAS.dgemm(transposeA: true, m: d, n: d, k: n, alpha: 1 / Double(max(n - 1, 1)), a: centred, lda: d, b: centred, ldb: d, c: &covariance, ldc: d)
            self.init(mean: mean, covariance: covariance)
        }
    }

    /// Fréchet distance between two Gaussians: ‖μ₁ − μ₂‖² + tr Σ₁ + tr Σ₂ − 2 tr (Σ₁^½ Σ₂ Σ₁^½)^½.
    /// The matrix square roots come from LAPACK's symmetric eigensolver (negative rounding-level
    /// eigenvalues count as zero).
    public static func frechetDistance(_ a: Gaussian, _ b: Gaussian) throws -> Double {
        let d = a.dimension
        let meanTerm = zip(a.mean, b.mean).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
        let traces = (0..<d).reduce(0) { $0 + a.covariance[$1 * d + $1] + b.covariance[$1 * d + $1] }
        let root = try symmetricSquareRoot(a.covariance, n: d)
        var product = [Double](repeating: 0, count: d * d), sandwich = product
        BLAS.dgemm(m: d, n: d, k: d, a: root, lda: d, b: b.covariance, ldb: d, c: &product, ldc: d)
        BLAS.dgemm(m: d, n: d, k: d, a: product, lda: d, b: root, ldb: d, c: &sandwich, ldc: d)
        // Symmetrise away rounding before the eigensolver.
        for i in 0..<d { for j in 0..<i { let mean = (sandwich[i * d + j] + sandwich[j * d + i]) / 2; sandwich[i * d + j] = mean; sandwich[j * d + i] = mean } }
        let traceOfRoot = try LAPACK.symmetricEigen(sandwich, n: d, vectors: false).values.reduce(0) { $0 + max($1, 0).squareRoot() }
        return meanTerm + traces - 2 * traceOfRoot
    }

    static func symmetricSquareRoot(_ matrix: [Double], n: Int) throws -> [Double] {
        let (values, vectors) = try LAPACK.symmetricEigen(matrix, n: n)
        // Σ_k √λ_k v_k v_kᵀ = Vᵀ (√Λ V), V's rows the eigenvectors: one matrix product.
        var scaled = vectors
        for k in 0..<n {
            let scale = max(values[k], 0).squareRoot()
            for i in 0..<n { scaled[k * n + i] *= scale }
        }
        var root = [Double](repeating: 0, count: n * n)
        BLAS.dgemm(transposeA: true, m: n, n: n, k: n, a: vectors, lda: n, b: scaled, ldb: n, c: &root, ldc: n)
        return root
    }

    /// Kernel Inception Distance (Bińkowski et al. 2018): the unbiased MMD² with the polynomial kernel
    /// k(x, y) = (x·y / d + 1)³, averaged over `subsets` random subsets of `subsetSize` from each set.
    public static func kernelDistance(_ x: Tensor, _ y: Tensor, subsets: Int = 100, subsetSize: Int = 1000,
                                      random: inout RandomStream) -> (mean: Double, standardDeviation: Double) {
        let m = min(subsetSize, x.shape[0], y.shape[0])
        var estimates: [Double] = []
        for _ in 0..<subsets {
            let first = rows(x, Array(random.permutation(x.shape[0]).prefix(m)))
            let second = rows(y, Array(random.permutation(y.shape[0]).prefix(m)))
            estimates.append(unbiasedMMD(first, second))
        }
        let mean = estimates.reduce(0, +) / Double(estimates.count)
        let variance = estimates.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(max(estimates.count - 1, 1))
        return (mean, variance.squareRoot())
    }

    /// The unbiased MMD² of two equally sized sets `[m, d]` under the cubic polynomial kernel.
    public static func unbiasedMMD(_ x: Tensor, _ y: Tensor) -> Double {
        let (m, d) = (x.shape[0], x.shape[1])
        func kernelSum(_ a: Tensor, _ b: Tensor, skipDiagonal: Bool) -> Double {
            var gram = [Float](repeating: 0, count: m * m)
            Kernels.gemm(transposeB: true, m: m, n: m, k: d, alpha: 1 / Float(d), a: a.scalars, lda: d, b: b.scalars, ldb: d, c: &gram, ldc: m)
            var total = 0.0
            // A cube as two products: pow() made this loop most of an evaluation's time.
            for i in 0..<m {
                for j in 0..<m where !(skipDiagonal && i == j) {
                    let value = Double(gram[i * m + j]) + 1
                    total += value * value * value
                }
            }
            return total
        }
        let pairs = Double(m * (m - 1))
        return kernelSum(x, x, skipDiagonal: true) / pairs + kernelSum(y, y, skipDiagonal: true) / pairs
            - 2 * kernelSum(x, y, skipDiagonal: false) / Double(m * m)
    }

    /// Improved precision and recall (Kynkäänniemi et al. 2019): each set's manifold is the union of
    /// balls reaching each point's k-th nearest neighbour in its own set; precision is the share of
    /// generated points inside the real manifold, recall the share of real points inside the generated one.
    public static func precisionRecall(real: Tensor, generated: Tensor, k: Int = 3) -> (precision: Double, recall: Double) {
        let realRadii = kthNeighbourDistances(real, k: k), generatedRadii = kthNeighbourDistances(generated, k: k)
        return (share(of: generated, insideBallsOf: real, radii: realRadii), share(of: real, insideBallsOf: generated, radii: generatedRadii))
    }

    /// The classifier-score form of the Inception Score, exp E_x KL(p(y|x) ‖ p(y)), for probabilities `[N, classes]`.
    public static func classifierScore(_ probabilities: Tensor) -> Double {
        let (n, classes) = (probabilities.shape[0], probabilities.shape[1])
        var marginal = [Double](repeating: 0, count: classes)
        for row in 0..<n { for c in 0..<classes { marginal[c] += Double(probabilities.scalars[row * classes + c]) / Double(n) } }
        var total = 0.0
        for row in 0..<n {
            for c in 0..<classes {
                let p = Double(probabilities.scalars[row * classes + c])
                if p > 0 { total += p * log(p / marginal[c]) }
            }
        }
        return exp(total / Double(n))
    }

    /// The most probable class of each sample, counted per class; and the KL of that histogram from uniform.
    public static func classCoverage(_ probabilities: Tensor) -> (counts: [Int], klFromUniform: Double) {
        let (n, classes) = (probabilities.shape[0], probabilities.shape[1])
        var counts = [Int](repeating: 0, count: classes)
        for row in rowArgmax(probabilities) { counts[row] += 1 }
        return (counts, klFromUniform(counts)!)
    }

    /// The column of each row's largest value (the first on a tie) of `[N, C]`.
    static func rowArgmax(_ matrix: Tensor) -> [Int] {
        let columns = matrix.shape[1]
        return (0..<matrix.shape[0]).map { row in
            let scores = matrix.scalars[row * columns..<(row + 1) * columns]
            return scores.indices.max { scores[$0] < scores[$1] }! - row * columns
        }
    }

    /// KL(histogram ‖ uniform over its bins), in nats; nil for an empty histogram.
    static func klFromUniform(_ counts: [Int]) -> Double? {
        let total = counts.reduce(0, +)
        guard total > 0 else { return nil }
        return counts.filter { $0 > 0 }.reduce(0.0) { sum, count in
            let p = Double(count) / Double(total)
            return sum + p * log(p * Double(counts.count))
        }
    }

    // MARK: Distances

    /// Distance from each point of `[N, d]` to its k-th nearest other point.
    static func kthNeighbourDistances(_ points: Tensor, k: Int) -> [Float] {
        var radii = [Float](repeating: 0, count: points.shape[0])
        forEachDistanceBlock(points, points) { row, distances in
            // k + 1: the nearest is the point itself, at distance 0.
            var smallest = [Float](repeating: .infinity, count: k + 1)
            for distance in distances where distance < smallest[k] {
                smallest[k] = distance
                smallest.sort()
            }
            radii[row] = smallest[k].squareRoot()
        }
        return radii
    }

    /// The share of `points` within `radii[j]` of some `centres[j]`.
    static func share(of points: Tensor, insideBallsOf centres: Tensor, radii: [Float]) -> Double {
        var inside = 0
        forEachDistanceBlock(points, centres) { _, distances in
            if zip(distances, radii).contains(where: { $0.squareRoot() <= $1 }) { inside += 1 }
        }
        return Double(inside) / Double(points.shape[0])
    }

    /// Calls `body(i, squared distances from a[i] to every row of b)`, computing them a block of
    /// rows at a time through one matrix product: ‖a‖² + ‖b‖² − 2 a·b.
    static func forEachDistanceBlock(_ a: Tensor, _ b: Tensor, _ body: (Int, ArraySlice<Float>) -> Void) {
        let (n, m, d) = (a.shape[0], b.shape[0], a.shape[1])
        let normsA = (0..<n).map { row in a.scalars[row * d..<(row + 1) * d].reduce(0) { $0 + $1 * $1 } }
        let normsB = (0..<m).map { row in b.scalars[row * d..<(row + 1) * d].reduce(0) { $0 + $1 * $1 } }
        let block = 512
        for start in stride(from: 0, to: n, by: block) {
            let rows = min(block, n - start)
            var products = [Float](repeating: 0, count: rows * m)
            a.scalars.withUnsafeBufferPointer { source in
                Kernels.gemm(transposeB: true, m: rows, n: m, k: d, a: source.baseAddress! + start * d, lda: d, b: b.scalars, ldb: d, c: &products, ldc: m)
            }
            for row in 0..<rows {
                for column in 0..<m { products[row * m + column] = max(0, normsA[start + row] + normsB[column] - 2 * products[row * m + column]) }
                body(start + row, products[row * m..<(row + 1) * m])
            }
        }
    }

    static func rows(_ tensor: Tensor, _ indices: [Int]) -> Tensor {
        let d = tensor.shape[1]
        return Tensor(shape: [indices.count, d], scalars: indices.flatMap { tensor.scalars[$0 * d..<($0 + 1) * d] })
    }
}
