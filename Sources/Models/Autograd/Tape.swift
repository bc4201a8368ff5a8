/// Records the operations of a forward pass so `backward(from:)` can replay them in reverse.
///
/// Each layer application records one entry holding the values its backward needs; a
/// network applied twice records two independent entries, so every use gets its own gradient.
public final class Tape {
    struct Entry {
        enum Work {
            /// An operation's backward, run when its output has a gradient.
            case operation(output: Variable, backward: (Tensor) -> Void)
            /// Work that runs when the pass reaches it, gradient or not (`recordFollowUp`).
            case followUp(() -> Void)
        }
        let work: Work
        /// The parameters whose gradients this entry's backward adds to.
        let parameters: [Parameter]
    }
    private var entries: [Entry] = []
    /// The shards every layer splits the batches recorded here into (`BatchShards`); 1 but under `--exact`.
    public let shards: Int

    public init(shards: Int = 1) {
        precondition(shards >= 1, "a batch splits into at least one shard, got \(shards)")
        self.shards = shards
    }

    /// A tensor entering the computation; its gradient is kept when `requiresGradient`.
    ///
    /// Every input of a computation to differentiate comes through here, constants (noise, real
    /// images) included: a layer records on its input's tape, so a network applied to a
    /// tape-less `Variable` runs as inference and its parameters get no gradient from that use.
    public func variable(_ value: Tensor, requiresGradient: Bool = false) -> Variable {
        Variable(value, tape: self, requiresGradient: requiresGradient)
    }

    func record(_ output: Variable, parameters: [Parameter], backward: @escaping (Tensor) -> Void) {
        entries.append(Entry(work: .operation(output: output, backward: backward), parameters: parameters))
    }

    /// Records `body` to run in the backward pass once every operation recorded after it has run:
    /// a layer that trains a parameter through a weight derived from it (spectral normalization)
    /// records this before the operation that uses the derived weight, and turns that weight's
    /// gradient into its parameter's here. `parameters` are those `body` adds to.
    func recordFollowUp(parameters: [Parameter], _ body: @escaping () -> Void) {
        entries.append(Entry(work: .followUp(body), parameters: parameters))
    }

    /// Propagates d(scale · loss)/d(loss) = `scale` back through every recorded operation,
    /// accumulating into the gradients of parameters and of variables that require them. Clears the tape.
    ///
    /// `observer` hears, after each operation, which of its `watched` parameters have their whole
    /// gradient now (no operation left adds to them), so their reduction can start while the
    /// backward pass goes on.
    public func backward(from loss: Variable, scale: Float = 1, observer: (any BackwardObserver)? = nil) {
        precondition(loss.value.count == 1, "backward needs a scalar loss, got shape \(loss.value.shape)")
        guard loss.requiresGradient else { entries.removeAll(); return }
        // One that watches nothing (one process, one message after the pass) costs no bookkeeping.
        let observer = observer.flatMap { $0.watched.isEmpty ? nil : $0 }
        var usesLeft: [ObjectIdentifier: Int] = [:]
        if let observer {
            let watched = Set(observer.watched.map(ObjectIdentifier.init))
            for entry in entries {
                for parameter in entry.parameters where watched.contains(ObjectIdentifier(parameter)) { usesLeft[ObjectIdentifier(parameter), default: 0] += 1 }
            }
        }
        loss.gradient = Tensor(shape: loss.value.shape, repeating: scale)
        for entry in entries.reversed() {
            switch entry.work {
            case .operation(let output, let backward):
                if let gradient = output.gradient {
                    backward(gradient)
                    // Intermediate gradients are not needed after their entry ran; free them early.
                    if output !== loss { output.gradient = nil }
                }
            case .followUp(let body):
                body()
            }
            guard let observer else { continue }
            var finished: [Parameter] = []
            for parameter in entry.parameters {
                let key = ObjectIdentifier(parameter)
                guard let left = usesLeft[key] else { continue }
                usesLeft[key] = left - 1
                if left == 1 { finished.append(parameter) }
            }
            observer.finished(finished)
        }
        entries.removeAll()
    }

    /// How many operations are waiting for a backward pass.
    public var count: Int { entries.count }
}

/// Told during `Tape.backward` when parameters' gradients are complete.
public protocol BackwardObserver: AnyObject {
    /// The parameters to report on.
    var watched: [Parameter] { get }
    /// Called after every operation of the backward pass, with the watched parameters that
    /// operation completed (often none: the call is also a chance to do other work).
    func finished(_ parameters: [Parameter])
}

/// A tensor in a computation: its value, and once `Tape.backward` ran, its gradient.
public final class Variable {
    public let value: Tensor
    /// d(loss)/d(value), present after a backward pass for variables that require it.
    public internal(set) var gradient: Tensor?
    /// Whether any gradient flows back through this value (an input that asked for one,
    /// or a result of a trainable parameter or of such an input).
    public let requiresGradient: Bool
    // Weak: the tape holds its entries, which hold variables; a strong link back would leak a tape never replayed.
    weak var tape: Tape?

    /// A value outside any tape: layers applied to it record nothing (inference).
    public convenience init(_ value: Tensor) {
        self.init(value, tape: nil, requiresGradient: false)
    }

    init(_ value: Tensor, tape: Tape?, requiresGradient: Bool) {
        self.value = value
        self.tape = tape
        self.requiresGradient = requiresGradient && tape != nil
    }

    /// The result of an operation on `inputs` using `parameters`; records `backward` on the
    /// tape only when a gradient can flow to an input or a parameter.
    static func result(_ value: Tensor, of inputs: [Variable], parameters: [Parameter] = [],
                       backward: @escaping (Tensor) -> Void) -> Variable {
        let tape = inputs.lazy.compactMap(\.tape).first
        let needed = inputs.contains { $0.requiresGradient } || parameters.contains { $0.requiresGradient }
        let output = Variable(value, tape: tape, requiresGradient: needed)
        if needed, let tape { tape.record(output, parameters: parameters, backward: backward) }
        return output
    }

    /// Whether a forward pass should keep what its backward needs.
    static func recording(_ inputs: [Variable], parameters: [Parameter] = []) -> Bool {
        inputs.contains { $0.tape != nil } &&
            (inputs.contains { $0.requiresGradient } || parameters.contains { $0.requiresGradient })
    }

    /// Adds `delta` to this variable's gradient if it requires one.
    func accumulate(_ delta: Tensor) {
        guard requiresGradient else { return }
        // A gradient is kept in its value's layout, so elementwise backward passes can pair them.
        precondition(delta.layout == value.layout, "gradient in \(delta.layout) for a value in \(value.layout)")
        if gradient == nil { gradient = delta } else { gradient!.add(delta) }
    }
}
