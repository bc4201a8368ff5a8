import Checkpoints
import Foundation
import HDF5
import Models
import TestSupport
import XCTest
@testable import Datasets

/// pix2pix on the user's pairs: A/B folders, side-by-side images and the HDF5 `dataset` packs from
/// them; pairs derived from plain images against their definitions; training under real mpirun,
/// 1 and 2 ranks agreeing and `--exact` bit for bit on 1, 2 and 4. The networks are narrowed
/// with `--width 8` so that these runs take seconds; the paper's width is checked against PyTorch
/// in ParityTests.
final class Pix2PixTests: XCTestCase {
    var scratch: ScratchDirectory!
    override func setUpWithError() throws { scratch = try ScratchDirectory() }
    override func tearDown() { scratch.remove() }

    /// A smooth pattern of `channels` planes, different per image `seed` and channel.
    @discardableResult
    func writePNG(_ path: String, width: Int, height: Int, channels: Int, seed: Int) throws -> [UInt8] {
        var picture = Picture(width: width, height: height, channels: channels)
        picture.pixels = (0..<width * height).flatMap { pixel -> [UInt8] in
            let (x, y) = (Double(pixel % width), Double(pixel / width))
            return (0..<channels).map { channel -> UInt8 in
                let phase: Double = 0.37 * x + 0.23 * y + 1.1 * Double(channel + 3 * seed)
                return UInt8(127.5 + 127.5 * sin(phase))
            }
        }
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try picture.writePNG(to: path)
        return picture.pixels
    }

    /// Gray inputs in A/, colour targets in B/, `count` pairs of 32×32.
    func makePairedFolder(count: Int = 8) throws -> String {
        let folder = scratch.file("pairs")
        for index in 0..<count {
            try writePNG("\(folder)/A/\(index).png", width: 32, height: 32, channels: 1, seed: index)
            try writePNG("\(folder)/B/\(index).png", width: 32, height: 32, channels: 3, seed: index)
        }
        return folder
    }

    func train(ranks: Int, _ arguments: [String]) throws -> ProcessResult {
        let result = ranks == 1
            ? try Subprocess.run(try Subprocess.product("launcher"), ["train"] + arguments, timeout: 300)
            : try Subprocess.mpirun(ranks: ranks, "launcher", ["train"] + arguments, timeout: 300)
        XCTAssertFalse(result.timedOut, "a rank was left hanging: \(result.combinedOutput)")
        return result
    }

    /// A/B folders pair by name, gray inputs beside colour targets; a file without a partner and a
    /// pair of two sizes are named; `dataset --pairs files` packs the same batches into HDF5.
    func testPairedFoldersLoadNameTheirFaultsAndPackToTheSameBatches() throws {
        let folder = try makePairedFolder(count: 3)
        let dataset = try Dataset.pairs(at: folder, layout: .files)
        XCTAssertEqual(dataset.sampleShape, [4, 32, 32])
        XCTAssertEqual(dataset.inputChannels, 1)
        let batch = try dataset.batch([1])
        let gray = try writePNG(scratch.file("expected/a.png"), width: 32, height: 32, channels: 1, seed: 1)
        XCTAssertEqual(batch.slice(0..<1, axis: 1).scalars, gray.map { Float($0) / 127.5 - 1 }, "the input first")
        let (input, target) = PairSource.files.split(batch, inputChannels: 1)
        XCTAssertEqual([input.shape, target.shape], [[1, 1, 32, 32], [1, 3, 32, 32]])

        let packed = scratch.file("pairs.h5")
        let summary = try DatasetPacking.packPairs(folder, layout: .files, to: packed, options: .init(resolution: 32)) { _ in }
        XCTAssertEqual(summary.count, 3)
        let read = try Dataset.pairs(at: packed, layout: .files)
        XCTAssertEqual(read.inputChannels, 1)
        XCTAssertEqual(try read.batch([2, 0]), try dataset.batch([2, 0]), "the HDF5 file's pairs are the folder's")

        try writePNG("\(folder)/A/extra.png", width: 32, height: 32, channels: 1, seed: 9)
        XCTAssertThrowsError(try Dataset.pairs(at: folder, layout: .files)) {
            XCTAssertEqual("\($0)", "\(folder): 1 file has no partner of the same name in the other folder: \(folder)/A/extra.png")
        }
        try writePNG("\(folder)/B/extra.png", width: 16, height: 32, channels: 3, seed: 9)
        XCTAssertThrowsError(try Dataset.pairs(at: folder, layout: .files)) {
            XCTAssertEqual("\($0)", "\(folder)/A/extra.png is 32×32 but its target \(folder)/B/extra.png is 16×32: the two images of a pair have one size")
        }
        XCTAssertThrowsError(try Dataset.pairs(at: scratch.file("expected"), layout: .files)) {
            XCTAssertTrue("\($0)".hasPrefix("\(scratch.file("expected")): no A/ folder; given pairs are A/ (inputs) and B/ (targets) folders"), "\($0)")
        }
    }

