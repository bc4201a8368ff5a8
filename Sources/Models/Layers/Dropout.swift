/// Inverted dropout: in training each element is zeroed with probability `p` and the rest
/// scaled by 1/(1 − p); in evaluation the identity. Any shape.
///
/// The mask comes from the layer's own `random` stream, so a run that restores the stream
/// draws the same masks.
public final class Dropout: Layer {
    public let probability: Float
    public var random: RandomStream
    public private(set) var training = true

    public init(probability: Float, random: RandomStream) {
        precondition((0..<1).contains(probability), "dropout probability must be in [0, 1), got \(probability)")
        self.probability = probability
        self.random = random
    }

    public func setTraining(_ training: Bool) { self.training = training }

    public func callAsFunction(_ input: Variable) -> Variable {
        guard training, probability > 0 else { return input }
        let keep = 1 - probability
        let mask = Tensor(shape: input.value.shape, scalars: (0..<input.value.count).map { _ in random.uniform() < keep ? 1 / keep : 0 })
        return Variable.result(input.value * mask, of: [input]) { dy in input.accumulate(dy * mask) }
    }
}
