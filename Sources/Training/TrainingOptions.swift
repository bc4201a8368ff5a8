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
    public let help: String
    /// Whether `--resume` may change it (the run's length and outputs) rather than the model's.
    public let changeableOnResume: Bool
    private let set: @Sendable (inout TrainingConfiguration, String) -> Bool
    private let expected: String
    /// The option's value in a configuration as text, nil when unset.
    let get: @Sendable (TrainingConfiguration) -> String?
    /// A message naming the flag when the value is out of its range.
    let check: @Sendable (TrainingConfiguration) -> String?

    /// Sets the option in `configuration` from `text`, or throws naming the option, where it was
    /// given (`file`, or the command line when nil), the text and what was expected.
    func apply(_ text: String, to configuration: inout TrainingConfiguration, file: String?) throws {
        guard set(&configuration, text) else {
            throw ConfigurationError(file.map { "\($0): `\(key)`: \(text): expected \(expected)" } ?? "--\(key) \(text): expected \(expected)")
        }
    }

    /// An option whose value parses from text (numbers, paths).
    static func value<Value: LosslessStringConvertible & Sendable>(
        _ key: String, _ path: WritableKeyPath<TrainingConfiguration, Value> & Sendable, valueName: String, expected: String,
        changeableOnResume: Bool = false, help: String, check: @escaping @Sendable (Value) -> String? = { _ in nil }
    ) -> TrainingOption {
        TrainingOption(key: key, valueName: valueName, help: help, changeableOnResume: changeableOnResume,
                       set: { configuration, text in
                           guard let value = Value(text) else { return false }
                           configuration[keyPath: path] = value
                           return true
                       },
                       expected: expected, get: { "\($0[keyPath: path])" }, check: { check($0[keyPath: path]) })
    }

    /// An option that may be unset in a configuration (nil: the preset does not use it, or an
    /// older checkpoint predates it).
    static func optional<Value: LosslessStringConvertible & Sendable>(
        _ key: String, _ path: WritableKeyPath<TrainingConfiguration, Value?> & Sendable, valueName: String, expected: String,
        help: String, check: @escaping @Sendable (Value) -> String? = { _ in nil }
    ) -> TrainingOption {
        TrainingOption(key: key, valueName: valueName, help: help, changeableOnResume: false,
                       set: { configuration, text in
                           guard let value = Value(text) else { return false }
                           configuration[keyPath: path] = value
                           return true
                       },
                       expected: expected, get: { $0[keyPath: path].map { "\($0)" } }, check: { $0[keyPath: path].flatMap(check) })
    }

    /// An option naming one of a set of choices.
    static func choice<Value: RawRepresentable & CaseIterable & Sendable>(
        _ key: String, _ path: WritableKeyPath<TrainingConfiguration, Value?> & Sendable, help: String
    ) -> TrainingOption where Value.RawValue == String {
        let names = Value.allCases.map(\.rawValue)
        return TrainingOption(key: key, valueName: names.joined(separator: "|"), help: help, changeableOnResume: false,
                              set: { configuration, text in
                                  guard let value = Value(rawValue: text) else { return false }
                                  configuration[keyPath: path] = value
                                  return true
                              },
                              expected: "one of \(names.joined(separator: ", "))", get: { $0[keyPath: path]?.rawValue }, check: { _ in nil })
    }
}

extension TrainingOption {
    private static func atLeast(_ flag: String, _ minimum: Int) -> @Sendable (Int) -> String? {
        { $0 >= minimum ? nil : "--\(flag) must be at least \(minimum), got \($0)" }
    }

