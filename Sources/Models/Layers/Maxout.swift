/// Maxout (Goodfellow et al. 2013): `units` outputs, each the maximum of `pieces` affine maps.
///
/// - input `[N, inFeatures]`, output `[N, units]`
/// - `weight` `[units·pieces, inFeatures]`, `bias` `[units·pieces]`; row `u·pieces + k` is piece k of unit u,
///   so the PyTorch equivalent is `linear(x).view(N, units, pieces).max(-1)`.
public final class Maxout: Layer {
    public let units: Int
    public let pieces: Int
    private let affine: Linear

    public init(_ inFeatures: Int, units: Int, pieces: Int, random: inout RandomStream) {
        (self.units, self.pieces) = (units, pieces)
        affine = Linear(inFeatures, units * pieces, random: &random)
    }

    /// `[units·pieces, inFeatures]` and `[units·pieces]`, as the class comment lays them out.
    public var weight: Parameter { affine.weight }
    public var bias: Parameter { affine.bias }

    public var state: [(name: String, entry: StateEntry)] { affine.state }

    public func callAsFunction(_ input: Variable) -> Variable {
        let (units, pieces) = (self.units, self.pieces)
        let candidates = affine(input)
        let batch = candidates.value.shape[0]
        var winners = [Int32](repeating: 0, count: batch * units)
        let y = candidates.value.scalars.withUnsafeBufferPointer { values in
            winners.withUnsafeMutableBufferPointer { winners in
                [Float].filled(count: batch * units) { y in
                    for row in 0..<batch * units {
                        let base = row * pieces
                        var best = 0
                        for piece in 1..<pieces where values[base + piece] > values[base + best] { best = piece }
                        winners[row] = Int32(best)
                        y[row] = values[base + best]
                    }
                }
            }
        }
        return Variable.result(Tensor(shape: [batch, units], scalars: y), of: [candidates]) { dy in
            var gradient = Tensor(shape: candidates.value.shape)
            gradient.scalars.withUnsafeMutableBufferPointer { gradient in
                dy.scalars.withUnsafeBufferPointer { dy in
                    for row in dy.indices { gradient[row * pieces + Int(winners[row])] = dy[row] }
                }
            }
            candidates.accumulate(gradient)
        }
    }
}
