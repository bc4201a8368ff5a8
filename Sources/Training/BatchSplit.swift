import Checkpoints

/// How one global batch of `batchSize` rows splits over `ranks`: in whole packs of `pack` rows,
/// as evenly as they go, the first `packs % ranks` ranks taking one pack more. Rank r's rows
/// follow rank r − 1's, so the ranks together hold rows 0..<batchSize in order.
public struct BatchSplit: Equatable, Sendable {
    public let batchSize: Int
    public let ranks: Int
    public let pack: Int

    /// Fails unless every rank gets at least one whole pack; `unit` names a pack in the messages.
    public init(batchSize: Int, ranks: Int, pack: Int = 1, unit: String = "pack") throws {
        let packs = batchSize / pack
        guard packs * pack == batchSize else {
            throw ConfigurationError("--batch-size \(batchSize) is not a whole number of \(unit)s of \(pack); use a multiple of \(pack)")
        }
        guard packs >= ranks else {
            let unit = pack == 1 ? "sample" : "\(unit) of \(pack)"
            throw ConfigurationError("--batch-size \(batchSize) leaves some of the \(ranks) ranks without a \(unit); "
                                     + "use at least \(ranks * pack)")
        }
        (self.batchSize, self.ranks, self.pack) = (batchSize, ranks, pack)
    }

    /// Rank `rank`'s rows of the global batch.
    public func rows(of rank: Int) -> Range<Int> {
        let packs = batchSize / pack
        let (base, extra) = (packs / ranks, packs % ranks)
        let first = rank * base + min(rank, extra)
        return first * pack..<(first + base + (rank < extra ? 1 : 0)) * pack
    }

    /// Rank `rank`'s row count over the mean share (batchSize / ranks); exactly 1 when the split is even.
    ///
    /// A rank's loss is a mean over its own rows. Scaled by this factor, every rank's loss weighs
    /// a row by ranks / batchSize, so averaging the gradients over the ranks gives the gradient of
    /// the global batch's mean, and a synchronised BatchNorm's backward sums terms of one scale.
    public func lossScale(of rank: Int) -> Float {
        Float(rows(of: rank).count * ranks) / Float(batchSize)
    }
}
