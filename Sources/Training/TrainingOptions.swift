import Checkpoints
import Foundation
import Models
import Yams

/// One option of `launcher train`, declared once: its flag and YAML key, its help, how its text
/// sets a configuration, what it reads back, the check of its value, and whether a resumed run may
/// change it. `TrainingOption.all` is the only list of them; the command line, YAML files, merging,
/// validation and resuming all go through it.
public struct TrainingOption: Sendable {
    /// The flag without its dashes and the YAML key: "batch-size".
    public let key: String
    public let valueName: String
    /// What it does, without its default.
    let summary: String
    /// Its default for a preset as shown in the help, nil where the preset does not take it.
    let shownDefault: @Sendable (Preset) -> String?

    /// Where an option's default in its help comes from.
    enum ShownDefault: Sendable {
        /// The value in each preset's defaults (`TrainingConfiguration.defaults(for:)`).
        case presets
        /// None shown: the help says what the default is (a path, a date).
        case hidden
        /// Computed for each preset, for a default that the configuration leaves unset.
        case computed(@Sendable (Preset) -> String?)
    }
    /// Whether `--resume` may change it (the run's length and outputs) rather than the model's.
    public let changeableOnResume: Bool
    private let set: @Sendable (inout TrainingConfiguration, String) -> Bool
    private let expected: String
    /// The option's value in a configuration as text, nil when unset.
    let get: @Sendable (TrainingConfiguration) -> String?
    /// A message naming the flag when the value is out of its range.
    let check: @Sendable (TrainingConfiguration) -> String?

    /// The help text: what it does and its default for each preset that takes it, from the
    /// presets' defaults, so the text cannot drift from them.
    public var help: String {
        var groups: [(value: String, presets: [Preset])] = []
        for preset in Preset.allCases {
            guard let value = shownDefault(preset) else { continue }
            if let index = groups.firstIndex(where: { $0.value == value }) { groups[index].presets.append(preset) } else { groups.append((value, [preset])) }
        }
        guard !groups.isEmpty else { return summary }
        let taking = groups.flatMap(\.presets).count
        if groups.count == 1 && taking == Preset.allCases.count { return "\(summary) Default \(groups[0].value)." }
        return "\(summary) Default " + groups.map { "\($0.value) for \(Preset.list($0.presets.map(\.rawValue)))" }.joined(separator: "; ") + "."
    }

    /// Sets the option in `configuration` from `text`, or throws naming the option, where it was
    /// given (`file`, or the command line when nil), the text and what was expected.
    func apply(_ text: String, to configuration: inout TrainingConfiguration, file: String?) throws {
        guard set(&configuration, text) else {
            throw ConfigurationError(file.map { "\($0): `\(key)`: \(text): expected \(expected)" } ?? "--\(key) \(text): expected \(expected)")
        }
    }

    /// What an option's value must be: "at least 1", and the test of it.
    struct Requirement<Value>: Sendable {
        let phrase: String
        let holds: @Sendable (Value) -> Bool
    }

    /// The one way every option is made: read and written at `read`/`write` in a configuration,
    /// parsed by `parse`, shown by `show`, and, when it has one, held to `requirement`.
    private static func make<Value>(
        _ key: String, valueName: String, expected: String, changeableOnResume: Bool, help: String, shownDefault: ShownDefault,
        parse: @escaping @Sendable (String) -> Value?, read: @escaping @Sendable (TrainingConfiguration) -> Value?,
        write: @escaping @Sendable (inout TrainingConfiguration, Value) -> Void, show: @escaping @Sendable (Value) -> String,
        requirement: Requirement<Value>?
    ) -> TrainingOption {
        let get: @Sendable (TrainingConfiguration) -> String? = { read($0).map(show) }
        let shown: @Sendable (Preset) -> String? = switch shownDefault {
        case .presets: { get(TrainingConfiguration.defaults(for: $0)) }
        case .hidden: { _ in nil }
        case .computed(let value): value
        }
        return TrainingOption(key: key, valueName: valueName, summary: help, shownDefault: shown, changeableOnResume: changeableOnResume,
                       set: { configuration, text in
                           guard let value = parse(text) else { return false }
                           write(&configuration, value)
                           return true
                       },
                       expected: expected, get: get,
                       check: { configuration in
                           guard let requirement, let value = read(configuration), !requirement.holds(value) else { return nil }
                           return "--\(key) must be \(requirement.phrase), got \(show(value))"
                       })
    }

