import Datasets
import Foundation
import HDF5
import Models
import TestSupport
import XCTest
@testable import Evaluation
@testable import Metrics
@testable import Training

/// The image metrics against values computed independently with numpy and scipy by
/// `Fixtures/make_metric_fixtures.py`.
final class ImageMetricsTests: XCTestCase {
    nonisolated(unsafe) static let fixture: [String: [String: Any]] = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/metrics.json")
        return try! JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: [String: Any]]
    }()

    func numbers(_ section: String, _ key: String) -> [Double] { Self.fixture[section]![key] as! [Double] }
    func number(_ section: String, _ key: String) -> Double { Self.fixture[section]![key] as! Double }
    func matrix(_ section: String, _ key: String, columns: Int) -> Tensor {
        let values = numbers(section, key).map(Float.init)
        return Tensor(shape: [values.count / columns, columns], scalars: values)
    }

    func testFrechetDistanceMatchesTheClosedFormOfTwoGaussians() throws {
        let first = ImageMetrics.Gaussian(mean: numbers("gaussians", "mean1"), covariance: numbers("gaussians", "cov1"))
        let second = ImageMetrics.Gaussian(mean: numbers("gaussians", "mean2"), covariance: numbers("gaussians", "cov2"))
        XCTAssertEqual(try ImageMetrics.frechetDistance(first, second), number("gaussians", "fid_closed_form"), accuracy: 1e-9)
        XCTAssertEqual(try ImageMetrics.frechetDistance(first, first), 0, accuracy: 1e-9)
    }

    func testFrechetDistanceOfSamplesMatchesScipy() throws {
        let d = Int(number("samples", "dimension"))
        let (x, y) = (matrix("samples", "x", columns: d), matrix("samples", "y", columns: d))
        let fid = try ImageMetrics.frechetDistance(ImageMetrics.Gaussian(features: x), ImageMetrics.Gaussian(features: y))
        XCTAssertEqual(fid, number("samples", "fid"), accuracy: 1e-6 * number("samples", "fid"))
    }

    func testKernelDistanceMatchesNumpy() {
        let d = Int(number("samples", "dimension"))
        let x = matrix("samples", "x", columns: d).slice(0..<200, axis: 0), y = matrix("samples", "y", columns: d).slice(0..<200, axis: 0)
        // Float32 Gram matrices, cubed: agreement to about 1e-5 relative.
        XCTAssertEqual(ImageMetrics.unbiasedMMD(x, y), number("samples", "mmd_first_200"), accuracy: 1e-4 * number("samples", "mmd_first_200"))
        var random = RandomStream(seed: 1, purpose: "kid")
        let whole = ImageMetrics.kernelDistance(x, y, subsets: 3, subsetSize: 500, random: &random)
        XCTAssertEqual(whole.mean, ImageMetrics.unbiasedMMD(x, y), accuracy: 1e-9, "subsets as large as the sets are the sets")
        // Subsets of one set against each other: unbiased, so near zero, far below two different sets.
        let same = ImageMetrics.kernelDistance(x, x, subsets: 5, subsetSize: 100, random: &random)
        XCTAssertLessThan(abs(same.mean), whole.mean / 10, "a set against itself scores near zero")
    }

    func testPrecisionAndRecallMatchNumpy() {
        let real = matrix("precision_recall", "real", columns: 4), fake = matrix("precision_recall", "fake", columns: 4)
        let (precision, recall) = ImageMetrics.precisionRecall(real: real, generated: fake, k: 3)
        XCTAssertEqual(precision, number("precision_recall", "precision"), accuracy: 1e-12)
        XCTAssertEqual(recall, number("precision_recall", "recall"), accuracy: 1e-12)
        let identical = ImageMetrics.precisionRecall(real: real, generated: real, k: 3)
        XCTAssertEqual(identical.precision, 1)
        XCTAssertEqual(identical.recall, 1)
    }

    func testClassifierScoreAndClassCoverageMatchNumpy() {
        let probabilities = matrix("classifier", "probabilities", columns: 5)
        XCTAssertEqual(ImageMetrics.classifierScore(probabilities), number("classifier", "score"), accuracy: 1e-5)
        let coverage = ImageMetrics.classCoverage(probabilities)
        XCTAssertEqual(coverage.counts, (Self.fixture["classifier"]!["counts"] as! [Int]))
        XCTAssertEqual(coverage.klFromUniform, number("classifier", "kl_from_uniform"), accuracy: 1e-12)
        // One class only: score 1, KL log 5.
        let certain = Tensor(shape: [3, 5], scalars: [Float](repeating: 0, count: 15).enumerated().map { $0.offset % 5 == 2 ? 1 : 0 })
        XCTAssertEqual(ImageMetrics.classifierScore(certain), 1, accuracy: 1e-12)
        XCTAssertEqual(ImageMetrics.classCoverage(certain).klFromUniform, log(5), accuracy: 1e-12)
    }

    func testEvaluatorShipsAccurateAndUnder2MB() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent(Classifier.defaultPath).path
        let size = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
        XCTAssertLessThan(size, 2_000_000)
        let evaluator = try EvaluatorNetwork.load(path, for: [1, 28, 28])
        XCTAssertEqual(evaluator.network.parameters.first?.value.shape, [32, 1, 4, 4])
        XCTAssertTrue(try HDF5File.open(path).root.stringAttribute("command").hasPrefix("launcher evaluator train"))
        // Measured here, on the first 2,000 test images, not read from the file's own attribute.
        let files = FashionMNIST.files()
        try XCTSkipUnless(FileManager.default.fileExists(atPath: files.testImages), "dataset-fashion-mnist is not installed")
        let images = try Dataset.images(at: files.testImages).batch(0..<2000)
        let labels = try Labels.idx(at: files.testLabels).prefix(2000)
        let probabilities = Classifier.embed(images, with: evaluator.network).probabilities
        let predicted = ImageMetrics.rowArgmax(probabilities)
        let accuracy = Double(zip(predicted, labels).filter { $0 == $1 }.count) / 2000
        XCTAssertGreaterThanOrEqual(accuracy, 0.88, "the shipped evaluator's accuracy on 2,000 test images")
    }
}
