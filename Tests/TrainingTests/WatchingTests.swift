import Checkpoints
import Foundation
import HDF5
import TestSupport
import XCTest

/// Watching and using a run: TensorBoard event files, evaluations during training with best.h5,
/// `launcher report` and `launcher export`, as users run them (real processes, real mpirun).
final class WatchingTests: XCTestCase {
    var scratch: ScratchDirectory!
    override func setUpWithError() throws { scratch = try ScratchDirectory() }
    override func tearDown() { scratch.remove() }

    func launcher(ranks: Int = 1, _ arguments: [String]) throws -> ProcessResult {
        let result = ranks == 1 ? try Subprocess.run(try Subprocess.product("launcher"), arguments, timeout: 300)
            : try Subprocess.mpirun(ranks: ranks, "launcher", arguments, timeout: 300)
        XCTAssertFalse(result.timedOut, "a rank was left hanging: \(result.combinedOutput)")
        return result
    }

    func lines(_ path: String) throws -> [[String: Any]] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map {
            try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
    }

    func eventFiles(_ directory: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasPrefix("events.out.tfevents.") }.sorted()
            .map { "\(directory)/\($0)" }
    }

    /// grid2d on 2 ranks, evaluated every 10 steps: each evaluation is the one `launcher evaluate`
    /// makes of that step's checkpoint; best.h5 is the step with the most modes; TensorBoard has
    /// every figure; a resume continues both.
    func testEvaluationsDuringTrainingOnTwoRanksKeepTheBestAndReachTensorBoard() throws {
        let directory = scratch.file("grid")
        let common = ["--preset", "grid2d", "--batch-size", "50", "--eval-every", "10", "--eval-samples", "500",
                      "--checkpoint-every", "10", "--keep", "5", "--sample-every", "10", "--run-dir", directory]
        let first = try launcher(ranks: 2, ["train", "--steps", "30"] + common)
        XCTAssertEqual(first.status, 0, first.combinedOutput)
        XCTAssertTrue(first.standardOutput.contains("3 evaluations of 500 samples"), first.standardOutput)

        let evaluations = try lines("\(directory)/metrics.jsonl").filter { $0["eval/modes covered"] != nil }
        XCTAssertEqual(evaluations.map { $0["step"] as? Int }, [10, 20, 30])
        let logged = try lines("\(directory)/evaluations.jsonl")
        XCTAssertEqual(logged.map { $0["measured"] as? String }, ["training", "training", "training"])
        for evaluation in evaluations {
            let step = evaluation["step"] as! Int
            let checkpoint = "\(directory)/\(CheckpointFormat.fileName(step: step))"
            let measured = try launcher(["evaluate", checkpoint, "--samples", "500", "--json"])
            XCTAssertEqual(measured.status, 0, measured.combinedOutput)
            let coverage = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(measured.standardOutput.utf8)) as? [String: Any])?["modeCoverage"] as? [String: Any])
            XCTAssertEqual(evaluation["eval/modes covered"] as? Double, (coverage["modesCovered"] as? NSNumber)?.doubleValue, "step \(step)")
            XCTAssertEqual(evaluation["eval/high quality %"] as! Double, (coverage["highQualityPercent"] as! NSNumber).doubleValue, accuracy: 1e-3, "step \(step)")
            XCTAssertGreaterThan(evaluation["eval/seconds"] as! Double, 0)
        }

        let ranked = evaluations.map { (step: $0["step"] as! Int, key: [$0["eval/modes covered"] as! Double, $0["eval/high quality %"] as! Double]) }
        let winner = ranked.reduce(ranked[0]) { $1.key.lexicographicallyPrecedes($0.key) || $1.key == $0.key ? $0 : $1 }
        let best = try CheckpointFile(path: "\(directory)/best.h5")
        let mark = try XCTUnwrap(try BestCheckpoint(of: best))
        XCTAssertEqual(mark.step, winner.step)
        XCTAssertEqual(best.step, winner.step, "best.h5 is the checkpoint of its step")
        XCTAssertEqual(mark.metric, "modes covered")
        XCTAssertEqual(mark.value, winner.key[0])
        XCTAssertEqual(try CheckpointComparison.differences(best.path, "\(directory)/\(CheckpointFormat.fileName(step: winner.step))")
                        .filter { !$0.hasPrefix("/@best_") }, [], "the same networks as that step's checkpoint, with the marks besides")

        let events = try EventFileReader.events(at: try XCTUnwrap(try eventFiles(directory).first))
        func steps(_ tag: String) -> [Int64] { events.filter { $0.scalars.contains { $0.tag == tag } }.map(\.step) }
        XCTAssertEqual(steps("loss/D"), Array(1...30))
        XCTAssertEqual(steps("lr/G"), Array(1...30))
        XCTAssertEqual(steps("eval/modes covered"), [10, 20, 30])
        let grids = events.flatMap { event in event.images.map { (event.step, $0) } }
        XCTAssertEqual(grids.map(\.0), [10, 20, 30])
        XCTAssertEqual(Array(grids[0].1.encoded.prefix(4)), [0x89, 0x50, 0x4E, 0x47], "PNG-encoded")
        let lastLoss = try XCTUnwrap(events.last { $0.scalars.contains { $0.tag == "loss/D" } }?.scalars.first { $0.tag == "loss/D" }?.value)
        let loggedLoss = try XCTUnwrap((try lines("\(directory)/metrics.jsonl").last { $0["d_loss"] != nil }?["d_loss"] as? NSNumber)?.floatValue)
        XCTAssertEqual(lastLoss, loggedLoss, accuracy: 1e-5 * abs(loggedLoss), "metrics.jsonl keeps 6 digits")

        // A resume from step 10: a new event file that starts with TensorBoard's restart marker at 11.
        let resumed = try launcher(ranks: 2, ["train", "--resume", "\(directory)/checkpoint-00000010.h5", "--steps", "30"])
        XCTAssertEqual(resumed.status, 0, resumed.combinedOutput)
        let files = try eventFiles(directory)
        XCTAssertEqual(files.count, 2)
        let second = try EventFileReader.events(at: files[1])
        XCTAssertEqual(second.dropFirst().first?.sessionStatus, 1)
        XCTAssertEqual(second.dropFirst().first?.step, 11)
        XCTAssertEqual(second.filter { $0.scalars.contains { $0.tag == "loss/D" } }.map(\.step), Array(11...30))
        XCTAssertEqual(try BestCheckpoint(of: CheckpointFile(path: "\(directory)/best.h5"))?.step, winner.step,
                       "the resumed run repeats the same evaluations, so the best stays")
    }

    /// dcgan28 on 1 rank, on a small file of images: FID during training; TensorBoard off.
    func testImagePresetEvaluatesFIDAndTensorBoardTurnsOff() throws {
        let images = scratch.file("images.h5")
        let pixels = (0..<64 * 784).map { Float(0.5 + 0.5 * sin(0.011 * Double($0))) }
        try HDF5File.create(images).root.write(pixels, shape: [64, 28, 28], to: "images")
        let directory = scratch.file("images")
        let result = try launcher(["train", "--preset", "dcgan28", "--data", images, "--batch-size", "16", "--steps", "4", "--eval-every", "2",
                                   "--eval-samples", "200", "--tensorboard", "false", "--run-dir", directory])
        XCTAssertEqual(result.status, 0, result.combinedOutput)
        XCTAssertEqual(try eventFiles(directory), [])
        let evaluations = try lines("\(directory)/metrics.jsonl").filter { $0["eval/FID"] != nil }
        XCTAssertEqual(evaluations.map { $0["step"] as? Int }, [2, 4])
        let mark = try XCTUnwrap(try BestCheckpoint(of: CheckpointFile(path: "\(directory)/best.h5")))
        XCTAssertEqual(mark.metric, "FID")
        let fids = evaluations.map { $0["eval/FID"] as! Double }
        XCTAssertEqual(mark.value, fids.min()!, accuracy: 1e-3 * fids.min()!)
        XCTAssertTrue(result.standardOutput.contains("best evaluation: FID"), result.standardOutput)
    }

    func testEvaluationOptionsAreChecked() throws {
        let directory = scratch.file("bad")
        for (arguments, message) in [
            (["--preset", "dcgan28", "--eval-every", "5", "--eval-samples", "50"], "--eval-samples 50: KID, precision and recall need at least 200 samples"),
            (["--preset", "grid2d", "--eval-every", "-1"], "--eval-every must be at least 0, got -1"),
            (["--preset", "grid2d", "--tensorboard", "maybe"], "--tensorboard maybe: expected true or false"),
        ] {
            let result = try launcher(["train", "--steps", "2", "--run-dir", directory] + arguments)
            XCTAssertNotEqual(result.status, 0, "\(arguments)")
            XCTAssertTrue(result.standardError.contains(message), "\(arguments): \(result.standardError)")
        }
        let twoRanks = try launcher(ranks: 2, ["train", "--preset", "grid2d", "--steps", "2", "--eval-every", "1", "--eval-samples", "50", "--run-dir", directory])
        XCTAssertNotEqual(twoRanks.status, 0)
        XCTAssertEqual(twoRanks.standardError.components(separatedBy: "--eval-samples 50: mode coverage needs at least 100 samples").count - 1, 1,
                       "once for both ranks: \(twoRanks.standardError)")
    }

    // MARK: launcher report

    func testReportDrawsARunAndARunStillGoing() throws {
        let directory = scratch.file("run")
        let trained = try launcher(["train", "--preset", "ring2d", "--batch-size", "20", "--steps", "12", "--eval-every", "4",
                                    "--eval-samples", "200", "--sample-every", "6", "--run-dir", directory])
        XCTAssertEqual(trained.status, 0, trained.combinedOutput)
        let report = try launcher(["report", directory])
        XCTAssertEqual(report.status, 0, report.combinedOutput)
        let html = try String(contentsOfFile: "\(directory)/report.html", encoding: .utf8)
        XCTAssertTrue(html.contains("finished at step 12 of 12"))
        XCTAssertTrue(html.contains("<th>preset</th><td>ring2d</td>"), "the configuration")
        for title in ["Losses", "Discriminator's mean score", "Learning rates", "Images per second", "modes covered", "high quality %"] {
            XCTAssertTrue(html.contains("font-weight=\"bold\">\(title)"), "a plot of \(title)")
        }
        XCTAssertTrue(html.contains(">loss/D</text>") && html.contains(">D(G(z))</text>"))
        let best = try XCTUnwrap(try BestCheckpoint(of: CheckpointFile(path: "\(directory)/best.h5")))
        XCTAssertTrue(html.contains(">best: step \(best.step)</text>"), "the best evaluation marked")
        XCTAssertEqual(html.components(separatedBy: "src=\"data:image/png;base64,").count - 1, 2, "the grids of steps 6 and 12")
        XCTAssertFalse(html.contains("http://") && html.contains("<script"), "self-contained")
        XCTAssertTrue(html.contains("evaluations</th><td>3, "))

        // A run still going: a half-written last line, and more steps to go.
        var metrics = try String(contentsOfFile: "\(directory)/metrics.jsonl", encoding: .utf8)
        metrics += "{\"step\":13,\"d_lo"
        try metrics.write(toFile: "\(directory)/metrics.jsonl", atomically: true, encoding: .utf8)
        let out = scratch.file("page.html")
        XCTAssertEqual(try launcher(["report", directory, "--out", out]).status, 0)
        XCTAssertTrue(try String(contentsOfFile: out, encoding: .utf8).contains("finished at step 12 of 12"), "the half line is skipped")
    }

    func testReportRefusesWhatIsNotARun() throws {
        let empty = scratch.file("empty")
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        let result = try launcher(["report", empty])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.standardError.contains("\(empty): no readable metrics.jsonl"), result.standardError)
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(empty)/report.html"))
    }

    // MARK: launcher export

    /// An independent reading of the safetensors layout: header length, JSON, back-to-back data.
    func readSafetensors(_ path: String) throws -> (metadata: [String: String], tensors: [String: (dtype: String, shape: [Int], bytes: [UInt8])]) {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let length = Int((0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[$1]) << (8 * $1) })
        XCTAssertEqual((8 + length) % 8, 0, "the data starts aligned")
        let header = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(bytes[8..<8 + length])) as? [String: Any])
        let data = Array(bytes[(8 + length)...])
        var tensors: [String: (String, [Int], [UInt8])] = [:]
        var ranges: [Range<Int>] = []
        for (name, value) in header where name != "__metadata__" {
            let entry = try XCTUnwrap(value as? [String: Any])
            let offsets = try XCTUnwrap(entry["data_offsets"] as? [Int])
            ranges.append(offsets[0]..<offsets[1])
            tensors[name] = (entry["dtype"] as! String, entry["shape"] as! [Int], Array(data[offsets[0]..<offsets[1]]))
        }
        ranges.sort { $0.lowerBound < $1.lowerBound }
        XCTAssertEqual(ranges.first?.lowerBound, 0)
        XCTAssertEqual(ranges.last?.upperBound, data.count)
        for (earlier, later) in zip(ranges, ranges.dropFirst()) { XCTAssertEqual(earlier.upperBound, later.lowerBound, "no gaps") }
        return (header["__metadata__"] as? [String: String] ?? [:], tensors)
    }

    func testExportWritesTheGeneratorAverageUnderItsPyTorchNames() throws {
        let images = scratch.file("images.h5")
        try HDF5File.create(images).root.write((0..<32 * 784).map { Float($0 % 97) / 97 }, shape: [32, 28, 28], to: "images")
        let directory = scratch.file("run")
        XCTAssertEqual(try launcher(["train", "--preset", "dcgan28", "--data", images, "--batch-size", "16", "--steps", "3", "--run-dir", directory]).status, 0)
        let checkpoint = "\(directory)/checkpoint-00000003.h5"
        let file = try HDF5File.open(checkpoint)

        for (arguments, group) in [([String](), "generator_ema"), (["--raw-generator"], "generator"), (["--network", "discriminator"], "discriminator")] {
            let out = scratch.file("\(group).safetensors")
            let result = try launcher(["export", checkpoint, "--out", out] + arguments)
            XCTAssertEqual(result.status, 0, result.combinedOutput)
            let (metadata, tensors) = try readSafetensors(out)
            XCTAssertEqual(metadata["network"], group)
            XCTAssertEqual(metadata["preset"], "dcgan28")
            XCTAssertEqual(metadata["step"], "3")
            let stored = try file.root.group(group)
            XCTAssertEqual(Set(tensors.keys), Set(try stored.childNames()))
            for (name, tensor) in tensors {
                XCTAssertEqual(tensor.shape, try stored.shape(of: name), name)
                if try stored.storesIntegers(name) {
                    XCTAssertEqual(tensor.dtype, "I64", name)
                    let values = stride(from: 0, to: tensor.bytes.count, by: 8).map { at in (0..<8).reduce(Int64(0)) { $0 | Int64(tensor.bytes[at + $1]) << (8 * $1) } }
                    XCTAssertEqual(values, try stored.read(name, as: Int64.self).values, name)
                } else {
                    XCTAssertEqual(tensor.dtype, "F32", name)
                    let values = stride(from: 0, to: tensor.bytes.count, by: 4).map { at in
                        Float(bitPattern: (0..<4).reduce(UInt32(0)) { $0 | UInt32(tensor.bytes[at + $1]) << (8 * $1) }) }
                    XCTAssertEqual(values, try stored.read(name, as: Float.self).values, name)
                }
            }
            if group.hasPrefix("generator") { XCTAssertNotNil(tensors["1.num_batches_tracked"], "BatchNorm's buffers go too") }
        }

        let good = scratch.file("generator_ema.safetensors")
        let before = try Data(contentsOf: URL(fileURLWithPath: good))
        for (arguments, message) in [
            (["--network", "encoder", "--out", good], "holds no network encoder; its networks are discriminator, generator, generator_ema"),
            (["--out", scratch.file("absent/G.safetensors")], "--out \(scratch.file("absent/G.safetensors")): cannot write (No such file or directory)"),
            (["--out", scratch.file("G.bin")], "expected a file ending in .safetensors"),
        ] {
            let result = try launcher(["export", checkpoint] + arguments)
            XCTAssertNotEqual(result.status, 0, "\(arguments)")
            XCTAssertTrue(result.standardError.contains(message), "\(arguments): \(result.standardError)")
        }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: good)), before, "a failed export leaves the good file alone")
    }
}
