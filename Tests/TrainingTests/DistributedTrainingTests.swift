import Checkpoints
import Datasets
import Foundation
import HDF5
import Models
import TestSupport
import XCTest
@testable import Training

/// `launcher train` as users run it: real processes, under a real mpirun for 2 and 4 ranks.
final class DistributedTrainingTests: XCTestCase {
    var scratch: ScratchDirectory!
    override func setUpWithError() throws { scratch = try ScratchDirectory() }
    override func tearDown() { scratch.remove() }

    func train(ranks: Int = 1, _ arguments: [String], timeout: TimeInterval = 300) throws -> ProcessResult {
        let result = ranks == 1
            ? try Subprocess.run(try Subprocess.product("launcher"), ["train"] + arguments, timeout: timeout)
            : try Subprocess.mpirun(ranks: ranks, "launcher", ["train"] + arguments, timeout: timeout)
        XCTAssertFalse(result.timedOut, "a rank was left hanging: \(result.combinedOutput)")
        return result
    }

    func metrics(_ directory: String) throws -> [[String: Double]] {
        try String(contentsOfFile: "\(directory)/metrics.jsonl", encoding: .utf8).split(separator: "\n").map {
            try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Double])
        }
    }

    // MARK: Distributed semantics

    func testLossesAgreeOnOneTwoAndFourRanks() throws {
        try checkRanksAgree(["--preset", "grid2d"])
    }

    /// dcgan28 in packs of 2, a batch of 10: 6 and 4 rows on 2 ranks, 4, 2, 2, 2 on 4. Every
    /// BatchNorm of G and of D normalises over the global batch, each rank's rows weighed alike.
    func testUnevenSharesOfPacksTrainTheSameModel() throws {
        let images = scratch.file("images.h5")
        let pixels = (0..<40 * 784).map { Float(0.5 + 0.5 * sin(0.013 * Double($0))) }
        try HDF5File.create(images).root.write(pixels, shape: [40, 28, 28], to: "images")
        try checkRanksAgree(["--preset", "dcgan28", "--data", images, "--pack", "2", "--batch-size", "10"])
        for ranks in [1, 2, 4] {
            let generator = try HDF5File.open(scratch.file("agree-\(ranks)/checkpoint-00000020.h5")).root.group("generator")
            XCTAssertTrue(try generator.storesIntegers("1.num_batches_tracked"))
            XCTAssertEqual(try generator.read("1.num_batches_tracked", as: Int64.self).values, [20], "one forward pass of G per step, which both phases use")
        }
    }

    /// Trains 20 steps of `arguments` on 1, 2 and 4 ranks and compares every step's metrics.
    ///
    /// At PacGAN's rates (1e-4, beta1 0.8, no decay): the preset's faster D (1e-3) turns the rank
    /// counts' different rounding into visibly different games within 20 steps, which says nothing
    /// about whether the ranks train one model.
    func checkRanksAgree(_ arguments: [String]) throws {
        let gentle = ["--lr-g", "0.0001", "--lr-d", "0.0001", "--beta1", "0.8", "--lr-decay", "none"]
        var runs: [Int: [[String: Double]]] = [:]
        for ranks in [1, 2, 4] {
            let directory = scratch.file("agree-\(ranks)")
            let result = try train(ranks: ranks, arguments + gentle + ["--steps", "20", "--threads", "1", "--run-dir", directory])
            XCTAssertEqual(result.status, 0, result.combinedOutput)
            runs[ranks] = try metrics(directory)
        }
        XCTAssertEqual(runs[1]?.count, 20)
        for ranks in [2, 4] {
            for (step, (one, many)) in zip(runs[1]!, runs[ranks]!).enumerated() {
                for key in ["d_loss", "g_loss", "d_real", "d_fake"] {
                    // Float32 sums over ranks round differently from one rank's; Adam's sign-like early steps
                    // amplify that on near-cancelling gradients, ~1e-5 at step 2 growing to ~3e-3 by step 20.
                    XCTAssertEqual(many[key]!, one[key]!, accuracy: 5e-3 * abs(one[key]!), "\(ranks) ranks, step \(step + 1), \(key)")
                }
            }
        }
    }

    /// Gradients reduced in buckets on the reduction thread, sent during the backward pass and
    /// landing when a later phase needs them (the next step's for G), give the checkpoints one
    /// message after each backward pass gives, bit for bit, on 2 and 4 ranks: at the end and at a
    /// checkpoint in between, with the generator's average, the learning-rate decay, two D steps
    /// per G step (grid2d) and the conditional step. A tiny bucket size makes one bucket of nearly
    /// every layer.
    func testOverlappedReductionsChangeNoBit() throws {
        let images = scratch.file("images.h5")
        try HDF5File.create(images).root.write((0..<40 * 784).map { Float(0.5 + 0.5 * cos(0.017 * Double($0))) }, shape: [40, 28, 28], to: "images")
        for (ranks, preset) in [(2, ["--preset", "dcgan28", "--data", images, "--batch-size", "16"]),
                                (4, ["--preset", "grid2d", "--batch-size", "40", "--d-steps", "2"]),
                                (2, ["--preset", "alphagan28", "--data", images, "--batch-size", "16"]),
                                (2, ["--preset", "completion28", "--data", images, "--batch-size", "16"])] {
            var runs: [String] = []
            for bucket in ["0", "0.01"] {
                let directory = scratch.file("\(preset[1])-\(ranks)-\(bucket)")
                let result = try train(ranks: ranks, preset + ["--steps", "4", "--checkpoint-every", "2", "--threads", "1", "--bucket-mb", bucket,
                                                               "--run-dir", directory])
                XCTAssertEqual(result.status, 0, result.combinedOutput)
                XCTAssertTrue(result.standardOutput.contains(bucket == "0" ? "in one message after the backward pass" : "in 0.01 MiB buckets"), result.standardOutput)
                runs.append(directory)
            }
            for step in ["00000002", "00000004"] {
                let differences = try CheckpointComparison.differences("\(runs[0])/checkpoint-\(step).h5", "\(runs[1])/checkpoint-\(step).h5")
                XCTAssertEqual(differences.filter { !$0.hasPrefix("/@config") }, [], "\(preset[1]) on \(ranks) ranks, step \(step)")
            }
        }
    }

    func testResumeIsExactOnOneRank() throws { try checkExactResume(ranks: 1) }
    func testResumeIsExactOnTwoRanks() throws { try checkExactResume(ranks: 2) }

    /// Stops at step 6 by asking for 6 steps, so the rates must not depend on --steps: no decay.
    private func checkExactResume(ranks: Int) throws {
        let common = ["--preset", "ring2d", "--batch-size", "20", "--checkpoint-every", "3", "--threads", "1", "--lr-decay", "none"]
        let straight = scratch.file("straight"), resumed = scratch.file("resumed")
        XCTAssertEqual(try train(ranks: ranks, common + ["--steps", "12", "--run-dir", straight]).status, 0)
        XCTAssertEqual(try train(ranks: ranks, common + ["--steps", "6", "--run-dir", resumed]).status, 0)
        let second = try train(ranks: ranks, ["--resume", "auto", "--run-dir", resumed, "--steps", "12", "--threads", "1"])
        XCTAssertEqual(second.status, 0, second.combinedOutput)
        XCTAssertTrue(second.standardOutput.contains("resuming from \(resumed)/checkpoint-00000006.h5 at step 6"), second.standardOutput)
        let differences = try CheckpointComparison.differences("\(straight)/checkpoint-00000012.h5", "\(resumed)/checkpoint-00000012.h5")
        XCTAssertEqual(differences, [], "resumed and straight runs end bit for bit equal")
        XCTAssertEqual(try metrics(resumed).map { $0["step"]! }, (1...12).map(Double.init), "the metrics log continues")
    }

    func testResumeWithLinearDecayIsExactTowardsTheSameSteps() throws {
        let common = ["--preset", "ring2d", "--batch-size", "20", "--threads", "1"]
        let straight = scratch.file("straight"), resumed = scratch.file("resumed")
        XCTAssertEqual(try train(common + ["--steps", "12", "--checkpoint-every", "6", "--run-dir", straight]).status, 0)
        let second = try train(["--resume", "\(straight)/checkpoint-00000006.h5", "--run-dir", resumed, "--threads", "1"])
        XCTAssertEqual(second.status, 0, second.combinedOutput)
        XCTAssertFalse(second.standardOutput.contains("note:"), second.standardOutput)
        let differences = try CheckpointComparison.differences("\(straight)/checkpoint-00000012.h5", "\(resumed)/checkpoint-00000012.h5")
        XCTAssertEqual(differences, [], "a crash at step 6, resumed: the same run bit for bit")
    }

    func testResumingALinearDecayTowardsMoreStepsSaysSo() throws {
        let directory = scratch.file("decay")
        XCTAssertEqual(try train(["--preset", "ring2d", "--batch-size", "20", "--steps", "2", "--run-dir", directory]).status, 0)
        let resumed = try train(["--resume", "auto", "--run-dir", directory, "--steps", "4"])
        XCTAssertEqual(resumed.status, 0, resumed.combinedOutput)
        XCTAssertTrue(resumed.standardOutput.contains(
            "note: --lr-decay linear falls towards --steps, now 4 instead of 2: the rates go on at 50% of their start, not 0%"), resumed.standardOutput)
    }

    /// A run resumed on a data file that changed since it started is refused on both ranks,
    /// naming both data sets, unless `--data-changed-ok true` says the change is meant.
    func testResumeOnChangedDataIsRefusedUnlessMeant() throws {
        let images = scratch.file("images.h5"), directory = scratch.file("run")
        func writeImages(_ phase: Double) throws {
            let pixels = (0..<40 * 784).map { Float(0.5 + 0.5 * sin(phase + 0.013 * Double($0))) }
            try HDF5File.create(images).root.write(pixels, shape: [40, 28, 28], to: "images")
        }
        try writeImages(0)
        let common = ["--preset", "dcgan28", "--data", images, "--batch-size", "8", "--checkpoint-every", "2", "--run-dir", directory]
        let first = try train(ranks: 2, common + ["--steps", "2"])
        XCTAssertEqual(first.status, 0, first.combinedOutput)
        try FileManager.default.removeItem(atPath: images)
        try writeImages(1)
        try expectFailure(ranks: 2, common + ["--steps", "4", "--resume", "auto"],
                          saying: "the data set is not the one the run trained on: it trained on 40 samples of shape [1, 28, 28], checksum ")
        let meant = try train(ranks: 2, common + ["--steps", "4", "--resume", "auto", "--data-changed-ok", "true"])
        XCTAssertEqual(meant.status, 0, meant.combinedOutput)
        XCTAssertEqual(try CheckpointFile(path: "\(directory)/checkpoint-00000004.h5").dataFingerprint(),
                       try Dataset.images(at: images).fingerprint(), "the new data's fingerprint is recorded from then on")
    }

    func testResumeOnAnotherNumberOfRanksSaysSo() throws {
        let directory = scratch.file("run")
        XCTAssertEqual(try train(["--preset", "grid2d", "--batch-size", "20", "--steps", "2", "--run-dir", directory]).status, 0)
        let result = try train(ranks: 2, ["--resume", "\(directory)/checkpoint-00000002.h5", "--steps", "4"])
        XCTAssertEqual(result.status, 0, result.combinedOutput)
        XCTAssertTrue(result.standardOutput.contains("(written by 1 rank, continuing on 2"), result.standardOutput)
        XCTAssertTrue(result.standardOutput.contains("not bit for bit"), result.standardOutput)
        XCTAssertEqual(try CheckpointFile(path: "\(directory)/checkpoint-00000004.h5").worldSize, 2)
    }

    func testProcessesFlagStartsItsOwnRanks() throws {
        let directory = scratch.file("run")
        let result = try Subprocess.run(try Subprocess.product("launcher"),
                                        ["train", "--preset", "grid2d", "--batch-size", "20", "--steps", "2", "--processes", "2", "--run-dir", directory],
                                        environment: ["OMPI_MCA_rmaps_base_oversubscribe": "1"])
        XCTAssertEqual(result.status, 0, result.combinedOutput)
        XCTAssertTrue(result.standardOutput.contains("over 2 ranks"), result.standardOutput)
        XCTAssertEqual(result.standardOutput.components(separatedBy: "done: step 2").count - 1, 1, "rank 0 alone reports")
    }

    // MARK: Checkpoints

    func testCheckpointLayoutIsTheDocumentedFormat() throws {
        let directory = scratch.file("run")
        let result = try train(["--preset", "grid2d", "--batch-size", "20", "--steps", "4", "--checkpoint-every", "1", "--keep", "2",
                                "--sample-every", "2", "--run-dir", directory])
        XCTAssertEqual(result.status, 0, result.combinedOutput)
        let files = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        XCTAssertEqual(files.filter { !$0.hasPrefix("events.out.tfevents.") },
                       [".lock", "checkpoint-00000003.h5", "checkpoint-00000004.h5", "metrics.jsonl", "samples-00000002.png", "samples-00000004.png"],
                       "the job's lock, the newest --keep checkpoints, and no partial files")
        XCTAssertEqual(files.filter { $0.hasPrefix("events.out.tfevents.") }.count, 1, "one TensorBoard event file")
        XCTAssertTrue(result.standardOutput.contains("checkpoint \(directory)/checkpoint-00000004.h5; samples \(directory)/samples-00000004.png"))

        let root = try HDF5File.open("\(directory)/checkpoint-00000004.h5").root
        XCTAssertEqual(try root.stringAttribute("format"), "learnedloss-checkpoint")
        XCTAssertEqual(try root.attribute("format_version", as: Int64.self), 2)
        XCTAssertEqual(try root.attribute("step", as: Int64.self), 4)
        XCTAssertEqual(try root.stringAttribute("preset"), "grid2d")
        XCTAssertEqual(try root.attribute("world_size", as: Int64.self), 1)
        XCTAssertGreaterThanOrEqual(try root.attribute("threads_per_rank", as: Int64.self), 1)
        XCTAssertNotNil(ISO8601DateFormatter().date(from: try root.stringAttribute("created")))
        XCTAssertEqual(try TrainingConfiguration.fromJSON(root.stringAttribute("config")).steps, 4)
        XCTAssertEqual(try root.childNames(), ["discriminator", "generator", "optimizer", "rng", "sampler", "samples"],
                       "no generator average: the 2-D presets keep none by default")

        // The generator's tensors under PyTorch's state_dict names and shapes, as the parity fixture lists them.
        let reference = try pytorchStateShapes("mlp2d_generator")
        let generator = try root.group("generator")
        XCTAssertEqual(Set(try generator.childNames()), Set(reference.keys))
        for (name, shape) in reference { XCTAssertEqual(try generator.shape(of: name), shape, name) }
        XCTAssertFalse(try generator.storesIntegers("0.weight"))

        let adam = try root.group("optimizer").group("generator")
        XCTAssertEqual(try adam.attribute("step", as: Int64.self), 4)
        XCTAssertEqual(try adam.attribute("lr", as: Double.self), 2e-4 / 4, accuracy: 1e-9, "the rate of the last step, a quarter of the way from 0")
        XCTAssertEqual(try adam.shape(of: "0.weight/exp_avg"), [400, 2])
        XCTAssertEqual(try adam.shape(of: "0.weight/exp_avg_sq"), [400, 2])
        XCTAssertEqual(try root.group("sampler").attribute("position", as: Int64.self), 4)
        XCTAssertEqual(try root.group("rng").attribute("seed", as: Int64.self), 1)
        XCTAssertEqual(try root.shape(of: "samples/latent"), [2500, 2])
        let grid = try root.group("samples").dataset("grid")
        XCTAssertEqual(try grid.stringAttribute("CLASS"), "IMAGE")
        XCTAssertEqual(try grid.stringAttribute("IMAGE_VERSION"), "1.2")
        XCTAssertEqual(try grid.stringAttribute("IMAGE_SUBCLASS"), "IMAGE_GRAYSCALE")
        XCTAssertTrue(try root.group("samples").storesIntegers("grid"))

        let sample = try Subprocess.run(try Subprocess.product("launcher"),
                                        ["sample", "\(directory)/checkpoint-00000004.h5", "--count", "7", "--out", scratch.file("samples.h5")])
        XCTAssertEqual(sample.status, 0, sample.combinedOutput)
        XCTAssertEqual(try HDF5File.open(scratch.file("samples.h5")).root.shape(of: "samples"), [7, 2])
        let inspect = try Subprocess.run(try Subprocess.product("launcher"), ["inspect", "\(directory)/checkpoint-00000004.h5"])
        XCTAssertEqual(inspect.status, 0)
        for expected in ["step         4 of 4", "preset       grid2d", "world size   1", "generator (483202 values)", "0.weight                   400×2  800"] {
            XCTAssertTrue(inspect.standardOutput.contains(expected), "\(expected): \(inspect.standardOutput)")
        }
    }

    private func pytorchStateShapes(_ name: String) throws -> [String: [Int]] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("ModelsTests/Fixtures/parity.json")
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        let state = try XCTUnwrap((object[name] as? [String: Any])?["state"] as? [[String: Any]])
        return Dictionary(uniqueKeysWithValues: state.map { ($0["name"] as! String, $0["shape"] as! [Int]) })
    }

    // MARK: Bad input: one clear message, a non-zero exit, on every rank count

    func expectFailure(ranks: Int = 1, _ arguments: [String], saying expected: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let result = try train(ranks: ranks, arguments)
        XCTAssertNotEqual(result.status, 0, "should fail: \(arguments)", file: file, line: line)
        XCTAssertEqual(result.standardError.components(separatedBy: expected).count - 1, 1,
                       "printed once, on \(ranks) rank(s): \(result.standardError)", file: file, line: line)
    }

    func testMissingOrUnreadableDataset() throws {
        let missing = scratch.file("absent-images.gz")
        for ranks in [1, 2] {
            try expectFailure(ranks: ranks, ["--preset", "dcgan28", "--data", missing, "--run-dir", scratch.file("run")],
                              saying: "error: \(missing): no such file")
        }
        let text = scratch.file("notes.gz")
        try "a grey bird".write(toFile: text, atomically: true, encoding: .utf8)
        try expectFailure(ranks: 2, ["--data", text, "--run-dir", scratch.file("run")], saying: "\(text): not an IDX file")
    }

    func testCheckpointsThatAreNotUsable() throws {
        let directory = scratch.file("run")
        XCTAssertEqual(try train(["--preset", "ring2d", "--batch-size", "20", "--steps", "2", "--run-dir", directory]).status, 0)
        let good = "\(directory)/checkpoint-00000002.h5"

        let foreign = scratch.file("foreign.h5")
        _ = try HDF5File.create(foreign)
        try expectFailure(["--resume", foreign], saying: "\(foreign): not a LearnedLoss checkpoint")

        let truncated = scratch.file("truncated.h5")
        let bytes = try Data(contentsOf: URL(fileURLWithPath: good))
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: truncated))
        for ranks in [1, 2] { try expectFailure(ranks: ranks, ["--resume", truncated], saying: "\(truncated): not a readable checkpoint") }

        try expectFailure(["--resume", good, "--preset", "grid2d"], saying: "--preset grid2d differs from the checkpoint's ring2d")

        let newer = scratch.file("newer.h5")
        try FileManager.default.copyItem(atPath: good, toPath: newer)
        try HDF5File.open(newer, writable: true).root.setAttribute("format_version", Int64(3))
        try expectFailure(["--resume", newer], saying: "checkpoint format version 3 is newer than this LearnedLoss reads (2)")

        // A discriminator built for packed pairs: its first layer takes 4 features, ring2d's takes 2.
        let mismatched = scratch.file("mismatched.h5")
        let stored = try CheckpointFile(path: good)
        var random = RandomStream(seed: 1, purpose: "init")
        let generator = Preset.ring2d.makeGenerator(random: &random), discriminator = MLP2D.discriminator(pack: 2, random: &random)
        try TrainingSnapshot(configuration: stored.configuration, step: 2, worldSize: 1, threadsPerRank: 1,
                             players: [.init(name: "generator", network: generator, optimizer: Adam(parameters: generator.parameters)),
                                       .init(name: "discriminator", network: discriminator, optimizer: Adam(parameters: discriminator.parameters))],
                             sampler: try EpochSampler(seed: 1, datasetCount: 100, globalBatch: 20), gridLatent: Tensor(shape: [1, 2]),
                             grid: Picture(width: 1, height: 1)).write(to: mismatched)
        try expectFailure(ranks: 2, ["--resume", mismatched], saying: "/discriminator/0.weight has shape [1000, 4], the ring2d network expects [1000, 2]")

        // ring2d's generator as PacGAN built it, with BatchNorm: written by an earlier LearnedLoss.
        let older = scratch.file("older.h5")
        let batchNormed = Sequential([Linear(2, 400, random: &random), BatchNorm(400), ReLU(), Linear(400, 2, random: &random)])
        try TrainingSnapshot(configuration: stored.configuration, step: 2, worldSize: 1, threadsPerRank: 1,
                             players: [.init(name: "generator", network: batchNormed, optimizer: Adam(parameters: batchNormed.parameters)),
                                       .init(name: "discriminator", network: discriminator, optimizer: Adam(parameters: discriminator.parameters))],
                             sampler: try EpochSampler(seed: 1, datasetCount: 100, globalBatch: 20), gridLatent: Tensor(shape: [1, 2]),
                             grid: Picture(width: 1, height: 1)).write(to: older)
        try expectFailure(["--resume", older], saying: "missing /generator/2.weight for the ring2d generator; the file's /generator also holds "
                          + "1.bias, 1.num_batches_tracked, 1.running_mean, 1.running_var, ..., which it does not")

        try expectFailure(["--resume", "auto"], saying: "--resume auto needs --run-dir")
        try expectFailure(["--resume", "auto", "--run-dir", scratch.file("empty")], saying: "--resume auto: no valid checkpoint in")
    }

    /// A flipped bit in a weight is refused by `train --resume` and `sample`, naming the file and
    /// dataset; `--resume auto` skips the damaged newest checkpoint for the one before, and says so.
    func testDamagedCheckpointsAreRefusedAndSkipped() throws {
        let directory = scratch.file("run")
        let first = try train(["--preset", "ring2d", "--batch-size", "20", "--steps", "2", "--checkpoint-every", "1", "--run-dir", directory])
        XCTAssertEqual(first.status, 0, first.combinedOutput)
        let newest = "\(directory)/checkpoint-00000002.h5"
        let weights = try HDF5File.open(newest).root.read("generator/0.weight", as: Float.self).values
        var bytes = try Data(contentsOf: URL(fileURLWithPath: newest))
        let stored = weights.prefix(8).withUnsafeBytes { Data($0) }
        let offset = try XCTUnwrap(bytes.range(of: stored)?.lowerBound, "the weight's values lie in the file as written")
        bytes[offset + 5] ^= 0x10
        try bytes.write(to: URL(fileURLWithPath: newest))

        let expected = "\(newest): damaged: /generator/0.weight does not match its checksum"
        for ranks in [1, 2] { try expectFailure(ranks: ranks, ["--resume", newest], saying: expected) }
        let sample = try Subprocess.run(try Subprocess.product("launcher"), ["sample", newest, "--count", "4", "--out", scratch.file("s.png")])
        XCTAssertNotEqual(sample.status, 0)
        XCTAssertTrue(sample.standardError.contains(expected), sample.standardError)

        let resumed = try train(["--resume", "auto", "--run-dir", directory, "--steps", "3"])
        XCTAssertEqual(resumed.status, 0, resumed.combinedOutput)
        XCTAssertTrue(resumed.standardOutput.contains("skipping \(newest): \(expected)"), resumed.standardOutput)
        XCTAssertTrue(resumed.standardOutput.contains("resuming from \(directory)/checkpoint-00000001.h5 at step 1"), resumed.standardOutput)

        // The configuration lives in the root group's object header, under that header's checksum.
        let header = "\(directory)/checkpoint-00000001.h5"
        var headerBytes = try Data(contentsOf: URL(fileURLWithPath: header))
        let key = try XCTUnwrap(headerBytes.range(of: Data("\"batch-size\"".utf8))?.lowerBound, "the config attribute is stored as text")
        headerBytes[key + 3] ^= 0x01
        try headerBytes.write(to: URL(fileURLWithPath: header))
        try expectFailure(["--resume", header], saying: "\(header): not a readable checkpoint")
    }

    func testBatchThatLeavesARankWithoutAPack() throws {
        try expectFailure(["--preset", "grid2d", "--pack", "4", "--batch-size", "10", "--run-dir", scratch.file("run")],
                          saying: "--batch-size 10 is not a whole number of packs of 4; use a multiple of 4")
        try expectFailure(ranks: 4, ["--preset", "grid2d", "--pack", "4", "--batch-size", "12", "--run-dir", scratch.file("run")],
                          saying: "--batch-size 12 leaves some of the 4 ranks without a pack of 4; use at least 16")
        try expectFailure(ranks: 2, ["--preset", "grid2d", "--batch-size", "1", "--run-dir", scratch.file("run")],
                          saying: "--batch-size 1 leaves some of the 2 ranks without a sample; use at least 2")
    }

    func testUnknownPresetObjectiveAndMisplacedFlags() throws {
        try expectFailure(ranks: 2, ["--preset", "cifar10"], saying: "cifar10")
        try expectFailure(["--objective", "wgan-gp"], saying: "wgan-gp")
        try expectFailure(["--preset", "grid2d", "--data", "/tmp/x.gz"], saying: "--data is not used by grid2d")
        try expectFailure(ranks: 2, ["--processes", "2"], saying: "--processes starts its own mpirun")
        let yaml = scratch.file("run.yaml")
        try "preset: grid2d\nlearning-rate: 0.1\n".write(toFile: yaml, atomically: true, encoding: .utf8)
        try expectFailure(["--config", yaml], saying: "\(yaml): unknown option `learning-rate`")
    }

    func testNonFiniteLossStopsAndKeepsTheLastGoodCheckpoint() throws {
        // 16 float images, one of them NaN; pick a seed whose order reaches it at step 3 or later.
        let images = scratch.file("images.h5")
        let poisoned = 11
        do {
            var values = [Float](repeating: 0.5, count: 16 * 784)
            values[poisoned * 784 + 100] = .nan
            try HDF5File.create(images).root.write(values, shape: [16, 28, 28], to: "images")
        }
        let seed = try (UInt64(1)...200).first { seed in
            var sampler = try EpochSampler(seed: seed, datasetCount: 16, globalBatch: 4)
            return (0..<2).allSatisfy { _ in !sampler.next().contains(poisoned) }
        }!
        var sampler = try EpochSampler(seed: seed, datasetCount: 16, globalBatch: 4)
        let failing = try XCTUnwrap((1...4).first { _ in sampler.next().contains(poisoned) })
        let directory = scratch.file("run")
        for ranks in [1, 2] {
            try? FileManager.default.removeItem(atPath: directory)
            let result = try train(ranks: ranks, ["--preset", "dcgan28", "--data", images, "--batch-size", "4", "--steps", "6", "--seed", "\(seed)",
                                                  "--checkpoint-every", "1", "--keep", "10", "--run-dir", directory])
            XCTAssertNotEqual(result.status, 0)
            let last = "\(directory)/\(CheckpointFormat.fileName(step: failing - 1))"
            XCTAssertEqual(result.standardError.components(separatedBy: "error: step \(failing): the discriminator loss is NaN; stopping. The last good checkpoint is \(last).").count - 1, 1,
                           result.standardError)
            XCTAssertEqual(try CheckpointFile(path: last).step, failing - 1)
            XCTAssertFalse(FileManager.default.fileExists(atPath: "\(directory)/\(CheckpointFormat.fileName(step: failing))"))
        }
    }
}
