import Checkpoints
import Foundation
import Models
import TestSupport
import XCTest
@testable import Diagnostics
import Training

final class BenchmarkTests: XCTestCase {
    func testBenchmarkReportsItsFigures() throws {
        var options = Benchmark.Options()
        (options.preset, options.batchSize, options.iterations, options.warmup) = (.grid2d, 8, 2, 1)
        let result = try Benchmark(options: options).run()
        XCTAssertEqual(result.preset, "grid2d")
        // An iteration runs each network forward at least once and G and D backward: at least
        // twice the forward work of both, 2·in·out per Linear (Maxout's pieces included) per sample.
        var random = RandomStream(seed: 1, purpose: "count")
        let layers = [Preset.grid2d.makeGenerator(random: &random), Preset.grid2d.makeDiscriminator(random: &random)]
        let forward = layers.flatMap(\.parameters).filter { $0.value.shape.count == 2 }.reduce(0.0) { $0 + 2 * Double($1.value.count) } / 1e6
        XCTAssertGreaterThan(result.megaflopsPerSample, 2 * forward)
        XCTAssertTrue(result.kernels.hasPrefix("oneDNN "), result.kernels)
        // Parameters, gradients and Adam's two moments of both networks, in MB, at the least.
        let parameters = Double(layers.flatMap(\.parameters).reduce(0) { $0 + $1.value.count })
        XCTAssertGreaterThan(result.peakResidentMegabytes, 4 * 4 * parameters / 1_048_576)
        XCTAssertEqual(result.convolutionImplementations, [], "grid2d has no convolution")
        let decoded = try JSONDecoder().decode(Benchmark.Result.self, from: JSONEncoder().encode(result))
        XCTAssertEqual(decoded.batchSize, 8)
        // The figures hold together: the rate is the batch over the iteration's time, the work a
        // sample costs does not depend on the batch, and no iteration outruns the machine's sgemm.
        XCTAssertEqual(result.imagesPerSecond, 8 / (result.millisecondsPerIteration / 1000), accuracy: 1e-6 * result.imagesPerSecond)
        options.batchSize = 16
        let larger = try Benchmark(options: options).run()
        XCTAssertEqual(larger.megaflopsPerSample, result.megaflopsPerSample, accuracy: 1e-6 * result.megaflopsPerSample)
        XCTAssertLessThan(result.gigaflopsPerSecond, 2 * result.sgemmPeakGigaflopsPerSecond)
    }

    func testLauncherBenchPrintsJSONAndRejectsBadFlags() throws {
        let launcher = try Subprocess.product("launcher")
        let result = try Subprocess.run(launcher, ["bench", "--preset", "ring2d", "--batch-size", "4", "--iterations", "1", "--warmup", "0", "--json"])
        XCTAssertEqual(result.status, 0, result.combinedOutput)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any])
        XCTAssertEqual(object["preset"] as? String, "ring2d")
        XCTAssertNotNil(object["imagesPerSecond"] as? Double)

        let bad = try Subprocess.run(launcher, ["bench", "--preset", "cifar"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.standardError.contains("cifar"), bad.standardError)
        let zero = try Subprocess.run(launcher, ["bench", "--iterations", "0"])
        XCTAssertNotEqual(zero.status, 0)
        XCTAssertTrue(zero.standardError.contains("--iterations must be at least 1"), zero.standardError)
    }
}
