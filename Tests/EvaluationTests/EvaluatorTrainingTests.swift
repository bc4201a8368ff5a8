import Checkpoints
import Datasets
import Foundation
import HDF5
import TestSupport
import XCTest
@testable import Evaluation
@testable import Metrics

/// `launcher evaluator train --data`: an evaluator for any labelled images, the share it holds
/// out recorded, and image metrics of that shape measured against the held-out images, by
/// `evaluate` and by `--eval-every` on 2 ranks.
final class EvaluatorTrainingTests: XCTestCase {
    var scratch: ScratchDirectory!
    override func setUpWithError() throws {
        scratch = try ScratchDirectory()
        try XCTSkipUnless(FileManager.default.fileExists(atPath: FashionMNIST.testImages), "dataset-fashion-mnist is not installed")
    }
    override func tearDown() { scratch?.remove() }

    /// 600 of Fashion-MNIST's test images at 16×16, each painted with a hue of its own, labels kept.
    func colourData() throws -> String {
        let out = scratch.file("colour-16.h5")
        let packed = try Subprocess.run(try Subprocess.product("launcher"), [
            "dataset", FashionMNIST.testImages, "--labels", FashionMNIST.files().testLabels, "--random-hue", "--max-images", "600",
            "--resolution", "16", "--out", out,
        ])
        XCTAssertEqual(packed.status, 0, packed.combinedOutput)
        return out
    }

    func testAnEvaluatorLearnsLabelledColourImagesAndMeasuresAgainstTheImagesItHeldOut() throws {
        let (launcher, data, evaluator) = (try Subprocess.product("launcher"), try colourData(), scratch.file("evaluator.h5"))
        let trained = try Subprocess.run(launcher, ["evaluator", "--data", data, "--out", evaluator, "--epochs", "4"])
        XCTAssertEqual(trained.status, 0, trained.combinedOutput)
        let file = try HDF5File.open(evaluator).root
        let heldOut = try file.read("held_out", as: Int64.self).values.map { Int($0) }
        XCTAssertEqual(heldOut.count, 60, "10% of 600")
        XCTAssertEqual(Set(heldOut).count, 60)
        XCTAssertEqual(try file.read("sample_shape", as: Int64.self).values, [3, 16, 16])
        let network = try EvaluatorNetwork.load(evaluator, for: [3, 16, 16])
        XCTAssertEqual(network.classNames, (0...9).map(String.init))
        XCTAssertEqual(network.heldOutFeatures?.shape, [60, Classifier.featureSize])
        // Measured here on the held-out images, against chance at 10%.
        let images = try Dataset.images(at: data)
        let accuracy = Classifier.accuracy(of: network.network, images: try images.batch(heldOut), labels: heldOut.map { images.labels![$0] })
        XCTAssertGreaterThan(accuracy, 0.4, "accuracy on the 60 held-out images")
        XCTAssertEqual(try file.attribute("test_accuracy", as: Double.self), accuracy, accuracy: 1e-9)
        XCTAssertThrowsError(try EvaluatorNetwork.load(evaluator, for: [1, 28, 28])) { error in
            XCTAssertTrue("\(error)".contains("an evaluator for images of 3×16×16; these are 1×28×28"), "\(error)")
        }

        // Real images against the held-out ones, then a generator after 2 steps, measured during training on 2 ranks.
        let real = try Subprocess.run(launcher, ["evaluate", "--images", data, "--samples", "200", "--evaluator", evaluator, "--json"])
        XCTAssertEqual(real.status, 0, real.combinedOutput)
        let realScores = try XCTUnwrap(try JSONDecoder().decode(Evaluation.Result.self, from: Data(real.standardOutput.utf8)).images)
        XCTAssertEqual(realScores.referenceSamples, 60)
        XCTAssertEqual(realScores.classCounts.count, 10)
        let run = scratch.file("run")
        let training = try Subprocess.mpirun(ranks: 2, "launcher", [
            "train", "--preset", "dcgan", "--data", data, "--steps", "2", "--batch-size", "8", "--eval-every", "2", "--eval-samples", "200",
            "--evaluator", evaluator, "--tensorboard", "false", "--run-dir", run,
        ])
        XCTAssertEqual(training.status, 0, training.combinedOutput)
        let evaluations = try String(contentsOfFile: "\(run)/evaluations.jsonl", encoding: .utf8).split(separator: "\n")
        let generated = try XCTUnwrap(try JSONDecoder().decode(Evaluation.Result.self, from: Data(evaluations.last!.utf8)).images)
        XCTAssertEqual(generated.referenceSamples, 60)
        XCTAssertGreaterThan(generated.frechetDistance, 2 * realScores.frechetDistance, "2 steps of training against real images")
        let again = try Subprocess.run(launcher, ["evaluate", "\(run)/checkpoint-00000002.h5", "--samples", "200", "--json"])
        XCTAssertEqual(again.status, 0, again.combinedOutput)
        let recorded = try XCTUnwrap(try JSONDecoder().decode(Evaluation.Result.self, from: Data(again.standardOutput.utf8)).images)
        XCTAssertEqual(recorded.referenceSamples, 60, "evaluate takes the run's --evaluator")

        let unmeasurable = try Subprocess.run(launcher, ["train", "--preset", "dcgan", "--data", data, "--steps", "2", "--eval-every", "1",
                                                         "--run-dir", scratch.file("unmeasurable")])
        XCTAssertNotEqual(unmeasurable.status, 0)
        XCTAssertTrue(unmeasurable.standardError.contains("images of 3×16×16 are measured in the features of an evaluator network"),
                      unmeasurable.standardError)
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch.file("unmeasurable/checkpoint-00000001.h5")), "refused before training")
    }

    func testAnEvaluatorNeedsLabelsAndAShapeItCanHold() throws {
        let launcher = try Subprocess.product("launcher")
        let unlabelled = scratch.file("unlabelled.h5")
        let packed = try Subprocess.run(launcher, ["dataset", FashionMNIST.testImages, "--max-images", "40", "--resolution", "16", "--out", unlabelled])
        XCTAssertEqual(packed.status, 0, packed.combinedOutput)
        let refused = try Subprocess.run(launcher, ["evaluator", "--data", unlabelled, "--out", scratch.file("never.h5")])
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.standardError.contains("\(unlabelled): no labels"), refused.standardError)
        XCTAssertTrue(refused.standardError.contains("--labels FILE.idx"), refused.standardError)
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch.file("never.h5")))

        // A file that declares a network of absurd size is refused before one is built.
        let hostile = scratch.file("hostile.h5")
        try HDF5File.writeAtomically(hostile) { file in
            try file.root.setAttribute("format", EvaluatorNetwork.format)
            try file.root.write([Int64(3), 1 << 40, 16], shape: [3], to: "sample_shape")
        }
        PeakMemory.assertRefused(within: 16, "an evaluator of 2^40 rows", { _ = try EvaluatorNetwork.load(hostile, for: [3, 16, 16]) }) { error in
            XCTAssertTrue("\(error)".contains("\(hostile):/sample_shape is [3, 1099511627776, 16]; expected [C, H, W]"), "\(error)")
        }
        XCTAssertThrowsError(try EvaluatorNetwork.load(nil, for: [3, 16, 16])) { error in
            XCTAssertTrue("\(error)".contains("images of 3×16×16 are measured in the features of an evaluator network"), "\(error)")
        }
    }
}
