@testable import Checkpoints
import Datasets
import Foundation
import TestSupport
import XCTest
@testable import Training

final class ConfigurationTests: XCTestCase {
    var scratch: ScratchDirectory!
    override func setUpWithError() throws { scratch = try ScratchDirectory() }
    override func tearDown() { scratch.remove() }

    func testPresetDefaultsFollowTheIssue() throws {
        let dcgan = TrainingConfiguration.defaults(for: .dcgan28)
        XCTAssertEqual(dcgan.data, FashionMNIST.trainingImages)
        XCTAssertEqual(dcgan.objective, .nonSaturating)
        XCTAssertEqual(dcgan.batchSize, 64)
        XCTAssertEqual([dcgan.generatorLearningRate, dcgan.beta1, dcgan.beta2], [2e-4, 0.5, 0.999])
        let grid = TrainingConfiguration.defaults(for: .grid2d)
        XCTAssertNil(grid.data)
        XCTAssertEqual(grid.batchSize, 100)
        XCTAssertEqual([grid.generatorLearningRate, grid.discriminatorLearningRate, grid.beta1], [2e-4, 1e-3, 0.5])
        XCTAssertEqual(grid.learningRateDecay, .linear)
        XCTAssertEqual(grid.r1, 1)
        XCTAssertEqual(TrainingConfiguration.defaults(for: .ring2d).r1, 1)
        XCTAssertNil(dcgan.r1)
        XCTAssertTrue(grid.runDirectory.hasPrefix("checkpoints/grid2d-"))
        try dcgan.validate()
        try grid.validate()
        let completion = TrainingConfiguration.defaults(for: .completion28)
        XCTAssertEqual(completion.loss, .l1Adversarial)
        XCTAssertEqual(completion.reconstructionWeight, 100, "pix2pix's weight for l1+adversarial")
        XCTAssertEqual(TrainingConfiguration.defaults(for: .alphagan28).reconstructionWeight, 30, "measured in docs/learned-loss.md")
        XCTAssertNil(dcgan.loss)
        XCTAssertNil(dcgan.reconstructionWeight)
        try completion.validate()
        let colorize = TrainingConfiguration.defaults(for: .colorize28)
        XCTAssertEqual(colorize.loss, .adversarial)
        XCTAssertEqual([completion.modeSeeking, colorize.modeSeeking], [1, 0.05], "MSGAN's weight; a twentieth for one colour per garment")
        XCTAssertNil(dcgan.modeSeeking)
        XCTAssertEqual(Preset.allCases.map { TrainingConfiguration.defaults(for: $0).emaDecay },
                       Preset.allCases.map { $0.takesImages ? 0.999 : 0 }, "a generator average for every image preset")
        XCTAssertEqual(Preset.allCases.map { TrainingConfiguration.defaults(for: $0).bucketMegabytes ?? DataParallel.defaultBucketMegabytes },
                       Preset.allCases.map { $0.takesImages ? 25 : 0 }, "one message for the 2-D presets, whose steps cannot hide their gradients")
        try colorize.validate()
    }

    func testLinearDecayFallsFromTheGivenRatesTowardsZero() throws {
        var configuration = TrainingConfiguration.defaults(for: .dcgan28)
        configuration.steps = 4
        XCTAssertEqual((0..<4).map(configuration.learningRateFactor), [1, 1, 1, 1], "constant by default")
        configuration.learningRateDecay = .linear
        XCTAssertEqual((0..<4).map(configuration.learningRateFactor), [1, 0.75, 0.5, 0.25], "the last update still moves")
        let stored = try TrainingConfiguration.fromJSON(try configuration.json())
        XCTAssertEqual(stored.learningRateDecay, .linear, "kept in the checkpoint's config")
    }

    func testYAMLThenFlags() throws {
        let path = scratch.file("run.yaml")
        try "preset: grid2d\nsteps: 250\nlr-g: 0.0003\nobjective: hinge\n".write(toFile: path, atomically: true, encoding: .utf8)
        var flags = TrainingOptions()
        try flags.set("steps", "400")
        let options = try TrainingOptions.load(yamlFile: path).overridden(by: flags)
        let configuration = try options.applied(to: .defaults(for: options.preset!))
        XCTAssertEqual(configuration.preset, .grid2d)
        XCTAssertEqual(configuration.steps, 400, "the flag wins")
        XCTAssertEqual(configuration.generatorLearningRate, 3e-4)
        XCTAssertEqual(configuration.objective, .hinge)
        XCTAssertEqual(configuration.discriminatorLearningRate, 1e-3, "untouched options keep the preset's default")
        XCTAssertEqual(try TrainingConfiguration.fromJSON(configuration.json()), configuration)
    }

