import Checkpoints
import Datasets
import Foundation
import HDF5
import Models
import TestSupport
import XCTest
@testable import Evaluation
@testable import Metrics
@testable import Training

/// alphagan28 and completion28 as users run them: `launcher train` on 1 and 2 ranks, resume,
/// `reconstruct`, `sample`, `evaluate`, and their bad inputs.
final class LearnedLossPresetTests: XCTestCase {
    var scratch: ScratchDirectory!
    override func setUpWithError() throws {
        scratch = try ScratchDirectory()
        try XCTSkipUnless(FileManager.default.fileExists(atPath: FashionMNIST.testImages), "dataset-fashion-mnist is not installed")
    }
    override func tearDown() { scratch?.remove() }

    /// The first 32 Fashion-MNIST test images as an HDF5 file: training data small enough for a debug build.
    func images() throws -> String {
        let path = scratch.file("images.h5")
        if !FileManager.default.fileExists(atPath: path) {
            let images = try Dataset.images(at: FashionMNIST.testImages).batch(0..<32)
            try HDF5File.create(path).root.write(images.scalars, shape: images.shape, to: "images")
        }
        return path
    }

    func launcher(ranks: Int = 1, _ arguments: [String]) throws -> ProcessResult {
        let result = ranks == 1
            ? try Subprocess.run(try Subprocess.product("launcher"), arguments, timeout: 300)
            : try Subprocess.mpirun(ranks: ranks, "launcher", arguments, timeout: 300)
        XCTAssertFalse(result.timedOut, "a rank was left hanging: \(result.combinedOutput)")
        return result
    }

    func train(ranks: Int = 1, _ preset: String, _ extra: [String], steps: Int = 3, directory: String) throws -> ProcessResult {
        try launcher(ranks: ranks, ["train", "--preset", preset, "--data", try images(), "--batch-size", "4", "--steps", "\(steps)",
                                    "--threads", "1", "--checkpoint-every", "2", "--run-dir", directory] + extra)
    }

