import Models
import XCTest

final class RandomStreamTests: XCTestCase {
    func testSameSeedSameValuesAndRestoredStateContinuesExactly() {
        var first = RandomStream(seed: 42, purpose: "latent", indices: [3, 7])
        var second = RandomStream(seed: 42, purpose: "latent", indices: [3, 7])
        XCTAssertEqual(first.normal(count: 5), second.normal(count: 5))
        let saved = first
        let expected = first.normal(count: 4)
        var restored = RandomStream(key: saved.key, counter: saved.counter)
        XCTAssertEqual(restored.normal(count: 4), expected)
    }

    func testStreamsDifferByPurposeAndIndex() {
        let base = RandomStream(seed: 1, purpose: "latent", indices: [0, 0])
        for other in [RandomStream(seed: 2, purpose: "latent", indices: [0, 0]), RandomStream(seed: 1, purpose: "init", indices: [0, 0]),
                      RandomStream(seed: 1, purpose: "latent", indices: [0, 1]), RandomStream(seed: 1, purpose: "latent", indices: [1, 0])] {
            XCTAssertNotEqual(base.key, other.key)
        }
    }

    func testDistributionsHaveTheirMoments() {
        var random = RandomStream(seed: 5, purpose: "moments")
        let normal = random.normal(count: 100_000, mean: 1, std: 2)
        let mean = normal.reduce(0, +) / Float(normal.count)
        let variance = normal.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Float(normal.count)
        XCTAssertEqual(mean, 1, accuracy: 0.03)
        XCTAssertEqual(variance.squareRoot(), 2, accuracy: 0.03)
        let uniform = (0..<100_000).map { _ in random.uniform() }
        XCTAssertTrue(uniform.allSatisfy { (0..<1).contains($0) })
        XCTAssertEqual(uniform.reduce(0, +) / 100_000, 0.5, accuracy: 0.01)
        XCTAssertEqual(random.permutation(50).sorted(), Array(0..<50))
    }
}