    /// An option whose value parses from text (numbers, paths).
    static func value<Value: LosslessStringConvertible & Sendable>(
        _ key: String, _ path: WritableKeyPath<TrainingConfiguration, Value> & Sendable, valueName: String, expected: String,
        changeableOnResume: Bool = false, help: String, shownDefault: ShownDefault = .presets,
        requirement: Requirement<Value>? = nil
    ) -> TrainingOption {
        make(key, valueName: valueName, expected: expected, changeableOnResume: changeableOnResume, help: help, shownDefault: shownDefault,
             parse: { Value($0) }, read: { $0[keyPath: path] }, write: { $0[keyPath: path] = $1 }, show: { "\($0)" },
             requirement: requirement)
    }

    /// An option that may be unset in a configuration (nil: the preset does not use it, or an
    /// older checkpoint predates it).
    static func value<Value: LosslessStringConvertible & Sendable>(
        _ key: String, _ path: WritableKeyPath<TrainingConfiguration, Value?> & Sendable, valueName: String, expected: String,
        changeableOnResume: Bool = false, help: String, shownDefault: ShownDefault = .presets,
        requirement: Requirement<Value>? = nil
    ) -> TrainingOption {
        make(key, valueName: valueName, expected: expected, changeableOnResume: changeableOnResume, help: help, shownDefault: shownDefault,
             parse: { Value($0) }, read: { $0[keyPath: path] }, write: { $0[keyPath: path] = $1 }, show: { "\($0)" },
             requirement: requirement)
    }

    /// An option naming one of a set of choices.
    static func choice<Value: RawRepresentable & CaseIterable & Sendable>(
        _ key: String, _ path: WritableKeyPath<TrainingConfiguration, Value> & Sendable, help: String, shownDefault: ShownDefault = .presets
    ) -> TrainingOption where Value.RawValue == String {
        let names = Value.allCases.map(\.rawValue)
        return make(key, valueName: names.joined(separator: "|"), expected: "one of \(names.joined(separator: ", "))",
                    changeableOnResume: false, help: help, shownDefault: shownDefault, parse: { Value(rawValue: $0) }, read: { $0[keyPath: path] },
                    write: { $0[keyPath: path] = $1 }, show: \.rawValue, requirement: nil)
    }

    /// A choice that may be unset in a configuration.
    static func choice<Value: RawRepresentable & CaseIterable & Sendable>(
        _ key: String, _ path: WritableKeyPath<TrainingConfiguration, Value?> & Sendable, help: String
    ) -> TrainingOption where Value.RawValue == String {
        let names = Value.allCases.map(\.rawValue)
        return make(key, valueName: names.joined(separator: "|"), expected: "one of \(names.joined(separator: ", "))",
                    changeableOnResume: false, help: help, shownDefault: .presets, parse: { Value(rawValue: $0) }, read: { $0[keyPath: path] },
                    write: { $0[keyPath: path] = $1 }, show: \.rawValue, requirement: nil)
    }
}

extension TrainingOption.Requirement where Value == Int {
    static func atLeast(_ minimum: Int) -> Self { Self(phrase: "at least \(minimum)") { $0 >= minimum } }
}

extension TrainingOption.Requirement where Value: BinaryFloatingPoint {
    static var positiveNumber: Self { Self(phrase: "a positive number") { $0 > 0 && $0.isFinite } }
    static var positive: Self { Self(phrase: "positive") { $0 > 0 } }
    static var atLeastZero: Self { Self(phrase: "a number at least 0") { $0 >= 0 && $0.isFinite } }
    static var fraction: Self { Self(phrase: "in [0, 1)") { (0..<1).contains($0) } }
}

