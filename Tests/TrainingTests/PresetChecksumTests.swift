import Foundation
import Checkpoints
import HDF5
import Models
import TestSupport
import XCTest
@testable import Training

/// For a fixed seed, 20 steps of each preset on one rank and one thread end in a checkpoint whose
/// every dataset (weights, optimizer state, sampler and sample grid) is bit for bit the recorded
/// one (`Fixtures/preset-checksums.json`): a change that means to keep the numbers, such as a
/// reorganisation, is checked to keep them exactly. A change that alters them on purpose (new
/// kernels) records them again and says why in its commit:
///
///     LEARNEDLOSS_RECORD_CHECKSUMS=1 swift test --filter PresetChecksumTests
///
/// oneDNN chooses its kernels and their blocking, and so its order of summation, by the CPU's
/// instruction set and cache sizes, so checksums are kept per CPU model, instruction set and
/// caches; on a machine with none recorded the test says so and skips. What holds on every CPU
/// is checked by the second test: the same bits whichever way a run is cut up.
final class PresetChecksumTests: XCTestCase {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/preset-checksums.json")

    func testTwentyStepsOfEveryPresetAreBitForBitTheRecordedOnes() throws {
        let machine = "\(Self.cpuModel) / \(DNNL.instructionSet) / caches \(Self.cacheSizes)"
        var recorded = (try? JSONDecoder().decode([String: [String: String]].self, from: Data(contentsOf: Self.fixture))) ?? [:]
        let recording = ProcessInfo.processInfo.environment["LEARNEDLOSS_RECORD_CHECKSUMS"] == "1"
        guard recording || recorded[machine] != nil else {
            throw XCTSkip("no checksums recorded for \(machine) in \(Self.fixture.lastPathComponent); "
                          + "record them with LEARNEDLOSS_RECORD_CHECKSUMS=1 on the code before a change")
        }
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        var measured: [String: String] = [:]
        for preset in ["dcgan28", "grid2d", "ring2d", "alphagan28", "completion28", "colorize28"] {
            let directory = scratch.file(preset)
            let result = try Subprocess.run(try Subprocess.product("launcher"), [
                "train", "--preset", preset, "--steps", "20", "--batch-size", "16", "--seed", "7", "--threads", "1",
                "--checkpoint-every", "20", "--run-dir", directory,
            ], timeout: 600)
            XCTAssertEqual(result.status, 0, result.combinedOutput)
            measured[preset] = try Self.checksum(of: "\(directory)/checkpoint-00000020.h5")
        }
        if recording {
            recorded[machine] = measured
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            try encoder.encode(recorded).write(to: Self.fixture)
            print("recorded the checksums of \(machine) in \(Self.fixture.path)")
        } else {
            for (preset, checksum) in measured.sorted(by: { $0.key < $1.key }) {
                XCTAssertEqual(checksum, recorded[machine]?[preset], "\(preset): 20 steps no longer end in the recorded checkpoint")
            }
        }
    }