    /// The checkpoint's JSON keys are the options' keys: one name per option everywhere.
    func testEveryOptionIsDeclaredOnceAndNamedAlikeEverywhere() throws {
        let keys = TrainingOption.all.map(\.key)
        XCTAssertEqual(Set(keys).count, keys.count, "no option declared twice")
        XCTAssertEqual(Set(keys), Set(TrainingConfiguration.CodingKeys.allCases.map(\.rawValue)), "the JSON keys are the flags")
        XCTAssertEqual(TrainingOption.all.filter(\.changeableOnResume).map(\.key),
                       ["steps", "data-changed-ok", "run-dir", "checkpoint-every", "keep", "sample-every", "stall-timeout", "eval-every", "evaluator", "eval-samples", "tensorboard",
                        "bucket-mb"])
        // Each option's text round-trips through a configuration.
        var configuration = TrainingConfiguration.defaults(for: .completion28)
        for option in TrainingOption.all {
            let text = try XCTUnwrap(option.get(configuration) ?? ["pack": "1", "r1": "0.0", "eval-every": "0", "eval-samples": "500", "tensorboard": "true", "bucket-mb": "0.0", "exact": "8", "skip-bad-images": "true", "resolution": "32", "channels": "3", "augment": "color,translation,cutout,mirror", "evaluator": "evaluator/colour.h5", "pairs": "gray", "input-channels": "1", "width": "8", "data-changed-ok": "true"][option.key], option.key)
            try option.apply(text, to: &configuration, file: nil)
            XCTAssertEqual(option.get(configuration), text, option.key)
        }
        var options = TrainingOptions()
        XCTAssertThrowsError(try options.set("learning-rate", "1")) { XCTAssertTrue("\($0)".hasPrefix("--learning-rate: unknown option"), "\($0)") }
        try options.set("steps", "many")
        XCTAssertThrowsError(try options.applied(to: .defaults(for: .grid2d))) { XCTAssertEqual("\($0)", "--steps many: expected a whole number") }
    }

    /// YAML's booleans are options' text like any other value.
    func testYAMLBooleansAndEvaluationOptions() throws {
        let path = scratch.file("watch.yaml")
        try "tensorboard: false\neval-every: 250\neval-samples: 1000\n".write(toFile: path, atomically: true, encoding: .utf8)
        let configuration = try TrainingOptions.load(yamlFile: path).applied(to: .defaults(for: .dcgan28))
        XCTAssertEqual(configuration.tensorboard, false)
        XCTAssertEqual(configuration.evalEvery, 250)
        XCTAssertEqual(configuration.evalSamples, 1000)
        XCTAssertEqual(try TrainingConfiguration.fromJSON(configuration.json()), configuration)
    }

