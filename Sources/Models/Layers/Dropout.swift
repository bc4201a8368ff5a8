/// Dropout as pix2pix's noise: each element is zeroed with `probability` and the rest scaled by
/// 1 / (1 − probability), in training and evaluation alike (the paper keeps it at test time, so
/// that one input has several outputs). Row r's mask is drawn from the stream keyed by
/// `rowKeys[r]`, which the generator derives from that row's noise: a sample's mask is then the
/// same whichever rank or shard computes it, and a new noise draw is a new output.
/// With `rowKeys` nil (a generator built without noise) it passes its input through.
/// Any input shape `[N, ...]`; output of the same shape.
public final class Dropout: Layer {
    public let probability: Float
    /// One stream key per row of the next input, or nil for none.
    public var rowKeys: [UInt64]?

    public init(probability: Float = 0.5) {
        precondition((0..<1).contains(probability), "dropout probability \(probability) is not in [0, 1)")
        self.probability = probability
    }

    public func callAsFunction(_ input: Variable) -> Variable {
        guard let rowKeys else { return input }
        let rows = input.value.shape[0]
        precondition(rowKeys.count == rows, "\(rowKeys.count) dropout keys for \(rows) rows")
        let mask = self.mask(rows: rows, size: rows == 0 ? 0 : input.value.count / rows, keys: rowKeys, like: input.value)
        let multiply: (Tensor, Tensor) -> Tensor = { values, mask in
            values.elementwise(with: mask) { x, m, y, range in for i in range { y[i] = x[i] * m[i] } }
        }
        return Variable.result(multiply(input.value, mask), of: [input]) { gradient in
            input.accumulate(multiply(gradient, mask))
        }
    }

    /// 0 or 1 / (1 − p) per element, row by row in `like`'s storage order and layout.
    func mask(rows: Int, size: Int, keys: [UInt64], like tensor: Tensor) -> Tensor {
        let kept = 1 / (1 - probability)
        var scalars = [Float](repeating: 0, count: rows * size)
        for row in 0..<rows {
            var random = RandomStream(key: keys[row])
            for i in 0..<size where random.uniform() >= probability { scalars[row * size + i] = kept }
        }
        return Tensor(shape: tensor.shape, scalars: scalars, layout: tensor.layout)
    }
}
