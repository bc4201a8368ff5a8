import Checkpoints
import Datasets
import Foundation
import HDF5
import Metrics
import Models
import TestSupport
import XCTest

/// FID in the FID Inception's features: weights read from a safetensors file give the network
/// the parity test checks against pytorch-fid, wrong files are refused by name, and the figure
/// on two ranks is the figure on one.
final class InceptionFIDTests: XCTestCase {
    var scratch: ScratchDirectory!

    override func setUpWithError() throws { scratch = try ScratchDirectory() }
    override func tearDown() { scratch.remove() }

    /// The formula-made weights of the parity test (`PatternWeights.setHashed`) as tensors under
    /// torchvision's names, `num_batches_tracked` included as pytorch-fid's state dict has it.
    static func weights() -> (network: FIDInception, tensors: [Safetensors.Tensor]) {
        let network = FIDInception()
        PatternWeights.setHashed(network)
        let tensors = network.state.map { name, entry in
            entry.tensor.map { Safetensors.Tensor(name: name, shape: $0.shape, values: .float32($0.scalars)) }
                ?? Safetensors.Tensor(name: name, shape: [], values: .int64([0]))
        }
        return (network, tensors)
    }

    func write(_ tensors: [Safetensors.Tensor], _ name: String) throws -> String {
        let path = scratch.file(name)
        try Data(try Safetensors.encode(tensors, metadata: [:])).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// coreutils' digest of the file at `path`: an implementation independent of ours.
    func sha256sum(_ path: String) throws -> String {
        let result = try Subprocess.run("/usr/bin/sha256sum", [path])
        XCTAssertEqual(result.status, 0, result.combinedOutput)
        return String(result.standardOutput.prefix(64))
    }

    func testSHA256KnownAnswers() {
        XCTAssertEqual(SHA256.hex(of: Array("abc".utf8)), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(SHA256.hex(of: []), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        // Two blocks' worth, across the padding boundary (FIPS 180-4's second example).
        XCTAssertEqual(SHA256.hex(of: Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    /// The Fréchet distance of two sets of 3000 formula-made 2048-d features (the Inception's
    /// width, where the covariances' square roots are the work) against pytorch-fid's formula in
    /// SciPy, from `ModelsTests/Fixtures/inception.json`.
    func testFrechetDistanceOfInceptionSizedFeaturesMatchesScipy() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../ModelsTests/Fixtures/inception.json")
        let fixture = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        let reference = try XCTUnwrap(fixture["fid2048"] as? [String: Any])
        let (count, expected) = (try XCTUnwrap(reference["count"] as? Int), try XCTUnwrap(reference["frechet_distance"] as? Double))
        let first = PatternWeights.hashed([count, 2048], seed: 1)
        let second = PatternWeights.hashed([count, 2048], seed: 2, scale: 1.1, shift: 0.05)
        let distance = try ImageMetrics.frechetDistance(ImageMetrics.Gaussian(features: first), ImageMetrics.Gaussian(features: second))
        XCTAssertEqual(distance, expected, accuracy: 1e-6 * expected, "FID of 2048-d features against SciPy's")
    }

    /// Weights through the file: the features of gray images in [-1, 1] are the network's on the
    /// same images in [0, 1] repeated to three channels, bit for bit; the file's SHA-256 is kept.
    func testWeightsFromAFileGiveTheNetworksFeatures() throws {
        let (network, tensors) = Self.weights()
        let path = try write(tensors, "inception.safetensors")
        let inception = try InceptionFID(weights: path)
        XCTAssertEqual(inception.sha256, try sha256sum(path))
        let images = PatternWeights.pattern([2, 1, 28, 28], seed: 7, scale: 0.9)
        let unit = Tensor(shape: images.shape, scalars: images.scalars.map { ($0 + 1) / 2 })
        let expected = network(Variable(Tensor.concatenate([unit, unit, unit], axis: 1))).value
        XCTAssertEqual(inception.features(images).scalars, expected.scalars)
        // Without the counters, as a converted file may come, it loads too.
        let withoutCounters = try write(tensors.filter { !$0.name.hasSuffix("num_batches_tracked") }, "no-counters.safetensors")
        XCTAssertNoThrow(try InceptionFID(weights: withoutCounters))
    }

    func testWrongWeightsAreRefusedByName() throws {
        let (_, tensors) = Self.weights()
        func refused(_ path: String, _ message: String, file: StaticString = #filePath, line: UInt = #line) {
            XCTAssertThrowsError(try InceptionFID(weights: path), file: file, line: line) {
                XCTAssertTrue("\($0)".contains(path), "\($0)", file: file, line: line)
                XCTAssertTrue("\($0)".contains(message), "\($0)", file: file, line: line)
            }
        }
        refused(scratch.file("absent.safetensors"), "no such file; expected the FID Inception's weights as a safetensors file")
        let evaluator = scratch.file("evaluator.h5")
        try HDF5File.writeAtomically(evaluator) { try $0.root.write([Float(1)], shape: [1], to: "x") }
        refused(evaluator, "an HDF5 file (the project's own evaluator network?); expected the FID Inception's weights")
        refused(try write(tensors.filter { $0.name != "Mixed_6b.branch7x7_2.conv.weight" }, "missing.safetensors"),
                "holds no tensor Mixed_6b.branch7x7_2.conv.weight; expected the FID Inception-v3")
        refused(try write(tensors + [Safetensors.Tensor(name: "AuxLogits.fc.weight", shape: [1], values: .float32([0]))], "extra.safetensors"),
                "holds tensor AuxLogits.fc.weight, which the FID Inception-v3 does not have")
        refused(try write(tensors.map { $0.name == "fc.bias" ? Safetensors.Tensor(name: "fc.bias", shape: [1000], values: .float32(Array(repeating: 0, count: 1000))) : $0 },
                          "classes.safetensors"), "tensor fc.bias has shape [1000]; expected [1008]")
        refused(try write(tensors.map { $0.name == "fc.bias" ? Safetensors.Tensor(name: "fc.bias", shape: [1008], values: .int64(Array(repeating: 0, count: 1008))) : $0 },
                          "dtype.safetensors"), "tensor fc.bias is I64; expected F32 (float32)")
        let whole = try Data(contentsOf: URL(fileURLWithPath: try write(tensors, "whole.safetensors")))
        let truncated = scratch.file("truncated.safetensors")
        try whole.prefix(whole.count - 1000).write(to: URL(fileURLWithPath: truncated))
        refused(truncated, "outside the file's")
    }

    /// `launcher evaluate --images --inception` on 2 ranks and on 1: the same FID (Inception), the
    /// reference's statistics computed afresh each time (its cache removed), and cached beside it.
    func testFIDOnTwoRanksEqualsOneRank() throws {
        let (_, tensors) = Self.weights()
        let weights = try write(tensors, "inception.safetensors")
        let launcher = try Subprocess.product("launcher")
        let fashion = "/usr/share/datasets/fashion-mnist"
        let (images, reference) = (scratch.file("images.h5"), scratch.file("reference.h5"))
        for (source, count, out) in [("t10k", 200, images), ("train", 8, reference)] {
            let packed = try Subprocess.run(launcher, ["dataset", "\(fashion)/\(source)-images-idx3-ubyte.gz", "--max-images", "\(count)",
                                                       "--resolution", "28", "--out", out])
            XCTAssertEqual(packed.status, 0, packed.combinedOutput)
        }
        var figures: [Double] = []
        for ranks in [2, 1] {
            for cached in (try FileManager.default.contentsOfDirectory(atPath: scratch.path)).filter({ $0.contains(".inception-") }) {
                try FileManager.default.removeItem(atPath: scratch.file(cached))
            }
            let result = try Subprocess.mpirun(ranks: ranks, "launcher", ["evaluate", "--images", images, "--samples", "200", "--reference", reference,
                                                                          "--inception", weights, "--json"], timeout: 900)
            XCTAssertEqual(result.status, 0, result.combinedOutput)
            let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any])
            let inception = try XCTUnwrap(json["inception"] as? [String: Any], result.standardOutput)
            XCTAssertEqual(inception["weights"] as? String, try sha256sum(weights))
            XCTAssertEqual(inception["referenceSamples"] as? Int, 8)
            figures.append(try XCTUnwrap(inception["frechetDistance"] as? Double))
        }
        // Each rank's last batch is smaller than one rank's, and oneDNN may pick another kernel for
        // it: the features agree to float rounding, not bit for bit (3.6e-6 relative, measured).
        XCTAssertEqual(figures[0], figures[1], accuracy: 1e-4 * max(1, abs(figures[1])), "FID (Inception) on 2 ranks and on 1")
        XCTAssertTrue((try FileManager.default.contentsOfDirectory(atPath: scratch.path)).contains { $0.hasPrefix("reference.h5.inception-") },
                      "the reference's statistics cached beside it")
    }
}
