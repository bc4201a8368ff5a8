import Foundation
import HDF5
import TestSupport
import XCTest

/// `--exact` as users run it, under real mpirun: the same checkpoint bit for bit on 1, 2 and 4
/// ranks, and a resume on another world size that continues it.
final class ExactTrainingTests: XCTestCase {
    var scratch: ScratchDirectory!
    override func setUpWithError() throws { scratch = try ScratchDirectory() }
    override func tearDown() { scratch.remove() }

    private func train(ranks: Int, _ arguments: [String]) throws -> ProcessResult {
        let result = ranks == 1
            ? try Subprocess.run(try Subprocess.product("launcher"), ["train"] + arguments, timeout: 300)
            : try Subprocess.mpirun(ranks: ranks, "launcher", ["train"] + arguments, timeout: 300)
        XCTAssertFalse(result.timedOut, "a rank was left hanging: \(result.combinedOutput)")
        return result
    }

    /// What may differ between runs on different world sizes: the run directory in the
    /// configuration, the world size itself and when the file was written.
    private func modelDifferences(_ lhs: String, _ rhs: String) throws -> [String] {
        try CheckpointComparison.differences(lhs, rhs).filter { !$0.hasPrefix("/@config") && !$0.hasPrefix("/@world_size") }
    }

    private func presets() throws -> [[String]] {
        let images = scratch.file("images.h5")
        try HDF5File.create(images).root.write((0..<48 * 784).map { Float(0.5 + 0.5 * cos(0.011 * Double($0))) }, shape: [48, 28, 28], to: "images")
        return [["--preset", "dcgan28", "--data", images, "--batch-size", "16"], ["--preset", "grid2d", "--batch-size", "40"],
                ["--preset", "alphagan28", "--data", images, "--batch-size", "16"]]
    }

    /// 4 ranks reduce in tiny buckets during the backward pass, 2 in one message after it.
    func testOneTwoAndFourRanksTrainTheSameCheckpoint() throws {
        for preset in try presets() {
            let common = preset + ["--exact", "4", "--steps", "10", "--lr-decay", "none", "--tensorboard", "false"]
            var checkpoints: [String] = []
            for ranks in [1, 2, 4] {
                let directory = scratch.file("\(preset[1])-\(ranks)")
                let result = try train(ranks: ranks, common + ["--run-dir", directory, "--bucket-mb", ranks == 4 ? "0.01" : "0"])
                XCTAssertEqual(result.status, 0, result.combinedOutput)
                if ranks == 4 { XCTAssertTrue(result.standardOutput.contains("in 0.01 MiB buckets"), result.standardOutput) }
                XCTAssertTrue(result.standardOutput.contains("1 thread each"), result.standardOutput)
                checkpoints.append("\(directory)/checkpoint-00000010.h5")
            }
            XCTAssertEqual(try modelDifferences(checkpoints[0], checkpoints[1]), [], "\(preset[1]): 1 and 2 ranks")
            XCTAssertEqual(try modelDifferences(checkpoints[0], checkpoints[2]), [], "\(preset[1]): 1 and 4 ranks")
            if preset[1] == "grid2d" {
                // The comparison can fail: the default mode's sums follow the split, and differ in the last bits.
                let directory = scratch.file("grid2d-default")
                let result = try train(ranks: 2, preset + ["--steps", "10", "--lr-decay", "none", "--tensorboard", "false", "--threads", "1", "--run-dir", directory])
                XCTAssertEqual(result.status, 0, result.combinedOutput)
                XCTAssertNotEqual(try modelDifferences(checkpoints[0], "\(directory)/checkpoint-00000010.h5"), [])
            }
        }
    }

    /// 5 steps on 2 ranks, then 5 more on 4 and on 1, end where 10 steps on 1 rank end.
    func testResumeOnAnotherWorldSizeContinuesBitForBit() throws {
        let preset = try presets()[0] + ["--exact", "4", "--lr-decay", "none", "--tensorboard", "false", "--checkpoint-every", "5"]
        let straight = scratch.file("straight")
        XCTAssertEqual(try train(ranks: 1, preset + ["--steps", "10", "--run-dir", straight]).status, 0)
        for ranks in [4, 1] {
            let resumed = scratch.file("resumed-\(ranks)")
            XCTAssertEqual(try train(ranks: 2, preset + ["--steps", "5", "--run-dir", resumed]).status, 0)
            let second = try train(ranks: ranks, ["--resume", "auto", "--run-dir", resumed, "--steps", "10"])
            XCTAssertEqual(second.status, 0, second.combinedOutput)
            XCTAssertTrue(second.standardOutput.contains("written by 2 ranks, continuing on \(ranks): bit for bit the same run (--exact)"),
                          second.standardOutput)
            XCTAssertEqual(try modelDifferences("\(straight)/checkpoint-00000010.h5", "\(resumed)/checkpoint-00000010.h5"), [],
                           "2 ranks, then \(ranks)")
        }
    }

    /// A world size that does not divide the shards, or more threads than one, is refused on every
    /// rank before training, with the sizes that would do.
    func testWorldSizesThatDoNotDivideTheShardsAreRefused() throws {
        let common = ["--preset", "grid2d", "--batch-size", "24", "--steps", "2", "--exact", "4", "--run-dir", scratch.file("refused")]
        let three = try train(ranks: 3, common)
        XCTAssertNotEqual(three.status, 0)
        XCTAssertTrue(three.combinedOutput.contains("--exact 4 trains bit-identically on 1, 2 or 4 ranks (those that divide its shards), not on 3"),
                      three.combinedOutput)
        let threads = try train(ranks: 1, common + ["--threads", "2"])
        XCTAssertNotEqual(threads.status, 0)
        XCTAssertTrue(threads.combinedOutput.contains("--threads 2 cannot go with --exact"), threads.combinedOutput)
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch.file("refused/checkpoint-00000002.h5")))
    }
}
