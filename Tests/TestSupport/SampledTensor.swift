import XCTest

/// A large tensor as the PyTorch fixture scripts keep it: every `stride`-th element and the L2
/// norm of the whole; for a counter (`num_batches_tracked`), its value.
public struct SampledTensor: Decodable, Sendable {
    public let stride: Int?
    public let values: [Float]?
    public let norm: Double?
    public let value: Int64?

    /// Checks `actual`'s sampled elements (`rtol`, `atol`) and its norm (`normTolerance` relative, plus `atol`).
    public func assertMatches(_ actual: [Float], rtol: Float, atol: Float, normTolerance: Double = 2e-3, _ label: String,
                              file: StaticString = #filePath, line: UInt = #line) {
        guard let stride, let values, let norm else { return XCTFail("\(label): fixture entry has no samples", file: file, line: line) }
        let samples = Swift.stride(from: 0, to: actual.count, by: stride).map { actual[$0] }
        assertClose(samples, values, rtol: rtol, atol: atol, label, file: file, line: line)
        let actualNorm = actual.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
        XCTAssertEqual(actualNorm, norm, accuracy: normTolerance * norm + Double(atol), "\(label): L2 norm", file: file, line: line)
    }
}
