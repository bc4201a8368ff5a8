import Datasets
import Foundation
import HDF5
import TestSupport
import XCTest
@testable import Evaluation
@testable import Metrics
@testable import Training

/// `launcher evaluate` on images, as users run it, with the shipped evaluator network.
final class ImageEvaluationTests: XCTestCase {
    var scratch: ScratchDirectory!
    override func setUpWithError() throws {
        scratch = try ScratchDirectory()
        try XCTSkipUnless(FileManager.default.fileExists(atPath: FashionMNIST.trainingImages), "dataset-fashion-mnist is not installed")
    }
    override func tearDown() { scratch?.remove() }

    var evaluator: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent(Classifier.defaultPath).path
    }

    /// The first `count` test images as an HDF5 file: a reference small enough for a debug build.
    func smallReference(count: Int = 500) throws -> String {
        let path = scratch.file("reference-\(count).h5")
        let test = try Dataset.images(at: FashionMNIST.testImages).batch(0..<count)
        try HDF5File.create(path).root.write(test.scalars, shape: test.shape, to: "images")
        return path
    }

    /// A private copy, so the reference cache the test writes lands in scratch space.
    func evaluatorCopy() throws -> String {
        let copy = scratch.file("evaluator.h5")
        try FileManager.default.copyItem(atPath: evaluator, toPath: copy)
        return copy
    }

    func testGeneratorSamplesOnOneAndTwoRanksAndTheCache() throws {
        let directory = scratch.file("run")
        let training = try Subprocess.run(try Subprocess.product("launcher"),
                                          ["train", "--preset", "dcgan28", "--batch-size", "8", "--steps", "1", "--run-dir", directory])
        XCTAssertEqual(training.status, 0, training.combinedOutput)
        let copy = try evaluatorCopy()
        let arguments = ["evaluate", "\(directory)/checkpoint-00000001.h5", "--samples", "300", "--evaluator", copy, "--json",
                         "--reference", try smallReference()]
        let one = try Subprocess.run(try Subprocess.product("launcher"), arguments)
        let two = try Subprocess.mpirun(ranks: 2, "launcher", arguments)
        XCTAssertEqual(one.status, 0, one.combinedOutput)
        XCTAssertEqual(two.status, 0, two.combinedOutput)
        let results = try [one, two].map { try JSONDecoder().decode(Evaluation.Result.self, from: Data($0.standardOutput.utf8)) }
        let (a, b) = (try XCTUnwrap(results[0].images), try XCTUnwrap(results[1].images))
        XCTAssertEqual(a.samples, 300)
        XCTAssertEqual(a.referenceSamples, 500)
        XCTAssertEqual(a.frechetDistance, b.frechetDistance, accuracy: 1e-6 * a.frechetDistance, "the same samples on any rank count")
        XCTAssertEqual(a.precision, b.precision)
        XCTAssertEqual(a.classCounts, b.classCounts)
        XCTAssertGreaterThan(a.frechetDistance, 50, "a generator after one step is far from Fashion-MNIST")
        let caches = try FileManager.default.contentsOfDirectory(atPath: scratch.path).filter { $0.hasPrefix("evaluator.h5.reference-") }
        XCTAssertEqual(caches.count, 1, "reference features cached beside the evaluator")
    }

    func testRealImagesScoreNearTheFloor() throws {
        let result = try Subprocess.run(try Subprocess.product("launcher"),
                                        ["evaluate", "--images", FashionMNIST.trainingImages,
                                         "--samples", "500", "--evaluator", try evaluatorCopy(), "--reference", try smallReference(), "--json"])
        XCTAssertEqual(result.status, 0, result.combinedOutput)
        let scores = try XCTUnwrap(try JSONDecoder().decode(Evaluation.Result.self, from: Data(result.standardOutput.utf8)).images)
        XCTAssertLessThan(scores.frechetDistance, 25, "500 training images against 500 test images (small sets bias FID upwards)")
        XCTAssertGreaterThan(scores.precision, 0.7)
        XCTAssertGreaterThan(scores.recall, 0.7)
        XCTAssertEqual(scores.classesSeen, 10)
        XCTAssertGreaterThan(scores.classifierScore, 6)
    }

    func testBadEvaluatorOrTooFewSamples() throws {
        let launcher = try Subprocess.product("launcher")
        let images = FashionMNIST.testImages
        let missing = scratch.file("absent.h5")
        let absent = try Subprocess.run(launcher, ["evaluate", "--images", images, "--evaluator", missing])
        XCTAssertNotEqual(absent.status, 0)
        XCTAssertTrue(absent.standardError.contains("no evaluator network at \(missing)"), absent.standardError)

        let foreign = scratch.file("foreign.h5")
        _ = try HDF5File.create(foreign)
        let other = try Subprocess.mpirun(ranks: 2, "launcher", ["evaluate", "--images", images, "--evaluator", foreign])
        XCTAssertNotEqual(other.status, 0)
        XCTAssertEqual(other.standardError.components(separatedBy: "\(foreign): not a LearnedLoss evaluator network").count - 1, 1, other.standardError)

        let few = try Subprocess.run(launcher, ["evaluate", "--images", images, "--samples", "50", "--evaluator", evaluator])
        XCTAssertNotEqual(few.status, 0)
        XCTAssertTrue(few.standardError.contains("need at least 200 samples"), few.standardError)

        let neither = try Subprocess.run(launcher, ["evaluate"])
        XCTAssertNotEqual(neither.status, 0)
        XCTAssertTrue(neither.standardError.contains("give a checkpoint or --images"), neither.standardError)
    }
}
