/// The checkpoint file format (docs/checkpoint-format.md): its identity and the names inside it.
public enum CheckpointFormat {
    public static let name = "learnedloss-checkpoint"
    public static let version: Int64 = 2
    /// The group of the generator's moving average, beside `/generator` and laid out like it.
    public static let generatorAverage = "generator_ema"

    /// `checkpoint-00001234.h5`: the step as 8 digits, so names sort by step.
    public static func fileName(step: Int) -> String {
        let digits = String(step)
        return "checkpoint-" + String(repeating: "0", count: max(0, 8 - digits.count)) + digits + ".h5"
    }

    /// The step in a checkpoint file name, or nil for other files.
    public static func step(inFileName name: String) -> Int? {
        guard name.hasPrefix("checkpoint-"), name.hasSuffix(".h5") else { return nil }
        return Int(name.dropFirst("checkpoint-".count).dropLast(3))
    }
}