extension TrainingOption {
    /// Every option of `launcher train`, in the order `--help` lists them.
    public static let all: [TrainingOption] = [
        .choice("preset", \.preset, help: "Networks and data: \(Preset.list(Preset.allCases.map(\.rawValue))) (default dcgan28).", shownDefault: .hidden),
        .value("data", \.data, valueName: "path", expected: "a path",
               help: "Image data for the image presets: a folder of PNG and JPEG files (each subfolder a class), IDX (gzipped or "
                   + "not), or HDF5 [N, H, W], [N, C, H, W] or [N, H, W, C] as `launcher dataset` writes it "
                   + "(default Fashion-MNIST's training images).", shownDefault: .hidden),
        .value("resolution", \.resolution, valueName: "pixels", expected: "a whole number",
               help: "The side of the square images dcgan, sngan and pix2pix build their networks for; the data's, which this only checks.",
               shownDefault: .hidden, requirement: .init(phrase: "a power of two") { $0 > 0 && $0 & ($0 - 1) == 0 }),
        .value("channels", \.channels, valueName: "1|3", expected: "a whole number",
               help: "The channels of the images dcgan and sngan build their networks for (pix2pix's targets); the data's, which this only checks.",
               shownDefault: .hidden, requirement: .init(phrase: "1 or 3") { [1, 3].contains($0) }),
        .choice("pairs", \.pairs, help: "Where pix2pix's (input, target) pairs come from: files (--data holds A/ and B/ folders "
                    + "paired by file name, or HDF5 inputs and targets), side-by-side (pix2pix's AB images, input left), or derived "
                    + "from plain images: gray (colourisation), masked-bottom, masked-center (completion), blur (deblurring), "
                    + "downscale-4 (4x super-resolution)."),
        .value("input-channels", \.inputChannels, valueName: "1|3", expected: "a whole number",
               help: "The channels of pix2pix's inputs; the data's, which this only checks.",
               shownDefault: .hidden, requirement: .init(phrase: "1 or 3") { [1, 3].contains($0) }),
        .value("width", \.width, valueName: "channels", expected: "a whole number",
               help: "The channels of the first level of pix2pix's U-Net and PatchGAN (the reference's --ngf and --ndf), "
                   + "doubling with depth up to 8 times this: smaller trains faster, 64 is the paper's.",
               shownDefault: .computed { $0.definition.options.contains(.width) ? "64" : nil }, requirement: .atLeast(1)),
        .value("augment", \.augment, valueName: "list", expected: "a comma-separated list of color, translation, cutout and mirror, or none",
               help: "DiffAugment: the transforms (color, translation, cutout) applied alike to the real and generated images D judges, "
                   + "drawn per sample from the seed, and mirror, flipping half of the real images; for small data sets.",
               shownDefault: .computed { $0.definition.options.contains(.augment) ? "none" : nil }),
        .value("skip-bad-images", \.skipBadImages, valueName: "true|false", expected: "true or false",
               help: "Leave out the files of a --data folder that are not readable images, naming each in the log, instead of stopping.",
               shownDefault: .computed { $0.takesImages ? "false" : nil }),
        .value("steps", \.steps, valueName: "n", expected: "a whole number", changeableOnResume: true,
               help: "Generator updates to train to (on resume: the total to continue up to).", requirement: .atLeast(1)),
        .value("batch-size", \.batchSize, valueName: "n", expected: "a whole number",
               help: "The global batch, split over the ranks in whole packs.", requirement: .atLeast(1)),
        .choice("objective", \.objective, help: "Adversarial objective."),
        .value("d-steps", \.discriminatorSteps, valueName: "n", expected: "a whole number",
               help: "Discriminator updates per generator update.", requirement: .atLeast(1)),
        .value("lr-g", \.generatorLearningRate, valueName: "rate", expected: "a number", help: "Generator learning rate (Adam).",
               requirement: .positiveNumber),
        .value("lr-d", \.discriminatorLearningRate, valueName: "rate", expected: "a number", help: "Discriminator learning rate (Adam).",
               requirement: .positiveNumber),
        .value("beta1", \.beta1, valueName: "beta", expected: "a number", help: "Adam's beta1.", requirement: .fraction),
        .value("beta2", \.beta2, valueName: "beta", expected: "a number", help: "Adam's beta2.", requirement: .fraction),
        .value("seed", \.seed, valueName: "n", expected: "a whole number at least 0",
               help: "Seed of every random choice: initial weights, data order, noise."),
        .value("data-changed-ok", \.dataChangedOK, valueName: "true|false", expected: "true or false", changeableOnResume: true,
               help: "On --resume, go on although the data set is not the one the run trained on (its sample count, shape or "
                   + "checksum of 64 rows differ), which the run is otherwise refused for.", shownDefault: .computed { _ in "false" }),
        .value("run-dir", \.runDirectory, valueName: "dir", expected: "a directory", changeableOnResume: true,
               help: "Where checkpoints, samples and metrics go (default checkpoints/<preset>-<date>-<time>).", shownDefault: .hidden),
        .value("checkpoint-every", \.checkpointEvery, valueName: "n", expected: "a whole number", changeableOnResume: true,
               help: "Write a checkpoint every N steps (and at the end).", requirement: .atLeast(1)),
        .value("keep", \.keep, valueName: "k", expected: "a whole number", changeableOnResume: true,
               help: "Keep the newest K checkpoints.", requirement: .atLeast(1)),
        .value("sample-every", \.sampleEvery, valueName: "n", expected: "a whole number", changeableOnResume: true,
               help: "Write a sample grid every N steps (and at the end).", requirement: .atLeast(1)),
        .value("stall-timeout", \.stallTimeout, valueName: "seconds", expected: "a number of seconds", changeableOnResume: true,
               help: "Seconds a rank may make no progress (or wait for the others) before the job is reported stalled and ended.",
               requirement: .positive),
        .value("pack", \.pack, valueName: "n", expected: "a whole number",
               help: "Samples the discriminator judges at once (PacGAN packing).", requirement: .atLeast(1)),
        .choice("lr-decay", \.learningRateDecay, help: "Learning-rate schedule: none, or linear (both rates fall towards 0 at --steps)."),
        .choice("loss", \.loss, help: "The conditional presets' loss: an explicit one (l2, l1), a learned one (adversarial), or both."),
        .value("recon-weight", \.reconstructionWeight, valueName: "weight", expected: "a number",
               help: "Weight of the L1 term: alphagan28's λ on the per-pixel mean (measured; 784 is λ = 1 on the pixel sum of "
                   + "Algorithm 1); the conditional presets' with l1+adversarial.", requirement: .atLeastZero),
        .value("r1", \.r1, valueName: "gamma", expected: "a number",
               help: "γ of the R1 penalty, γ/2 · mean ‖∇D(x)‖² over the real batch, added to D's loss (Mescheder et al. 2018); "
                   + "for piecewise-linear discriminators only.", requirement: .atLeastZero),
        .value("mode-seeking", \.modeSeeking, valueName: "weight", expected: "a number",
               help: "Weight of the mode-seeking term (MSGAN) that makes the conditional presets' generators use their noise: "
                   + "1 / (mean |G(c, z1) - G(c, z2)| / mean |z1 - z2|) over pairs of draws for one condition, "
                   + "with the adversarial losses; 0 turns it off.", requirement: .atLeastZero),
        .value("ema-decay", \.emaDecay, valueName: "decay", expected: "a number",
               help: "Decay of the moving average of the generator's weights that sample, evaluate and the sample grids use "
                   + "(stored as /generator_ema; warmed up as min(decay, (1 + step) / (10 + step))); 0 turns it off.", requirement: .fraction),
        .value("eval-every", \.evalEvery, valueName: "n", expected: "a whole number", changeableOnResume: true,
               help: "Measure the generator every N steps during training as `launcher evaluate` does (split over the ranks), "
                   + "into metrics.jsonl, evaluations.jsonl and TensorBoard, and keep the best checkpoint so far as best.h5 "
                   + "(lowest FID; most modes, then most high-quality samples, for the 2-D presets); 0 never.",
               shownDefault: .computed { "\(TrainingConfiguration.defaults(for: $0).evalEvery ?? 0)" }, requirement: .atLeast(0)),
        .value("evaluator", \.evaluator, valueName: "file.h5", expected: "a path", changeableOnResume: true,
               help: "The evaluator network whose features --eval-every and `launcher evaluate` measure in: one trained on "
                   + "labelled images of the run's shape by `launcher evaluator train --data` (default the Fashion-MNIST "
                   + "evaluator, for 28×28 gray images).", shownDefault: .hidden),
        .value("eval-samples", \.evalSamples, valueName: "n", expected: "a whole number", changeableOnResume: true,
               help: "Samples each evaluation during training draws: fewer than evaluate's to keep it cheap; "
                   + "FID from fewer samples is biased upwards, so compare it within a run, not with evaluate's.",
               shownDefault: .computed { "\($0.measurement.defaultSamples.duringTraining)" }, requirement: .atLeast(1)),
        .value("tensorboard", \.tensorboard, valueName: "true|false", expected: "true or false", changeableOnResume: true,
               help: "Write TensorBoard event files (the metrics, evaluations and sample grids) in the run directory.",
               shownDefault: .computed { "\(TrainingConfiguration.defaults(for: $0).tensorboard ?? true)" }),
        .value("bucket-mb", \.bucketMegabytes, valueName: "MiB", expected: "a number", changeableOnResume: true,
               help: "Reduce the gradients in buckets of this many MiB on a thread of their own: each starts as soon as the "
                   + "backward pass has completed its gradients, and the update waits for them only when a later phase needs "
                   + "the network (the next step's discriminator pass on real data runs first). The result is the same bit for "
                   + "bit. 0 reduces each phase's gradients in one message after its backward pass, waiting there; the 2-D "
                   + "presets' steps are too short to hide their gradients (benchmarks/README.md).",
               shownDefault: .computed { "\(TrainingConfiguration.defaults(for: $0).bucketMegabytes ?? DataParallel.defaultBucketMegabytes)" },
               requirement: .atLeastZero),
        .value("exact", \.exactShards, valueName: "shards", expected: "a whole number",
               help: "Train bit for bit the same model on every number of ranks that divides SHARDS (a power of two; "
                   + "8 allows 1, 2, 4 and 8 ranks): the global batch is cut into SHARDS equal shards, every kernel runs "
                   + "on one shard at a time on one thread per rank, and every sum over the batch (gradients, BatchNorm's "
                   + "statistics) is combined shard by shard in one fixed tree. 0 is off, the faster mode, in which "
                   + "runs on different numbers of ranks agree only to rounding (docs/exact.md).",
               shownDefault: .computed { "\(TrainingConfiguration.defaults(for: $0).exactShards ?? 0)" },
               requirement: .init(phrase: "0 or a power of two") { $0 >= 0 && $0 & ($0 - 1) == 0 }),
    ]

