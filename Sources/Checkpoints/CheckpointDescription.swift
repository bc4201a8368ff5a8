import Foundation

/// `launcher inspect`.
extension CheckpointFile {
    /// A readable description of a checkpoint: identity, configuration, and every network's tensors.
    public func describe() throws -> String {
        let options = try JSONSerialization.jsonObject(with: Data(try configuration.json().utf8)) as? [String: Any] ?? [:]
        var lines = [
            "checkpoint   \(path)",
            "step         \(step) of \(configuration.steps)",
            "preset       \(configuration.preset.rawValue)",
            "world size   \(worldSize)",
            "created      \(created)",
            "config",
        ]
        lines += options.keys.sorted().map { "  \($0.padding(toLength: 18, withPad: " ", startingAt: 0)) \(options[$0]!)" }
        for network in ["generator", "discriminator", "encoder", "code_discriminator"] where holds(network) {
            let tensors = try shapes(in: network)
            let total = tensors.filter { !$0.name.hasSuffix("num_batches_tracked") }.reduce(0) { $0 + $1.shape.reduce(1, *) }
            lines.append("\(network) (\(total) values)")
            for (name, shape) in tensors.sorted(by: { Self.stateOrder($0.name, $1.name) }) {
                lines.append("  \(name.padding(toLength: 26, withPad: " ", startingAt: 0)) \(shape.isEmpty ? "scalar" : shape.map(String.init).joined(separator: "×"))  \(shape.reduce(1, *))")
            }
        }
        if holds(CheckpointFormat.generatorAverage) {
            lines.append("\(CheckpointFormat.generatorAverage) (the generator's moving average, the same tensors; sample and evaluate use it)")
        }
        return lines.joined(separator: "\n")
    }

    /// Orders "10.weight" after "9.bias", as the network's layers go.
    static func stateOrder(_ lhs: String, _ rhs: String) -> Bool {
        let (a, b) = (lhs.split(separator: ".", maxSplits: 1), rhs.split(separator: ".", maxSplits: 1))
        if let x = Int(a[0]), let y = Int(b[0]), x != y { return x < y }
        return lhs < rhs
    }
}