    /// pix2pix's AB images: the left half the input, the right the target; an odd width is named.
    func testSideBySideImagesSplitIntoInputAndTarget() throws {
        let folder = scratch.file("ab")
        let pixels = try writePNG("\(folder)/0.png", width: 64, height: 32, channels: 3, seed: 0)
        let dataset = try Dataset.pairs(at: folder, layout: .sideBySide)
        XCTAssertEqual(dataset.sampleShape, [6, 32, 32])
        let (input, target) = PairSource.sideBySide.split(try dataset.batch([0]), inputChannels: 3)
        func pixel(_ image: Tensor, _ channel: Int, _ y: Int, _ x: Int) -> UInt8 { UInt8(((image.scalars[(channel * 32 + y) * 32 + x] + 1) * 127.5).rounded()) }
        XCTAssertEqual(pixel(input, 2, 5, 7), pixels[(5 * 64 + 7) * 3 + 2])
        XCTAssertEqual(pixel(target, 1, 9, 3), pixels[(9 * 64 + 32 + 3) * 3 + 1])
        try writePNG("\(folder)/1.png", width: 63, height: 32, channels: 3, seed: 1)
        XCTAssertThrowsError(try Dataset.pairs(at: folder, layout: .sideBySide)) {
            XCTAssertEqual("\($0)", "\(folder)/1.png is 63×32: a side-by-side pair is an even width, input left and target right")
        }
    }

    /// Each derived input on fixed images against its definition.
    func testDerivedPairsFollowTheirDefinitions() {
        let image = Tensor(shape: [1, 3, 8, 8]) { Float(sin(0.3 * Double($0))) }
        let plane = 64
        let gray = PairSource.gray.split(image, inputChannels: 1).input
        XCTAssertEqual(gray.shape, [1, 1, 8, 8])
        for pixel in [0, 17, 63] {
            XCTAssertEqual(gray.scalars[pixel], 0.299 * image.scalars[pixel] + 0.587 * image.scalars[plane + pixel] + 0.114 * image.scalars[2 * plane + pixel],
                           accuracy: 1e-6)
        }
        let bottom = PairSource.maskedBottom.split(image, inputChannels: 3)
        XCTAssertEqual(bottom.target, image)
        let center = PairSource.maskedCenter.split(image, inputChannels: 3).input
        for channel in 0..<3 {
            for y in 0..<8 {
                for x in 0..<8 {
                    let index = channel * plane + y * 8 + x
                    XCTAssertEqual(bottom.input.scalars[index], y >= 4 ? 0 : image.scalars[index], "masked-bottom at \(channel), \(y), \(x)")
                    XCTAssertEqual(center.scalars[index], (2..<6).contains(y) && (2..<6).contains(x) ? 0 : image.scalars[index],
                                   "masked-center at \(channel), \(y), \(x)")
                }
            }
        }
        // A point far from the edges spreads into the outer product of the 13-tap Gaussian of σ 2.
        var point = Tensor(shape: [1, 1, 32, 32])
        point.scalars[16 * 32 + 16] = 1
        let blurred = PairSource.blur.split(point, inputChannels: 1).input
        let taps: [Float] = (-6...6).map { (offset: Int) -> Float in exp(-Float(offset * offset) / 8) }
        let total = taps.reduce(0, +)
        for (dy, dx) in [(0, 0), (1, 0), (3, -2), (6, 6)] {
            XCTAssertEqual(blurred.scalars[(16 + dy) * 32 + 16 + dx], taps[dy + 6] / total * taps[dx + 6] / total, accuracy: 1e-7)
        }
        XCTAssertEqual(blurred.scalars[(16 + 7) * 32 + 16], 0, "13 taps reach 6 pixels")
        let blocks = PairSource.downscale4.split(image, inputChannels: 3).input
        for (channel, y, x) in [(0, 0, 0), (1, 5, 2), (2, 7, 7)] {
            let (top, left) = (y / 4 * 4, x / 4 * 4)
            var sum: Float = 0
            for row in top..<top + 4 { for column in left..<left + 4 { sum += image.scalars[channel * plane + row * 8 + column] } }
            let mean = sum / 16
            XCTAssertEqual(blocks.scalars[channel * plane + y * 8 + x], mean, accuracy: 1e-6)
        }
    }

