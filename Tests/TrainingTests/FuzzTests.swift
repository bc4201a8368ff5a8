import Checkpoints
import Datasets
import Foundation
import Models
import TestSupport
import XCTest
@testable import Training

/// A bounded, seeded fuzz pass: copies of each kind of file LearnedLoss reads, damaged the ways
/// `scripts/mutate-files.py` damages them, through their readers. Every copy must be read or
/// refused with a message naming it; none may crash or hang. Checkpoints go through `launcher
/// inspect` in a child process, so a crash in HDF5 shows as a signal instead of ending the suite.
final class FuzzTests: XCTestCase {
    var scratch: ScratchDirectory!

    override func setUpWithError() throws { scratch = try ScratchDirectory() }
    override func tearDown() { scratch.remove() }

    /// The damage of one trial, as mutate-files.py does it: a flipped bit, a few random bytes, a
    /// zeroed range, a range copied from elsewhere in the file, or a truncation.
    static func damaged(_ bytes: [UInt8], _ random: inout RandomStream) -> [UInt8] {
        var data = bytes
        let offset = random.integer(below: data.count)
        switch random.integer(below: 5) {
        case 0: data[offset] ^= UInt8(1 << random.integer(below: 8))
        case 1: for index in offset..<min(data.count, offset + 1 + random.integer(below: 8)) { data[index] = UInt8(random.integer(below: 256)) }
        case 2: for index in offset..<min(data.count, offset + 16 + random.integer(below: 4081)) { data[index] = 0 }
        case 3:
            let count = min(data.count - 1, 16 + random.integer(below: 4081)), source = random.integer(below: data.count - count)
            for index in 0..<min(count, data.count - offset) { data[offset + index] = bytes[source + index] }
        default: data.removeSubrange(offset...)
        }
        return data
    }

    /// Runs `trials` damaged copies of `original` through `read`, each written to `path`; `read`
    /// returns normally or throws. Returns how many were refused.
    func fuzz(_ original: [UInt8], trials: Int, seed: UInt64, path: String, read: (String) throws -> Void) throws -> Int {
        var random = RandomStream(seed: seed, purpose: "fuzz")
        var refused = 0
        for trial in 0..<trials {
            try Data(Self.damaged(original, &random)).write(to: URL(fileURLWithPath: path))
            do { try read(path) } catch {
                refused += 1
                XCTAssertTrue("\(error)".contains(path), "trial \(trial): the message names no file: \(error)")
            }
        }
        return refused
    }

    /// IDX images, plain and gzipped, safetensors weights and a YAML configuration: 150 damaged
    /// copies each, in process.
    func testDamagedIDXAndYAMLFilesAreReadOrRefusedByName() throws {
        var idx: [UInt8] = [0, 0, 0x08, 3, 0, 0, 0, 20, 0, 0, 0, 28, 0, 0, 0, 28]
        idx += (0..<20 * 784).map { UInt8(truncatingIfNeeded: $0 * 7) }
        let plain = scratch.file("plain-idx3-ubyte")
        try Data(idx).write(to: URL(fileURLWithPath: plain))
        let gzip = Process()
        gzip.executableURL = URL(fileURLWithPath: "/bin/gzip")
        gzip.arguments = ["-kf", plain]
        try gzip.run()
        gzip.waitUntilExit()
        let gzipped = try [UInt8](Data(contentsOf: URL(fileURLWithPath: plain + ".gz")))

        let plainRefused = try fuzz(idx, trials: 150, seed: 1, path: scratch.file("damaged-idx3-ubyte")) { _ = try Dataset.images(at: $0) }
        let gzipRefused = try fuzz(gzipped, trials: 150, seed: 2, path: scratch.file("damaged-idx3-ubyte.gz")) { _ = try Dataset.images(at: $0) }
        XCTAssertGreaterThan(gzipRefused, 100, "zlib's CRC catches most damage to a gzipped file")
        XCTAssertGreaterThan(plainRefused, 0, "truncations and damaged headers at least")

        let weights = try Safetensors.encode([
            Safetensors.Tensor(name: "conv.weight", shape: [4, 3, 3, 3], values: .float32((0..<108).map { Float($0) / 7 })),
            Safetensors.Tensor(name: "conv.bias", shape: [4], values: .float32([1, 2, 3, 4])),
        ], metadata: ["format": "pt"])
        _ = try fuzz(weights, trials: 150, seed: 6, path: scratch.file("damaged.safetensors")) { path in
            let file = try SafetensorsFile(path: path)
            for (name, entry) in file.entries where entry.dtype == "F32" { _ = try file.floats(name, shape: entry.shape) }
        }

        let yaml = Array("preset: grid2d\nsteps: 250\nlr-g: 0.0003\nobjective: hinge\ntensorboard: false\neval-every: 50\n".utf8)
        _ = try fuzz(yaml, trials: 150, seed: 3, path: scratch.file("damaged.yaml")) { _ = try TrainingOptions.load(yamlFile: $0) }
    }

