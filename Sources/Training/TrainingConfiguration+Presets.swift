import Checkpoints
import Datasets
import Foundation
import Models

/// What the presets decide about a configuration: its defaults and which options it may combine.
extension TrainingConfiguration {
    /// The preset's defaults; `now` names the default run directory.
    public static func defaults(for preset: Preset, now: Date = Date()) -> TrainingConfiguration {
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        let runDirectory = "checkpoints/\(preset.rawValue)-\(formatter.string(from: now))"
        var images = TrainingConfiguration(
            preset: preset, data: FashionMNIST.trainingImages, steps: 3000, batchSize: 64, objective: .nonSaturating, discriminatorSteps: 1,
            generatorLearningRate: 2e-4, discriminatorLearningRate: 2e-4, beta1: 0.5, beta2: 0.999, seed: 1,
            runDirectory: runDirectory, checkpointEvery: 500, keep: 3, sampleEvery: 500, stallTimeout: 300, pack: 1,
            learningRateDecay: LearningRateDecay.none)
        images.emaDecay = 0.999
        return preset.definition.defaults(images: images)
    }

    /// Checks every value on its own; the world size is checked by the trainer.
    public func validate() throws {
        try validate(data: true)
    }

    /// Checks every value on its own; with `data`, also that the preset has the data it reads
    /// (`launcher bench` trains on random images).
    public func validate(data checkingData: Bool) throws {
        func require(_ condition: Bool, _ message: String) throws {
            if !condition { throw ConfigurationError(message) }
        }
        for option in TrainingOption.all {
            if let message = option.check(self) { throw ConfigurationError(message) }
        }
        let options = preset.definition.options
        /// The presets that take `option`, for the messages.
        func taking(_ option: PresetOption) -> String {
            Preset.list(Preset.allCases.filter { $0.definition.options.contains(option) }.map(\.rawValue))
        }
        try require(loss == nil || options.contains(.loss), "--loss is for \(taking(.loss)) only; \(preset.rawValue) trains with --objective")
        try require(!options.contains(.loss) || loss != nil, "\(preset.rawValue) needs --loss: l2, l1, adversarial or l1+adversarial")
        try require(reconstructionWeight == nil || options.contains(.reconstructionWeight),
                    "--recon-weight is for \(taking(.reconstructionWeight)), not \(preset.rawValue)")
        try require(augment == nil || options.contains(.augment), "--augment is for \(taking(.augment)), not \(preset.rawValue)")
        try require((pairs == nil && inputChannels == nil) || options.contains(.pairs),
                    "--pairs and --input-channels are for \(taking(.pairs)), which train on pairs; \(preset.rawValue) does not")
        try require(width == nil || options.contains(.width), "--width is for \(taking(.width)), not \(preset.rawValue)")
        try require(modeSeeking == nil || options.contains(.modeSeeking), "--mode-seeking is for \(taking(.modeSeeking)), not \(preset.rawValue)")
        try require((r1 ?? 0) == 0 || options.contains(.r1),
                    "--r1 is for \(taking(.r1)), whose discriminator is piecewise linear; \(preset.rawValue)'s is not")
        try require((resolution == nil && channels == nil) || options.contains(.shape),
                    "--resolution and --channels are for \(taking(.shape)), whose networks take the data's shape; \(preset.rawValue)'s is fixed")
        if let resolution, let shaped = preset.definition as? any DataShapedPreset {
            try require(type(of: shaped).supports(resolution: resolution),
                        "--resolution \(resolution): \(preset.rawValue) builds its networks for sides \(type(of: shaped).sides)")
        }
        if let resolution, preset == .pix2pix {
            try require(Pix2Pix.supports(resolution: resolution), "--resolution \(resolution): pix2pix builds its networks for power-of-two sides from 32")
        }
        if !options.contains(.packingAndDiscriminatorSteps) {
            try require(discriminatorSteps == 1, "--d-steps \(discriminatorSteps): \(preset.rawValue) updates each network once per step; use 1")
            try require(packSize == 1, "--pack \(packSize): packing is for \(taking(.packingAndDiscriminatorSteps))")
        }
        if let shards = exactShards, shards > 0 {
            try require(batchSize % shards == 0, "--exact \(shards) cuts the global batch into \(shards) equal shards; "
                        + "--batch-size \(batchSize) is not a multiple of \(shards)")
            let unit = preset.definition.rowsKeptTogether(self)
            try require((batchSize / shards) % unit.rows == 0, "--exact \(shards) makes shards of \(batchSize / shards) rows, "
                        + "not a whole number of \(unit.name)s of \(unit.rows); use fewer shards or a larger --batch-size")
        }
        try require(evaluator == nil || preset.measurement.usesEvaluator,
                    "--evaluator: \(preset.rawValue) is not measured in an evaluator network's features")
        try require(skipBadImages == nil || preset.takesImages, "--skip-bad-images is for the presets that read --data; \(preset.rawValue) generates its data")
        guard checkingData else { return }
        try require(preset.takesImages == (data != nil),
                    preset.takesImages ? "--data is required for \(preset.rawValue)" : "--data is not used by \(preset.rawValue): its data is generated from --seed")
    }
}
