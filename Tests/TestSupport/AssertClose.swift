import XCTest

/// Fails unless every |actual − expected| ≤ atol + rtol·|expected|; the message shows the
/// first offending indices and the largest difference, so a failure says where and by how much.
public func assertClose(_ actual: [Float], _ expected: [Float], rtol: Float = 1e-5, atol: Float = 1e-6,
                        _ message: @autoclosure () -> String = "", file: StaticString = #filePath, line: UInt = #line) {
    guard actual.count == expected.count else {
        return XCTFail("\(message()): \(actual.count) values, expected \(expected.count)", file: file, line: line)
    }
    var offending: [String] = []
    var worst: Float = 0
    for index in actual.indices {
        let difference = abs(actual[index] - expected[index])
        worst = max(worst, difference.isNaN ? .infinity : difference)
        if !(difference <= atol + rtol * abs(expected[index])) && offending.count < 5 {
            offending.append("[\(index)] \(actual[index]) vs \(expected[index])")
        }
    }
    if !offending.isEmpty {
        XCTFail("\(message()): max |difference| \(worst) (rtol \(rtol), atol \(atol)); first: \(offending.joined(separator: ", "))",
                file: file, line: line)
    }
}
