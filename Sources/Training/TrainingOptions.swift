import Foundation
import Models
import Yams

/// The options a user gave, on the command line or in a YAML file: nil where not given.
/// Same keys as `TrainingConfiguration`, so the two merge as JSON objects.
public struct TrainingOptions: Codable, Sendable {
    public var preset: Preset?
    public var data: String?
    public var steps: Int?
    public var batchSize: Int?
    public var objective: AdversarialObjective?
    public var discriminatorSteps: Int?
    public var generatorLearningRate: Float?
    public var discriminatorLearningRate: Float?
    public var beta1: Float?
    public var beta2: Float?
    public var seed: UInt64?
    public var runDirectory: String?
    public var checkpointEvery: Int?
    public var keep: Int?
    public var sampleEvery: Int?
    public var stallTimeout: Double?
    public var pack: Int?
    public var learningRateDecay: LearningRateDecay?
    public var loss: CompletionLoss?
    public var reconstructionWeight: Float?
    public var r1: Float?

    typealias CodingKeys = TrainingConfiguration.CodingKeys

    public init() {}

    /// Reads a YAML mapping of option names (`batch-size: 128`), naming the file and key on error.
    public static func load(yamlFile path: String) throws -> TrainingOptions {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw ConfigurationError("\(path): cannot read the configuration file (\(error.localizedDescription))")
        }
        let mapping: [String: Any]
        do {
            guard let loaded = try Yams.load(yaml: text) else { return TrainingOptions() }
            guard let dictionary = loaded as? [String: Any] else {
                throw ConfigurationError("\(path): expected a mapping of options such as `steps: 1000`")
            }
            mapping = dictionary
        } catch let error as ConfigurationError { throw error } catch {
            throw ConfigurationError("\(path): not valid YAML: \(error)")
        }
        let known = Set(CodingKeys.allCases.map(\.rawValue))
        if let unknown = mapping.keys.sorted().first(where: { !known.contains($0) }) {
            throw ConfigurationError("\(path): unknown option `\(unknown)`; known: \(known.sorted().joined(separator: ", "))")
        }
        do {
            return try YAMLDecoder().decode(TrainingOptions.self, from: text)
        } catch let error as DecodingError {
            throw ConfigurationError("\(path): \(describe(error))")
        }
    }

    /// These options laid over `base`: a later source wins.
    public func applied(to base: TrainingConfiguration) throws -> TrainingConfiguration {
        var merged = try Self.jsonObject(base)
        merged.merge(try Self.jsonObject(self)) { $1 }
        return try JSONDecoder().decode(TrainingConfiguration.self, from: JSONSerialization.data(withJSONObject: merged))
    }

    /// `self` with `other`'s given options on top.
    public func overridden(by other: TrainingOptions) throws -> TrainingOptions {
        var merged = try Self.jsonObject(self)
        merged.merge(try Self.jsonObject(other)) { $1 }
        return try JSONDecoder().decode(TrainingOptions.self, from: JSONSerialization.data(withJSONObject: merged))
    }

    /// The checkpoint's configuration with the options a resumed run may change; any other
    /// option that differs from the checkpoint is an error naming it.
    public func resuming(_ stored: TrainingConfiguration) throws -> TrainingConfiguration {
        let storedObject = try Self.jsonObject(stored)
        for (key, value) in try Self.jsonObject(self).sorted(by: { $0.key < $1.key })
        where !TrainingConfiguration.changeableOnResume.contains(key) {
            guard let old = storedObject[key], try Self.sameJSON(old, value) else {
                throw ConfigurationError("--\(key) \(value) differs from the checkpoint's \(storedObject[key].map { "\($0)" } ?? "(none)"): "
                    + "a resumed run keeps its configuration; only --\(TrainingConfiguration.changeableOnResume.sorted().joined(separator: ", --")) may change")
            }
        }
        var changeable = TrainingOptions()
        let encoded = try Self.jsonObject(self).filter { TrainingConfiguration.changeableOnResume.contains($0.key) }
        changeable = try JSONDecoder().decode(TrainingOptions.self, from: JSONSerialization.data(withJSONObject: encoded))
        return try changeable.applied(to: stored)
    }

    private static func sameJSON(_ lhs: Any, _ rhs: Any) throws -> Bool {
        try JSONSerialization.data(withJSONObject: [lhs], options: .sortedKeys) == JSONSerialization.data(withJSONObject: [rhs], options: .sortedKeys)
    }

    private static func jsonObject<T: Encodable>(_ value: T) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: JSONEncoder().encode(value)) as? [String: Any] ?? [:]
    }

    private static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String { context.codingPath.map(\.stringValue).joined(separator: ".") }
        switch error {
        case .typeMismatch(let type, let context): return "`\(path(context))`: expected \(type == String.self ? "text" : "a number or name"), \(context.debugDescription)"
        case .valueNotFound(_, let context): return "`\(path(context))`: missing value"
        case .dataCorrupted(let context): return "`\(path(context))`: \(context.debugDescription)"
        case .keyNotFound(let key, _): return "missing `\(key.stringValue)`"
        @unknown default: return "\(error)"
        }
    }
}