    func metrics(_ directory: String) throws -> [[String: Double]] {
        try String(contentsOfFile: "\(directory)/metrics.jsonl", encoding: .utf8).split(separator: "\n").map {
            try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Double])
        }
    }

    func testAlphaGANTrainsOnOneAndTwoRanksWithItsFourNetworks() throws {
        var runs: [[[String: Double]]] = []
        for ranks in [1, 2] {
            let directory = scratch.file("alpha-\(ranks)")
            let result = try train(ranks: ranks, "alphagan28", [], directory: directory)
            XCTAssertEqual(result.status, 0, result.combinedOutput)
            runs.append(try metrics(directory))
            let root = try HDF5File.open("\(directory)/checkpoint-00000003.h5").root
            XCTAssertEqual(try root.childNames(), ["code_discriminator", "discriminator", "encoder", "generator", "generator_ema", "optimizer",
                                                   "rng", "sampler", "samples"])
            XCTAssertEqual(try root.group("optimizer").childNames(), ["code_discriminator", "discriminator", "encoder", "generator"])
            XCTAssertEqual(try root.group("optimizer").group("encoder").attribute("step", as: Int64.self), 3)
        }
        XCTAssertEqual(Set(runs[0][0].keys), ["step", "d_loss", "g_loss", "d_real", "d_fake", "recon_l1", "c_loss", "lr_g", "lr_d", "images_per_second"])
        assertSameModel(runs[0], runs[1], keys: ["d_loss", "g_loss", "recon_l1", "c_loss"])
    }

    /// One and two ranks train the same model: every step's figures agree to float rounding, which
    /// Adam's early sign-like steps let grow a little from step to step.
    func assertSameModel(_ one: [[String: Double]], _ two: [[String: Double]], keys: [String], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(one.count, two.count, file: file, line: line)
        for (step, (a, b)) in zip(one, two).enumerated() {
            for key in keys {
                XCTAssertEqual(b[key]!, a[key]!, accuracy: 1e-3 * max(1, abs(a[key]!)), "step \(step + 1), \(key)", file: file, line: line)
            }
        }
    }

    /// The mode-seeking term on pairs of a batch of 4 amplifies rounding within a step or two (as in
    /// colorize28's test), so the default mode's runs agree on the first step, and `--exact 2`'s
    /// bit for bit on all three.
    func testCompletionTrainsTheSameModelOnOneAndTwoRanks() throws {
        var runs: [[[String: Double]]] = [], exact: [String] = []
        for ranks in [1, 2] {
            let directory = scratch.file("completion-ranks-\(ranks)")
            let result = try train(ranks: ranks, "completion28", ["--loss", "l1+adversarial"], directory: directory)
            XCTAssertEqual(result.status, 0, result.combinedOutput)
            runs.append(try metrics(directory))
            exact.append(scratch.file("completion-exact-\(ranks)"))
            let exactResult = try train(ranks: ranks, "completion28", ["--loss", "l1+adversarial", "--exact", "2"], directory: exact.last!)
            XCTAssertEqual(exactResult.status, 0, exactResult.combinedOutput)
        }
        assertSameModel(Array(runs[0].prefix(1)), Array(runs[1].prefix(1)), keys: ["d_loss", "g_loss", "recon_l1", "d_real", "d_fake"])
        let differences = try CheckpointComparison.differences("\(exact[0])/checkpoint-00000003.h5", "\(exact[1])/checkpoint-00000003.h5")
        XCTAssertEqual(differences.filter { !$0.hasPrefix("/@config") && !$0.hasPrefix("/@world_size") }, [], "--exact 2 on 1 and 2 ranks")
    }

    func testCompletionTrainsOnOneAndTwoRanksWithEachLoss() throws {
        for (loss, ranks) in [("l2", 1), ("l1", 2), ("adversarial", 1), ("l1+adversarial", 2)] {
            let directory = scratch.file("completion-\(loss)")
            let result = try train(ranks: ranks, "completion28", ["--loss", loss], directory: directory)
            XCTAssertEqual(result.status, 0, "\(loss): \(result.combinedOutput)")
            let first = try XCTUnwrap(try metrics(directory).first)
            XCTAssertEqual(first["d_loss"] != nil, loss.contains("adversarial"), "\(loss): a discriminator only for the adversarial losses")
            XCTAssertNotNil(first["recon_l1"])
            let root = try HDF5File.open("\(directory)/checkpoint-00000003.h5").root
            XCTAssertEqual(root.contains("discriminator"), loss.contains("adversarial"), loss)
            XCTAssertEqual(try TrainingConfiguration.fromJSON(root.stringAttribute("config")).loss?.rawValue, loss)
        }
    }

    /// colorize28 with its defaults (adversarial loss, mode-seeking term, generator average): the
    /// same model on 1 and 2 ranks, an RGB sample grid, colourings with their gray inputs, and the
    /// same tint shares evaluated on 1 and 2 ranks.
    func testColorizeTrainsSamplesAndEvaluatesOnOneAndTwoRanks() throws {
        var runs: [[[String: Double]]] = []
        for ranks in [1, 2] {
            let directory = scratch.file("colorize-\(ranks)")
            let result = try train(ranks: ranks, "colorize28", [], directory: directory)
            XCTAssertEqual(result.status, 0, result.combinedOutput)
            runs.append(try metrics(directory))
        }
        // Its gradients at a batch of 4 move by percents under float32 rounding (ParityTests), so two
        // rank counts, which round differently, agree on the first step (D's update, then G's loss
        // with the mode-seeking term over the same pairs) and drift apart from the second.
        XCTAssertEqual(runs[0].count, 3)
        assertSameModel(Array(runs[0].prefix(1)), Array(runs[1].prefix(1)), keys: ["d_loss", "g_loss", "recon_l1", "d_real", "d_fake"])
        let checkpoint = scratch.file("colorize-2/checkpoint-00000003.h5")
        let root = try HDF5File.open(checkpoint).root
        XCTAssertEqual(try root.childNames(), ["discriminator", "generator", "generator_ema", "optimizer", "rng", "sampler", "samples"])
        XCTAssertEqual(try root.shape(of: "samples/grid").last, 3, "an RGB grid")
        XCTAssertEqual(try root.group("samples").dataset("grid").stringAttribute("IMAGE_SUBCLASS"), "IMAGE_TRUECOLOR")
        XCTAssertEqual(Set(try root.group("generator_ema").childNames()), Set(try root.group("generator").childNames()))

        let sampled = try launcher(["sample", checkpoint, "--count", "5", "--out", scratch.file("colourings.h5")])
        XCTAssertEqual(sampled.status, 0, sampled.combinedOutput)
        let file = try HDF5File.open(scratch.file("colourings.h5")).root
        XCTAssertEqual(try file.shape(of: "samples"), [5, 3, 28, 28])
        let inputs = try file.read("inputs", as: Float.self)
        XCTAssertEqual(inputs.shape, [5, 1, 28, 28])
        let truth = try Dataset.images(at: FashionMNIST.testImages).tinted().batch(0..<5)
        assertClose(inputs.values, Colorize28.gray(of: truth).scalars, rtol: 0, atol: 1e-6, "the inputs are the first test images in gray")
        let raw = try launcher(["sample", checkpoint, "--count", "5", "--raw-generator", "--out", scratch.file("raw.h5")])
        XCTAssertEqual(raw.status, 0, raw.combinedOutput)
        XCTAssertNotEqual(try HDF5File.open(scratch.file("raw.h5")).root.read("samples", as: Float.self).values,
                          try file.read("samples", as: Float.self).values, "the trained generator is not its average")
        XCTAssertEqual(try launcher(["sample", checkpoint, "--count", "16", "--out", scratch.file("colourings.png")]).status, 0)

        var results: [Evaluation.Result] = []
        for ranks in [1, 2] {
            let result = try launcher(ranks: ranks, ["evaluate", checkpoint, "--samples", "200", "--json"])
            XCTAssertEqual(result.status, 0, result.combinedOutput)
            results.append(try JSONDecoder().decode(Evaluation.Result.self, from: Data(result.standardOutput.utf8)))
        }
        let (one, two) = (try XCTUnwrap(results[0].colorization), try XCTUnwrap(results[1].colorization))
        XCTAssertEqual(one.samples, 200)
        XCTAssertEqual(one.red + one.green + one.yellow, 1, accuracy: 1e-9)
        XCTAssertEqual([one.red, one.green, one.yellow, one.bothTints], [two.red, two.green, two.yellow, two.bothTints], "the same colourings on any rank count")
        XCTAssertEqual(one.l1, two.l1, accuracy: 1e-6)
        XCTAssertEqual(results[0].movingAverage, true)
    }

    func testResumeIsExact() throws {
        for (preset, extra, ranks) in [("alphagan28", [String](), 1), ("completion28", ["--loss", "l1+adversarial"], 2), ("colorize28", [], 2)] {
            let straight = scratch.file("\(preset)-straight"), resumed = scratch.file("\(preset)-resumed")
            XCTAssertEqual(try train(ranks: ranks, preset, extra, steps: 4, directory: straight).status, 0)
            XCTAssertEqual(try train(ranks: ranks, preset, extra, steps: 2, directory: resumed).status, 0)
            let second = try launcher(ranks: ranks, ["train", "--resume", "auto", "--run-dir", resumed, "--steps", "4", "--threads", "1"])
            XCTAssertEqual(second.status, 0, second.combinedOutput)
            let differences = try CheckpointComparison.differences("\(straight)/checkpoint-00000004.h5", "\(resumed)/checkpoint-00000004.h5")
            XCTAssertEqual(differences, [], "\(preset): resumed and straight runs end bit for bit equal")
        }
    }

    func testReconstructSampleAndEvaluate() throws {
        let alpha = scratch.file("alpha"), completion = scratch.file("completion")
        XCTAssertEqual(try train("alphagan28", [], steps: 1, directory: alpha).status, 0)
        XCTAssertEqual(try train("completion28", ["--loss", "l1+adversarial"], steps: 1, directory: completion).status, 0)
        let (alphaCheckpoint, completionCheckpoint) = ("\(alpha)/checkpoint-00000001.h5", "\(completion)/checkpoint-00000001.h5")

        let reconstructed = try launcher(["reconstruct", alphaCheckpoint, "--count", "5", "--out", scratch.file("pairs.h5")])
        XCTAssertEqual(reconstructed.status, 0, reconstructed.combinedOutput)
        let pairs = try HDF5File.open(scratch.file("pairs.h5")).root
        XCTAssertEqual(try pairs.shape(of: "images"), [5, 1, 28, 28])
        XCTAssertEqual(try pairs.shape(of: "reconstructions"), [5, 1, 28, 28])
        XCTAssertEqual(try launcher(["reconstruct", alphaCheckpoint, "--out", scratch.file("pairs.png")]).status, 0)
        let noEncoder = try launcher(["reconstruct", completionCheckpoint, "--out", scratch.file("none.png")])
        XCTAssertNotEqual(noEncoder.status, 0)
        XCTAssertTrue(noEncoder.standardError.contains("\(completionCheckpoint): a completion28 checkpoint has no encoder"), noEncoder.standardError)

        let sampled = try launcher(["sample", completionCheckpoint, "--count", "16", "--out", scratch.file("completions.h5")])
        XCTAssertEqual(sampled.status, 0, sampled.combinedOutput)
        let completions = try HDF5File.open(scratch.file("completions.h5")).root.read("samples", as: Float.self)
        XCTAssertEqual(completions.shape, [16, 1, 28, 28])
        let top = 14 * 28
        XCTAssertEqual(Array(completions.values[0..<top]), Array(completions.values[784..<784 + top]), "a row shares its top half")
        XCTAssertNotEqual(Array(completions.values[0..<top]), Array(completions.values[8 * 784..<8 * 784 + top]), "the next row is the next image")

        let evaluator = scratch.file("evaluator.h5")
        try FileManager.default.copyItem(atPath: URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(Classifier.defaultPath).path, toPath: evaluator)
        let reference = scratch.file("reference.h5")
        let test = try Dataset.images(at: FashionMNIST.testImages).batch(0..<300)
        try HDF5File.create(reference).root.write(test.scalars, shape: test.shape, to: "images")
        var results: [Evaluation.Result] = []
        for ranks in [1, 2] {
            let result = try launcher(ranks: ranks, ["evaluate", completionCheckpoint, "--samples", "200", "--evaluator", evaluator, "--reference", reference, "--json"])
            XCTAssertEqual(result.status, 0, result.combinedOutput)
            results.append(try JSONDecoder().decode(Evaluation.Result.self, from: Data(result.standardOutput.utf8)))
        }
        let (one, two) = (try XCTUnwrap(results[0].completion), try XCTUnwrap(results[1].completion))
        XCTAssertEqual(one.samples, 200)
        XCTAssertEqual(one.diversityTops, 200)
        XCTAssertEqual(one.diversity, two.diversity, accuracy: 1e-9, "the same completions on any rank count")
        XCTAssertEqual(one.frechetDistance, two.frechetDistance, accuracy: 1e-6 * one.frechetDistance)
        XCTAssertGreaterThan(one.diversity, 0, "noise changes the completions")
        XCTAssertGreaterThan(one.realConfidence, 0.5)
        XCTAssertNil(results[0].images, "completion28 has no unconditional samples")

        let alphaEvaluation = try launcher(["evaluate", alphaCheckpoint, "--samples", "200", "--evaluator", evaluator, "--reference", reference, "--json"])
        XCTAssertEqual(alphaEvaluation.status, 0, alphaEvaluation.combinedOutput)
        let alphaResult = try JSONDecoder().decode(Evaluation.Result.self, from: Data(alphaEvaluation.standardOutput.utf8))
        XCTAssertNotNil(alphaResult.images)
        let reconstruction = try XCTUnwrap(alphaResult.reconstruction)
        XCTAssertEqual(reconstruction.samples, 200)
        // The same L1 as the checkpoint's own reconstructions of the first 200 test images.
        let (images, reconstructions) = try CheckpointNetworks.reconstructions(from: try CheckpointFile(path: alphaCheckpoint), count: 200)
        let l1 = zip(images.scalars, reconstructions.scalars).reduce(0.0) { $0 + Double(abs($1.0 - $1.1)) } / Double(images.count)
        XCTAssertEqual(reconstruction.l1, l1, accuracy: 1e-5 * l1)
    }

    func testBadOptionsForThesePresets() throws {
        let cases: [([String], String)] = [
            (["--preset", "dcgan28", "--loss", "l2"], "--loss is for completion28, colorize28 and pix2pix only; dcgan28 trains with --objective"),
            (["--preset", "alphagan28", "--recon-weight=-1"], "--recon-weight must be a number at least 0, got -1.0"),
            (["--preset", "grid2d", "--recon-weight", "5"], "--recon-weight is for alphagan28, completion28, colorize28 and pix2pix, not grid2d"),
            (["--preset", "dcgan28", "--mode-seeking", "1"], "--mode-seeking is for completion28, colorize28 and pix2pix, not dcgan28"),
            (["--preset", "colorize28", "--batch-size", "5"], "--batch-size 5 is not a whole number of mode-seeking pairs of 2; use a multiple of 2"),
            (["--preset", "dcgan28", "--ema-decay", "1"], "--ema-decay must be in [0, 1), got 1.0"),
            (["--preset", "alphagan28", "--pack", "2"], "--pack 2: packing is for dcgan28, grid2d, ring2d, dcgan and sngan"),
            (["--preset", "completion28", "--d-steps", "2"], "--d-steps 2: completion28 updates each network once per step; use 1"),
        ]
        for (arguments, expected) in cases {
            for ranks in [1, 2] {
                let result = try launcher(ranks: ranks, ["train", "--run-dir", scratch.file("bad"), "--steps", "1"] + arguments)
                XCTAssertNotEqual(result.status, 0, "\(arguments)")
                XCTAssertEqual(result.standardError.components(separatedBy: expected).count - 1, 1, "once, on \(ranks) rank(s): \(result.standardError)")
            }
        }
    }
}
