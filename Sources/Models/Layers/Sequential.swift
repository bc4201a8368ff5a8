/// Layers applied in order; state names are prefixed with the layer's index, as in PyTorch
/// (`"0.weight"`, `"1.running_mean"`), so a checkpoint maps one-to-one onto a PyTorch `state_dict`.
public final class Sequential: Layer {
    public let layers: [Layer]

    public init(_ layers: [Layer]) { self.layers = layers }

    public func callAsFunction(_ input: Variable) -> Variable {
        layers.reduce(input) { $1($0) }
    }

    public var state: [(name: String, entry: StateEntry)] {
        named(layers.enumerated().map { ("\($0)", $1) })
    }

    public func setTraining(_ training: Bool) { layers.forEach { $0.setTraining(training) } }

    public var sublayers: [Layer] { layers }
}