    /// The option with flag or key `key`.
    public static func named(_ key: String) -> TrainingOption? { all.first { $0.key == key } }
}

/// The options a user gave, as text by key, from a YAML file and the command line: a later source
/// wins. Applied to a preset's defaults, or checked against a checkpoint's configuration on resume.
public struct TrainingOptions: Sendable {
    /// Text by option key, with the YAML file it came from (nil: the command line).
    private var given: [String: (text: String, file: String?)] = [:]

    public init() {}

    /// Records `--key text` (from `file`, or the command line when nil); throws for an unknown key.
    public mutating func set(_ key: String, _ text: String, file: String? = nil) throws {
        guard TrainingOption.named(key) != nil else {
            let known = TrainingOption.all.map(\.key).sorted().joined(separator: ", ")
            throw ConfigurationError(file.map { "\($0): unknown option `\(key)`; known: \(known)" }
                                     ?? "--\(key): unknown option; the training options are --\(known.replacingOccurrences(of: ", ", with: ", --")) "
                                        + "(launcher train --help lists them all)")
        }
        given[key] = (text, file)
    }

    /// The text given for `key`, if any.
    public subscript(key: String) -> String? { given[key]?.text }

    /// The preset the options name, if they name one.
    public var preset: Preset? { given["preset"].flatMap { Preset(rawValue: $0.text) } }