    func testBadYAMLIsNamed() throws {
        let path = scratch.file("bad.yaml")
        try "steps: 10\nlearning-rate: 1\n".write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try TrainingOptions.load(yamlFile: path)) { XCTAssertTrue("\($0)".hasPrefix("\(path): unknown option `learning-rate`"), "\($0)") }
        try "steps: many\n".write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try TrainingOptions.load(yamlFile: path)) { XCTAssertTrue("\($0)".contains("`steps`"), "\($0)") }
        try "objective: wgan\n".write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try TrainingOptions.load(yamlFile: path)) { XCTAssertTrue("\($0)".contains("`objective`"), "\($0)") }
        XCTAssertThrowsError(try TrainingOptions.load(yamlFile: scratch.file("absent.yaml"))) { XCTAssertTrue("\($0)".contains("cannot read"), "\($0)") }
    }

    /// Aliases nested to expand to 10^30 values, and a file far larger than any list of options,
    /// are refused by name at once.
    func testHostileYAMLIsRefusedBeforeItExpands() throws {
        let path = scratch.file("laughs.yaml")
        var text = "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
        for level in 1...30 { text += "a\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ") + "]\n" }
        try (text + "steps: *a30\n").write(toFile: path, atomically: true, encoding: .utf8)
        let started = Date()
        PeakMemory.assertRefused(within: 16, "YAML aliases expanding to 10^30 values", { _ = try TrainingOptions.load(yamlFile: path) }) {
            XCTAssertEqual("\($0)", "\(path): `a0`: expected a single value, got a list")
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), 5, "refused without expanding the aliases")
        let large = scratch.file("large.yaml")
        try String(repeating: "# a comment\n", count: 10_000).write(toFile: large, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try TrainingOptions.load(yamlFile: large)) {
            XCTAssertEqual("\($0)", "\(large): 120000 bytes; a configuration file is a short list of options (at most 65536 bytes)")
        }
    }

    func testValidationNamesTheFlag() {
        var configuration = TrainingConfiguration.defaults(for: .grid2d)
        configuration.steps = 0
        XCTAssertThrowsError(try configuration.validate()) { XCTAssertEqual("\($0)", "--steps must be at least 1, got 0") }
        configuration = .defaults(for: .grid2d)
        configuration.data = "/some/file.gz"
        XCTAssertThrowsError(try configuration.validate()) { XCTAssertTrue("\($0)".hasPrefix("--data is not used by grid2d"), "\($0)") }
        configuration = .defaults(for: .dcgan28)
        configuration.beta1 = 1
        XCTAssertThrowsError(try configuration.validate()) { XCTAssertEqual("\($0)", "--beta1 must be in [0, 1), got 1.0") }
        configuration = .defaults(for: .dcgan28)
        configuration.r1 = 1
        XCTAssertThrowsError(try configuration.validate()) {
            XCTAssertEqual("\($0)", "--r1 is for grid2d and ring2d, whose discriminator is piecewise linear; dcgan28's is not")
        }
        configuration.r1 = 0
        XCTAssertNoThrow(try configuration.validate(), "--r1 0 turns the penalty off anywhere")
        configuration = .defaults(for: .grid2d)
        configuration.r1 = -1
        XCTAssertThrowsError(try configuration.validate()) { XCTAssertEqual("\($0)", "--r1 must be a number at least 0, got -1.0") }
    }

    /// `--exact`'s shards: a power of two cutting the batch into whole packs, on a world size that
    /// divides them.
    func testExactShardsAreCheckedAgainstTheBatchPacksBucketsAndRanks() throws {
        var configuration = TrainingConfiguration.defaults(for: .dcgan28)
        configuration.exactShards = 8
        XCTAssertNoThrow(try configuration.validate())
        XCTAssertEqual(try configuration.preset.batchSplit(configuration, ranks: 4).rows(of: 1), 16..<32)
        XCTAssertThrowsError(try configuration.preset.batchSplit(configuration, ranks: 3)) {
            XCTAssertEqual("\($0)", "--exact 8 trains bit-identically on 1, 2, 4 or 8 ranks (those that divide its shards), not on 3")
        }
        configuration.exactShards = 6
        XCTAssertThrowsError(try configuration.validate()) { XCTAssertEqual("\($0)", "--exact must be 0 or a power of two, got 6") }
        configuration.exactShards = 128
        XCTAssertThrowsError(try configuration.validate()) { XCTAssertTrue("\($0)".hasPrefix("--exact 128 cuts the global batch into 128 equal shards; --batch-size 64"), "\($0)") }
        configuration.exactShards = 16
        configuration.pack = 8
        XCTAssertThrowsError(try configuration.validate()) { XCTAssertTrue("\($0)".hasPrefix("--exact 16 makes shards of 4 rows, not a whole number of packs of 8"), "\($0)") }
        configuration.pack = 1
        configuration.bucketMegabytes = 1
        XCTAssertNoThrow(try configuration.validate(), "buckets are summed in rank order too")
        var options = TrainingOptions()
        try options.set("exact", "eight")
        XCTAssertThrowsError(try options.applied(to: .defaults(for: .grid2d))) { XCTAssertEqual("\($0)", "--exact eight: expected a whole number") }
    }

    func testResumeKeepsTheModelAndAllowsOnlyRunLengthChanges() throws {
        let stored = TrainingConfiguration.defaults(for: .ring2d)
        var options = TrainingOptions()
        try options.set("steps", "9000")
        try options.set("keep", "5")
        try options.set("preset", "ring2d")  // the same as stored: allowed
        let resumed = try options.resuming(stored)
        XCTAssertEqual(resumed.steps, 9000)
        XCTAssertEqual(resumed.keep, 5)
        XCTAssertEqual(resumed.generatorLearningRate, stored.generatorLearningRate)

        try options.set("preset", "grid2d")
        XCTAssertThrowsError(try options.resuming(stored)) {
            XCTAssertTrue("\($0)".hasPrefix("--preset grid2d differs from the checkpoint's ring2d"), "\($0)")
        }
        var learningRate = TrainingOptions()
        try learningRate.set("lr-g", "0.01")
        XCTAssertThrowsError(try learningRate.resuming(stored)) { XCTAssertTrue("\($0)".hasPrefix("--lr-g 0.01 differs"), "\($0)") }
    }
}
