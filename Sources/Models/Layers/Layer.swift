/// One entry of a network's state, as PyTorch's `state_dict` holds it.
public enum StateEntry {
    /// A trained tensor (`weight`, `bias`).
    case parameter(Parameter)
    /// A tracked tensor (`running_mean`, `running_var`).
    case buffer(Buffer)
    /// A tracked integer (`num_batches_tracked`, stored as int64).
    case counter(Counter)

    /// The values of a parameter or buffer, read and set in place; nil for a counter.
    public var tensor: Tensor? {
        get {
            switch self {
            case .parameter(let parameter): parameter.value
            case .buffer(let buffer): buffer.value
            case .counter: nil
            }
        }
        nonmutating set {
            guard let newValue else { return }
            switch self {
            case .parameter(let parameter): parameter.value = newValue
            case .buffer(let buffer): buffer.value = newValue
            case .counter: preconditionFailure("a counter holds no tensor")
            }
        }
    }
}

/// An integer a layer tracks, such as BatchNorm's `num_batches_tracked`.
public final class Counter {
    public var value: Int64
    public init(_ value: Int64 = 0) { self.value = value }
}

/// A network layer: called like a function on a `Variable`, recording its backward on the
/// input's tape when a gradient can flow.
public protocol Layer: AnyObject {
    func callAsFunction(_ input: Variable) -> Variable
    /// The layer's state under PyTorch's local names ("weight", "running_mean", ...), in PyTorch's order.
    var state: [(name: String, entry: StateEntry)] { get }
    /// Switches between training behaviour (batch statistics, dropout) and evaluation.
    func setTraining(_ training: Bool)
    /// The layers this one is made of; empty for a single layer.
    var sublayers: [Layer] { get }
}

extension Layer {
    public var state: [(name: String, entry: StateEntry)] { [] }
    public func setTraining(_ training: Bool) {}
    public var sublayers: [Layer] { [] }

    /// This layer and every layer inside it, depth first.
    public var allLayers: [Layer] { [self] + sublayers.flatMap(\.allLayers) }

    /// Frozen, no gradient is computed for any parameter (inputs still get theirs): a
    /// discriminator is frozen while the generator learns through it.
    public var isFrozen: Bool {
        get { parameters.allSatisfy { !$0.requiresGradient } }
        set { parameters.forEach { $0.requiresGradient = !newValue } }
    }

    public func zeroGradients() { parameters.forEach { $0.zeroGradient() } }

    /// The layer's trainable parameters.
    public var parameters: [Parameter] {
        state.compactMap { if case .parameter(let parameter) = $0.entry { parameter } else { nil } }
    }
}

/// The state of `children` under their attribute names, as a PyTorch module's `state_dict` lists
/// its submodules' (`"conv2d1.weight_orig"`).
func named(_ children: [(String, Layer)]) -> [(name: String, entry: StateEntry)] {
    children.flatMap { name, layer in layer.state.map { ("\(name).\($0.name)", $0.entry) } }
}
