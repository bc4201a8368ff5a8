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

final class EvaluationTests: XCTestCase {
    var scratch: ScratchDirectory!
    override func setUpWithError() throws { scratch = try ScratchDirectory() }
    override func tearDown() { scratch.remove() }

    func points(_ pairs: [[Float]]) -> Tensor { Tensor(shape: [pairs.count, 2], scalars: pairs.flatMap { $0 }) }

    func testCoverageOfConstructedPoints() throws {
        let grid = MixtureOfGaussians.grid
        let everyMode = grid.coverage(of: points(grid.modes + grid.modes))
        XCTAssertEqual(everyMode.modesCovered, 25)
        XCTAssertEqual(everyMode.highQualityPercent, 100)
        XCTAssertEqual(try XCTUnwrap(everyMode.reverseKL), 0, accuracy: 1e-12, "uniform over the modes")

        let oneMode = grid.coverage(of: points(Array(repeating: [2.1, -1.95], count: 10)))
        XCTAssertEqual(oneMode.modesCovered, 1)
        XCTAssertEqual(try XCTUnwrap(oneMode.reverseKL), log(25), accuracy: 1e-12)

        // 0.14 from a mode is within 3 std (0.15); 0.2 is not; (1, 1) is between modes.
        let mixed = grid.coverage(of: points([[0.14, 0], [4, 4.2], [1, 1], [-4, -4]]))
        XCTAssertEqual(mixed.highQualityPercent, 50)
        XCTAssertEqual(mixed.modesCovered, 2)
        XCTAssertEqual(mixed.countsPerMode.reduce(0, +), 2)

        let nowhere = MixtureOfGaussians.ring.coverage(of: points([[0, 0], [3, 3]]))
        XCTAssertEqual(nowhere.highQualityPercent, 0)
        XCTAssertNil(nowhere.reverseKL)
        XCTAssertEqual(nowhere.modes, 8)
    }

    func testPackingPutsConsecutiveSamplesSideBySide() {
        var random = RandomStream(seed: 1, purpose: "pack")
        let step = AdversarialStep(generator: Preset.grid2d.makeGenerator(random: &random),
                                   discriminator: Preset.grid2d.makeDiscriminator(pack: 2, random: &random),
                                   generatorOptimizer: Adam(parameters: []), discriminatorOptimizer: Adam(parameters: []),
                                   objective: .hinge, pack: 2)
        let points = Tensor(shape: [4, 2], scalars: [1, 2, 3, 4, 5, 6, 7, 8])
        XCTAssertEqual(step.packed(Variable(points)).value, Tensor(shape: [2, 4], scalars: [1, 2, 3, 4, 5, 6, 7, 8]))
        let images = Tensor(shape: [4, 1, 2, 2]) { Float($0) }
        let packedImages = step.packed(Variable(images)).value
        XCTAssertEqual(packedImages.shape, [2, 2, 2, 2])
        XCTAssertEqual(packedImages.slice(1..<2, axis: 1).slice(0..<1, axis: 0).scalars, [4, 5, 6, 7], "pack 0, channel 1 is sample 1")
        XCTAssertEqual(step.discriminator.parameters[0].value.shape, [1000, 4])
    }

    func testPackedStepsTrainWithEveryObjective() throws {
        for objective in AdversarialObjective.allCases {
            var random = RandomStream(seed: 2, purpose: "pack")
            let generator = Preset.ring2d.makeGenerator(random: &random)
            let discriminator = Preset.ring2d.makeDiscriminator(pack: 4, random: &random)
            let step = AdversarialStep(generator: generator, discriminator: discriminator,
                                       generatorOptimizer: Adam(parameters: generator.parameters),
                                       discriminatorOptimizer: Adam(parameters: discriminator.parameters), objective: objective, pack: 4)
            var noise = RandomStream(seed: 3, purpose: "noise")
            let (real, latent) = (noise.normal(shape: [16, 2]), noise.normal(shape: [16, 2]))
            // D judges 4 packs of 4: its loss on the packed batches, before its update, by hand.
            func packs(_ points: Tensor) -> Variable { Variable(points.reshaped([4, 8])) }
            let expected = discriminatorLoss(objective, realLogits: discriminator(packs(real)),
                                             fakeLogits: discriminator(packs(generator(Variable(latent)).value))).value.scalar
            let metrics = try step.iterate(nextBatch: { real }, noise: { _, _ in latent })
            XCTAssertEqual(try XCTUnwrap(metrics.discriminatorLoss), expected, accuracy: 1e-5 * max(1, abs(expected)), "\(objective)")
            XCTAssertTrue(metrics.generatorLoss.isFinite, "\(objective)")
        }
    }