    /// A grid2d checkpoint, 200 damaged copies through `launcher inspect`: each copy that differs
    /// from the original refused with the file named, none accepted (every byte a reader uses is
    /// checksummed), none crashed or hung.
    func testDamagedCheckpointsAreRefusedByNameWithoutACrash() throws {
        let launcher = try Subprocess.product("launcher")
        let run = scratch.file("run")
        let trained = try Subprocess.run(launcher, ["train", "--preset", "grid2d", "--steps", "1", "--batch-size", "20", "--threads", "1",
                                                    "--tensorboard", "false", "--run-dir", run])
        XCTAssertEqual(trained.status, 0, trained.combinedOutput)
        let original = try [UInt8](Data(contentsOf: URL(fileURLWithPath: "\(run)/checkpoint-00000001.h5")))
        var random = RandomStream(seed: 4, purpose: "fuzz")
        let path = scratch.file("damaged.h5")
        var unchanged = 0
        for trial in 0..<200 {
            let copy = Self.damaged(original, &random)
            // Zeros written over zeros, or a range copied onto its equal, damage nothing.
            guard copy != original else { unchanged += 1; continue }
            try Data(copy).write(to: URL(fileURLWithPath: path))
            let result = try Subprocess.run(launcher, ["inspect", path], timeout: 60)
            XCTAssertFalse(result.timedOut, "trial \(trial): hung")
            XCTAssertFalse(result.killedBySignal, "trial \(trial): crashed with signal \(result.status): \(result.standardError)")
            XCTAssertNotEqual(result.status, 0, "trial \(trial): a damaged checkpoint was accepted")
            XCTAssertTrue(result.standardError.contains(path), "trial \(trial): the message names no file: \(result.standardError)")
        }
        XCTAssertLessThan(unchanged, 20, "most trials change the file")
    }

    /// An HDF5 image file as `launcher dataset` packs it (16 Fashion-MNIST images with labels), 100
    /// damaged copies read whole by `launcher dataset COPY` in a child process: each read or refused
    /// with the file named, none crashed or hung.
    func testDamagedHDF5ImageFilesAreReadOrRefusedByNameWithoutACrash() throws {
        let launcher = try Subprocess.product("launcher")
        let fashion = "/usr/share/datasets/fashion-mnist"
        guard FileManager.default.fileExists(atPath: "\(fashion)/train-images-idx3-ubyte.gz") else {
            throw XCTSkip("Fashion-MNIST is not installed (dataset-fashion-mnist)")
        }
        let packed = scratch.file("images.h5")
        let made = try Subprocess.run(launcher, ["dataset", "\(fashion)/train-images-idx3-ubyte.gz", "--labels", "\(fashion)/train-labels-idx1-ubyte.gz",
                                                 "--max-images", "16", "--resolution", "28", "--out", packed])
        XCTAssertEqual(made.status, 0, made.combinedOutput)
        let original = try [UInt8](Data(contentsOf: URL(fileURLWithPath: packed)))
        var random = RandomStream(seed: 5, purpose: "fuzz")
        let (path, out) = (scratch.file("damaged.h5"), scratch.file("repacked.h5"))
        var refused = 0
        for trial in 0..<100 {
            try Data(Self.damaged(original, &random)).write(to: URL(fileURLWithPath: path))
            let result = try Subprocess.run(launcher, ["dataset", path, "--resolution", "8", "--out", out], timeout: 60)
            XCTAssertFalse(result.timedOut, "trial \(trial): hung")
            XCTAssertFalse(result.killedBySignal, "trial \(trial): crashed with signal \(result.status): \(result.standardError)")
            if result.status != 0 {
                refused += 1
                XCTAssertTrue(result.standardError.contains(path), "trial \(trial): the message names no file: \(result.standardError)")
            }
        }
        XCTAssertGreaterThan(refused, 50, "every dataset is checksummed, so most damage is caught")
    }
}