    /// Both folder forms train 10 steps on 2 ranks; the checkpoint holds the reference's names and
    /// the data's shape; `sample` writes inputs, outputs and targets; `evaluate` measures the held-out pair.
    func testBothFolderFormsTrainOnTwoRanksThenSampleAndEvaluate() throws {
        let sideBySide = scratch.file("ab")
        for index in 0..<8 { try writePNG("\(sideBySide)/\(index).png", width: 64, height: 32, channels: 3, seed: index) }
        let launcher = try Subprocess.product("launcher")
        for (data, pairs, inputChannels) in [(try makePairedFolder(), "files", 1), (sideBySide, "side-by-side", 3)] {
            let run = scratch.file("run-\(pairs)")
            let result = try train(ranks: 2, ["--preset", "pix2pix", "--data", data, "--pairs", pairs, "--width", "8", "--steps", "10",
                                              "--batch-size", "4", "--tensorboard", "false", "--run-dir", run])
            XCTAssertEqual(result.status, 0, result.combinedOutput)
            XCTAssertTrue(result.standardOutput.contains("training pix2pix on \(data) (7 samples)"), result.standardOutput)
            let checkpoint = "\(run)/checkpoint-00000010.h5"
            let configuration = try CheckpointFile(path: checkpoint).configuration
            XCTAssertEqual([configuration.resolution, configuration.channels, configuration.inputChannels], [32, 3, inputChannels])
            let names = try HDF5File.open(checkpoint).root
            XCTAssertEqual(try names.group("generator").childNames().first, "model.model.0.weight", "UnetGenerator's names")
            XCTAssertTrue(try names.group("discriminator").childNames().contains("model.11.bias"), "NLayerDiscriminator's names")

            let samples = scratch.file("samples-\(pairs).h5")
            let sampled = try Subprocess.run(launcher, ["sample", checkpoint, "--count", "3", "--out", samples])
            XCTAssertEqual(sampled.status, 0, sampled.combinedOutput)
            let file = try HDF5File.open(samples).root
            XCTAssertEqual(try file.shape(of: "samples"), [3, 3, 32, 32])
            XCTAssertEqual(try file.shape(of: "inputs"), [3, inputChannels, 32, 32])
            XCTAssertEqual(try file.shape(of: "targets"), [3, 3, 32, 32])
            let evaluated = try Subprocess.run(launcher, ["evaluate", checkpoint, "--json"])
            XCTAssertEqual(evaluated.status, 0, evaluated.combinedOutput)
            XCTAssertTrue(evaluated.standardOutput.contains("\"paired\":{"), evaluated.standardOutput)
            XCTAssertTrue(evaluated.standardOutput.contains("\"samples\":1"), "one pair of 8 held out: \(evaluated.standardOutput)")
        }
    }

    /// At 64 px, where dropout is the noise: 1 and 2 ranks agree to rounding; under `--exact 4`,
    /// 1, 2 and 4 ranks train the same checkpoint bit for bit.
    func testRanksAgreeAndExactIsBitForBit() throws {
        let images = scratch.file("colour.h5")
        let values: [Float] = (0..<20 * 3 * 64 * 64).map { (index: Int) -> Float in
            Float(sin(0.0007 * Double(index % 12288) + 0.9 * Double(index / 12288)))
        }
        try HDF5File.create(images).root.write(values, shape: [20, 3, 64, 64], to: "images")
        let common = ["--preset", "pix2pix", "--data", images, "--pairs", "gray", "--width", "8", "--batch-size", "8", "--steps", "3",
                      "--lr-decay", "none", "--tensorboard", "false"]
        var losses: [[Double]] = []
        for ranks in [1, 2] {
            let run = scratch.file("default-\(ranks)")
            XCTAssertEqual(try train(ranks: ranks, common + ["--run-dir", run]).status, 0)
            let lines = try String(contentsOfFile: "\(run)/metrics.jsonl", encoding: .utf8).split(separator: "\n")
            losses.append(try lines.flatMap { line -> [Double] in
                let metrics = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Double])
                return [metrics["d_loss"]!, metrics["g_loss"]!]
            })
        }
        assertClose(losses[1].map(Float.init), losses[0].map(Float.init), rtol: 1e-3, atol: 1e-4, "1 and 2 ranks")
        var checkpoints: [String] = []
        for ranks in [1, 2, 4] {
            let run = scratch.file("exact-\(ranks)")
            let result = try train(ranks: ranks, common + ["--exact", "4", "--run-dir", run])
            XCTAssertEqual(result.status, 0, result.combinedOutput)
            checkpoints.append("\(run)/checkpoint-00000003.h5")
        }
        for other in checkpoints.dropFirst() {
            let differences = try CheckpointComparison.differences(checkpoints[0], other).filter { !$0.hasPrefix("/@config") && !$0.hasPrefix("/@world_size") }
            XCTAssertEqual(differences, [], other)
        }
    }
}