    func testEvaluateGivesTheSameNumbersOnOneAndTwoRanks() throws {
        let directory = scratch.file("run")
        let training = try Subprocess.mpirun(ranks: 2, "launcher", ["train", "--preset", "grid2d", "--pack", "2", "--batch-size", "20",
                                                                     "--steps", "3", "--run-dir", directory])
        XCTAssertEqual(training.status, 0, training.combinedOutput)
        let checkpoint = "\(directory)/checkpoint-00000003.h5"
        XCTAssertEqual(try CheckpointFile(path: checkpoint).configuration.packSize, 2, "the pack is part of the stored configuration")
        let one = try Subprocess.run(try Subprocess.product("launcher"), ["evaluate", checkpoint, "--json", "--samples", "301"])
        let two = try Subprocess.mpirun(ranks: 2, "launcher", ["evaluate", checkpoint, "--json", "--samples", "301"])
        XCTAssertEqual(one.status, 0, one.combinedOutput)
        XCTAssertEqual(two.status, 0, two.combinedOutput)
        let results = try [one, two].map { try JSONDecoder().decode(Evaluation.Result.self, from: Data($0.standardOutput.utf8)) }
        XCTAssertEqual(results[0].modeCoverage, results[1].modeCoverage)
        XCTAssertEqual(results[0].modeCoverage?.samples, 301)
        let log = try String(contentsOfFile: "\(directory)/evaluations.jsonl", encoding: .utf8)
        XCTAssertEqual(log.split(separator: "\n").count, 2, "each evaluation appended once")

        let table = try Subprocess.run(try Subprocess.product("launcher"), ["evaluate", checkpoint])
        XCTAssertTrue(table.standardOutput.contains("modes covered"), table.standardOutput)
    }

    func testEvaluateRejectsWhatItCannotMeasure() throws {
        let launcher = try Subprocess.product("launcher")
        let directory = scratch.file("run")
        XCTAssertEqual(try Subprocess.run(launcher, ["train", "--preset", "ring2d", "--batch-size", "20", "--steps", "1", "--run-dir", directory]).status, 0)
        let checkpoint = "\(directory)/checkpoint-00000001.h5"
        let few = try Subprocess.run(launcher, ["evaluate", checkpoint, "--samples", "10"])
        XCTAssertNotEqual(few.status, 0)
        XCTAssertTrue(few.standardError.contains("--samples 10: mode coverage needs at least 100 samples"), few.standardError)

        let headless = scratch.file("headless.h5")
        let stored = try CheckpointFile(path: checkpoint)
        do {
            let root = try HDF5File.create(headless).root
            try root.setAttribute("format", CheckpointFormat.name)
            try root.setAttribute("format_version", CheckpointFormat.version)
            try root.setAttribute("step", Int64(1))
            try root.setAttribute("world_size", Int64(1))
            try root.setAttribute("created", "2026-11-30T00:00:00Z")
            try root.setAttribute("config", try stored.configuration.json())
        }
        let missing = try Subprocess.mpirun(ranks: 2, "launcher", ["evaluate", headless])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertEqual(missing.standardError.components(separatedBy: "\(headless): no /generator group").count - 1, 1, missing.standardError)
    }
}