    /// The largest configuration file read: a few hundred options' worth.
    static let maximumYAMLBytes = 1 << 16

    /// Reads a YAML mapping of option keys (`batch-size: 128`), naming the file and key on error.
    /// The file is composed, not loaded: an alias stays one shared node, and a value that is not a
    /// scalar is refused before anything walks it, so aliases nested to expand without bound
    /// ("billion laughs") cost nothing.
    public static func load(yamlFile path: String) throws -> TrainingOptions {
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue ?? 0
        guard size <= maximumYAMLBytes else {
            throw ConfigurationError("\(path): \(size) bytes; a configuration file is a short list of options (at most \(maximumYAMLBytes) bytes)")
        }
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw ConfigurationError("\(path): cannot read the configuration file (\(error.localizedDescription))")
        }
        let root: Node?
        do { root = try Yams.compose(yaml: text) } catch { throw ConfigurationError("\(path): not valid YAML: \(error)") }
        guard let root else { return TrainingOptions() }
        guard let mapping = root.mapping else {
            throw ConfigurationError("\(path): expected a mapping of options such as `steps: 1000`")
        }
        var options = TrainingOptions()
        for (keyNode, value) in mapping.sorted(by: { ($0.key.scalar?.string ?? "") < ($1.key.scalar?.string ?? "") }) {
            guard let key = keyNode.scalar?.string else { throw ConfigurationError("\(path): option names are plain words, got a list or mapping") }
            guard let text = value.scalar?.string else {
                throw ConfigurationError("\(path): `\(key)`: expected a single value, got a \(value.sequence != nil ? "list" : "mapping")")
            }
            try options.set(key, text, file: path)
        }
        // Each value is read as its option's type now, so that a bad one is named before training starts.
        _ = try options.applied(to: TrainingConfiguration.defaults(for: options.preset ?? .dcgan28))
        return options
    }

    /// `self` with `other`'s given options on top.
    public func overridden(by other: TrainingOptions) -> TrainingOptions {
        var merged = self
        merged.given.merge(other.given) { $1 }
        return merged
    }

    /// These options laid over `base`, in the order of `TrainingOption.all`.
    public func applied(to base: TrainingConfiguration) throws -> TrainingConfiguration {
        var configuration = base
        for option in TrainingOption.all {
            if let entry = given[option.key] { try option.apply(entry.text, to: &configuration, file: entry.file) }
        }
        return configuration
    }

    /// The checkpoint's configuration with the options a resumed run may change; any other
    /// option that differs from the checkpoint is an error naming it.
    public func resuming(_ stored: TrainingConfiguration) throws -> TrainingConfiguration {
        var resumed = stored
        for option in TrainingOption.all {
            guard let entry = given[option.key] else { continue }
            var changed = stored
            try option.apply(entry.text, to: &changed, file: entry.file)
            if !option.changeableOnResume && option.get(changed) != option.get(stored) {
                let changeable = TrainingOption.all.filter(\.changeableOnResume).map { "--\($0.key)" }.joined(separator: ", ")
                throw ConfigurationError("--\(option.key) \(entry.text) differs from the checkpoint's \(option.get(stored) ?? "(none)"): "
                    + "a resumed run keeps its configuration; only \(changeable) may change")
            }
            try option.apply(entry.text, to: &resumed, file: entry.file)
        }
        return resumed
    }
}