    /// Every option of `launcher train`, in the order `--help` lists them.
    public static let all: [TrainingOption] = [
        .choice("preset", \.presetChoice, help: "Networks and data (default dcgan28)."),
        .optional("data", \.data, valueName: "path", expected: "a path",
                  help: "Image data for the image presets: IDX (gzipped or not) or HDF5 [N, H, W] / [N, C, H, W]."),
        .value("steps", \.steps, valueName: "n", expected: "a whole number", changeableOnResume: true,
               help: "Generator updates to train to (on resume: the total to continue up to).", check: atLeast("steps", 1)),
        .value("batch-size", \.batchSize, valueName: "n", expected: "a whole number",
               help: "The global batch, split over the ranks in whole packs.", check: atLeast("batch-size", 1)),
        .choice("objective", \.objectiveChoice, help: "Adversarial objective."),
        .value("d-steps", \.discriminatorSteps, valueName: "n", expected: "a whole number",
               help: "Discriminator updates per generator update.", check: atLeast("d-steps", 1)),
        .value("lr-g", \.generatorLearningRate, valueName: "rate", expected: "a number", help: "Generator learning rate (Adam).",
               check: { $0 > 0 && $0.isFinite ? nil : "--lr-g must be a positive number, got \($0)" }),
        .value("lr-d", \.discriminatorLearningRate, valueName: "rate", expected: "a number", help: "Discriminator learning rate (Adam).",
               check: { $0 > 0 && $0.isFinite ? nil : "--lr-d must be a positive number, got \($0)" }),
        .value("beta1", \.beta1, valueName: "beta", expected: "a number", help: "Adam's beta1.",
               check: { (0..<1).contains($0) ? nil : "--beta1 must be in [0, 1), got \($0)" }),
        .value("beta2", \.beta2, valueName: "beta", expected: "a number", help: "Adam's beta2.",
               check: { (0..<1).contains($0) ? nil : "--beta2 must be in [0, 1), got \($0)" }),
        .value("seed", \.seed, valueName: "n", expected: "a whole number at least 0",
               help: "Seed of every random choice: initial weights, data order, noise."),
        .value("run-dir", \.runDirectory, valueName: "dir", expected: "a directory", changeableOnResume: true,
               help: "Where checkpoints, samples and metrics go (default checkpoints/<preset>-<date>-<time>)."),
        .value("checkpoint-every", \.checkpointEvery, valueName: "n", expected: "a whole number", changeableOnResume: true,
               help: "Write a checkpoint every N steps (and at the end).", check: atLeast("checkpoint-every", 1)),
        .value("keep", \.keep, valueName: "k", expected: "a whole number", changeableOnResume: true,
               help: "Keep the newest K checkpoints.", check: atLeast("keep", 1)),
        .value("sample-every", \.sampleEvery, valueName: "n", expected: "a whole number", changeableOnResume: true,
               help: "Write a sample grid every N steps (and at the end).", check: atLeast("sample-every", 1)),
        .value("stall-timeout", \.stallTimeout, valueName: "seconds", expected: "a number of seconds", changeableOnResume: true,
               help: "Seconds a rank may make no progress (or wait for the others) before the job is reported stalled and ended.",
               check: { $0 > 0 ? nil : "--stall-timeout must be positive, got \($0)" }),
        .optional("pack", \.pack, valueName: "n", expected: "a whole number",
                  help: "Samples the discriminator judges at once (PacGAN packing; default 1).", check: atLeast("pack", 1)),
        .choice("lr-decay", \.learningRateDecay, help: "Learning-rate schedule: none, or linear (both rates fall towards 0 at --steps)."),
        .choice("loss", \.loss, help: "completion28's loss (default l1+adversarial)."),
        .optional("recon-weight", \.reconstructionWeight, valueName: "weight", expected: "a number",
                  help: "Weight of the L1 term: alphagan28's λ on the per-pixel mean (default 784: λ = 1 on the pixel sum of "
                      + "Algorithm 1); completion28's with l1+adversarial (default 100).",
                  check: { $0 >= 0 && $0.isFinite ? nil : "--recon-weight must be a number at least 0, got \($0)" }),
        .optional("r1", \.r1, valueName: "gamma", expected: "a number",
                  help: "γ of the R1 penalty, γ/2 · mean ‖∇D(x)‖² over the real batch, added to D's loss (Mescheder et al. 2018); "
                      + "grid2d and ring2d only (default 1 there).",
                  check: { $0 >= 0 && $0.isFinite ? nil : "--r1 must be a number at least 0, got \($0)" }),
    ]

    /// The option with flag or key `key`.
    public static func named(_ key: String) -> TrainingOption? { all.first { $0.key == key } }
}

extension TrainingConfiguration {
    /// `preset` and `objective`, never unset, as the optional values `TrainingOption.choice` sets.
    var presetChoice: Preset? {
        get { preset }
        set { if let newValue { preset = newValue } }
    }

    var objectiveChoice: AdversarialObjective? {
        get { objective }
        set { if let newValue { objective = newValue } }
    }
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

    /// Reads a YAML mapping of option keys (`batch-size: 128`), naming the file and key on error.
    public static func load(yamlFile path: String) throws -> TrainingOptions {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw ConfigurationError("\(path): cannot read the configuration file (\(error.localizedDescription))")
        }
        let loaded: Any?
        do { loaded = try Yams.load(yaml: text) } catch { throw ConfigurationError("\(path): not valid YAML: \(error)") }
        guard let loaded else { return TrainingOptions() }
        guard let mapping = loaded as? [String: Any] else {
            throw ConfigurationError("\(path): expected a mapping of options such as `steps: 1000`")
        }
        var options = TrainingOptions()
        for (key, value) in mapping.sorted(by: { $0.key < $1.key }) {
            try options.set(key, "\(value)", file: path)
            guard value is String || value is Int || value is Double else {
                throw ConfigurationError("\(path): `\(key)`: expected a single value, got \(value)")
            }
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