    /// On any CPU: 10 steps of every preset under `--exact 2` end in the same checkpoint on one
    /// rank as 5 steps on 2 ranks resumed for 5 more on one, and the 2-rank run's step 5 is the
    /// one-rank run's. A reorganisation that changes what a step computes, or what a checkpoint
    /// holds to continue it, breaks one of the two.
    func testEveryPresetUnderExactEndsTheSameOnOneAndTwoRanksAndAcrossAResume() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let launcher = try Subprocess.product("launcher")
        func train(ranks: Int, _ arguments: [String]) throws {
            let result = ranks == 1 ? try Subprocess.run(launcher, ["train"] + arguments, timeout: 300)
                : try Subprocess.mpirun(ranks: ranks, "launcher", ["train"] + arguments, timeout: 300)
            XCTAssertEqual(result.status, 0, result.combinedOutput)
        }
        for preset in Preset.allCases.map(\.rawValue) {
            let images = scratch.file("\(preset).h5")
            let data = try Self.imageArguments(preset, writingTo: images)
            // A linear decay falls towards --steps, which the cut run's first part sets to 5.
            // sngan's 256-channel 32×32 networks are the slowest in a debug build: a batch of 4, one D update a step
            // (the test on 4 ranks below takes two).
            let common = ["--preset", preset, "--seed", "7", "--exact", "2", "--checkpoint-every", "5", "--keep", "2", "--lr-decay", "none",
                          "--tensorboard", "false"] + data + (preset == "sngan" ? ["--batch-size", "4", "--d-steps", "1"] : ["--batch-size", "16"])
                + (preset == "dcgan" ? ["--augment", "color,translation,cutout,mirror"] : [])
            let (straight, cut) = (scratch.file("\(preset)-straight"), scratch.file("\(preset)-cut"))
            try train(ranks: 1, common + ["--steps", "10", "--run-dir", straight])
            try train(ranks: 2, common + ["--steps", "5", "--run-dir", cut])
            try train(ranks: 1, ["--resume", "auto", "--run-dir", cut, "--steps", "10"])
            for step in ["00000005", "00000010"] {
                let differences = try CheckpointComparison.differences("\(straight)/checkpoint-\(step).h5", "\(cut)/checkpoint-\(step).h5")
                    .filter { !$0.hasPrefix("/@config") && !$0.hasPrefix("/@world_size") }
                XCTAssertEqual(differences, [], "\(preset) at step \(step)")
            }
        }
    }

    /// The presets that build their networks for the data's shape, under `--exact 4` with every
    /// augmentation: 2 steps on one rank and on 4 end in the same checkpoint, bit for bit.
    func testTheShapedPresetsUnderExactFourAreTheSameOnOneAndFourRanks() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let launcher = try Subprocess.product("launcher")
        for preset in ["dcgan", "sngan"] {
            let common = ["train", "--preset", preset, "--batch-size", "8", "--seed", "3", "--exact", "4", "--steps", "2", "--d-steps", "2",
                          "--augment", "color,translation,cutout,mirror", "--tensorboard", "false"]
                + (try Self.imageArguments(preset, writingTo: scratch.file("\(preset).h5")))
            let (one, four) = (scratch.file("\(preset)-1"), scratch.file("\(preset)-4"))
            let alone = try Subprocess.run(launcher, common + ["--run-dir", one], timeout: 300)
            XCTAssertEqual(alone.status, 0, alone.combinedOutput)
            let together = try Subprocess.mpirun(ranks: 4, "launcher", common + ["--run-dir", four], timeout: 300)
            XCTAssertEqual(together.status, 0, together.combinedOutput)
            let differences = try CheckpointComparison.differences("\(one)/checkpoint-00000002.h5", "\(four)/checkpoint-00000002.h5")
                .filter { !$0.hasPrefix("/@config") && !$0.hasPrefix("/@world_size") }
            XCTAssertEqual(differences, [], preset)
        }
    }

    /// `--data` and a file of 32 images for a preset that reads images (none for one that generates
    /// its points): gray 28×28, or colour at the smallest side of a preset that takes its shape
    /// from the data (16 px for dcgan, 32 for sngan).
    static func imageArguments(_ preset: String, writingTo path: String) throws -> [String] {
        let definition = Preset(rawValue: preset)!.definition
        guard definition.takesImages else { return [] }
        if definition is Pix2PixPreset {
            // 64 px, where dropout is the generator's noise; the networks narrowed to keep it quick.
            let values = (0..<32 * 3 * 64 * 64).map { Float(0.5 + 0.5 * sin(0.013 * Double($0))) }
            try HDF5File.create(path).root.write(values, shape: [32, 3, 64, 64], to: "images")
            return ["--data", path, "--pairs", "gray", "--width", "8"]
        }
        let shape = definition is SNGANPreset ? [3, 32, 32] : definition.options.contains(.shape) ? [3, 16, 16] : [1, 28, 28]
        let count = 32 * shape.reduce(1, *)
        try HDF5File.create(path).root.write((0..<count).map { Float(0.5 + 0.5 * sin(0.013 * Double($0))) }, shape: [32] + shape, to: "images")
        return ["--data", path]
    }

    /// FNV-1a (64 bits) over every dataset's path and raw values, in path order.
    static func checksum(of path: String) throws -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix<T>(_ values: [T]) {
            values.withUnsafeBytes { for byte in $0 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 } }
        }
        func visit(_ group: HDF5Group, _ prefix: String) throws {
            for name in try group.childNames().sorted() {
                if group.isGroup(name) {
                    try visit(try group.group(name), "\(prefix)\(name)/")
                    continue
                }
                mix(Array("\(prefix)\(name)".utf8))
                if try group.storesIntegers(name) { mix(try group.read(name, as: Int64.self).values) } else { mix(try group.read(name, as: Float.self).values) }
            }
        }
        try visit(try HDF5File.open(path).root, "")
        return String(hash, radix: 16)
    }

    /// The first core's cache sizes, as the kernel reports them ("32K 32K 1024K 32768K").
    static var cacheSizes: String {
        let directory = "/sys/devices/system/cpu/cpu0/cache"
        let levels = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasPrefix("index") }.sorted()
        return levels.compactMap { try? String(contentsOfFile: "\(directory)/\($0)/size", encoding: .utf8) }
            .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.joined(separator: " ")
    }

    /// `lscpu`'s model name, from /proc/cpuinfo.
    static var cpuModel: String {
        let info = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let line = info.split(separator: "\n").first { $0.hasPrefix("model name") }
        return line.flatMap { $0.split(separator: ":", maxSplits: 1).last }.map { $0.trimmingCharacters(in: .whitespaces) } ?? "unknown CPU"
    }
}
