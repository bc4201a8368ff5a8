/// Maxout (Goodfellow et al. 2013): `units` outputs, each the maximum of `pieces` affine maps.
///
/// - input `[N, inFeatures]`, output `[N, units]`
/// - `weight` `[units·pieces, inFeatures]`, `bias` `[units·pieces]`; row `u·pieces + k` is piece k of unit u,
///   so the PyTorch equivalent is `linear(x).view(N, units, pieces).max(-1)`.
public final class Maxout: PiecewiseLinear {
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

    public func callAsFunction(_ input: Variable) -> Variable { linearized(input).output }

    /// The Jacobian keeps each unit's winning piece at `input`: the affine map of that piece, without its bias.
    public func linearized(_ input: Variable) -> Linearization {
        let candidates = affine(input)
        let winners = winningPieces(of: candidates.value)
        let shards = input.shards
        return Linearization(
            output: select(winners, from: candidates),
            jacobian: { direction in self.select(winners, from: self.affine.jacobianProduct(direction)) },
            transposedJacobian: { v in self.affine.transposedJacobianProduct(self.scatter(v, to: winners), shards: shards) })
    }

    /// For each row and unit of `candidates` `[N, units·pieces]`, the piece with the largest value (the first on a tie): `[N·units]`.
    private func winningPieces(of candidates: Tensor) -> [Int32] {
        let (rows, pieces) = (candidates.shape[0] * units, self.pieces)
        return candidates.scalars.withUnsafeBufferPointer { values in
            (0..<rows).map { row in
                let base = row * pieces
                var best = 0
                for piece in 1..<pieces where values[base + piece] > values[base + best] { best = piece }
                return Int32(best)
            }
        }
    }

    /// `[N, units·pieces]` → `[N, units]`: each unit's piece `winners` names; the gradient goes to that piece alone.
    private func select(_ winners: [Int32], from candidates: Variable) -> Variable {
        let (units, pieces) = (self.units, self.pieces)
        let batch = candidates.value.shape[0]
        let y = candidates.value.scalars.withUnsafeBufferPointer { values in
            [Float].filled(count: batch * units) { y in
                for row in 0..<batch * units { y[row] = values[row * pieces + Int(winners[row])] }
            }
        }
        return Variable.result(Tensor(shape: [batch, units], scalars: y), of: [candidates]) { dy in
            candidates.accumulate(self.scatter(dy, to: winners))
        }
    }

    /// `[N, units]` → `[N, units·pieces]`: each value at its unit's winning piece, zeros elsewhere.
    private func scatter(_ values: Tensor, to winners: [Int32]) -> Tensor {
        let pieces = self.pieces
        var spread = Tensor(shape: [values.shape[0], units * pieces])
        spread.scalars.withUnsafeMutableBufferPointer { spread in
            values.scalars.withUnsafeBufferPointer { values in
                for row in values.indices { spread[row * pieces + Int(winners[row])] = values[row] }
            }
        }
        return spread
    }
}
