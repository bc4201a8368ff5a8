import Models

/// The order in which a run visits its data: a permutation of the whole dataset for every
/// epoch, from (seed, epoch) alone, cut into global batches; each rank takes its slice of every
/// global batch. The order does not depend on the world size, so 1 and N ranks see the same data.
public struct EpochSampler: Equatable, Sendable {
    public let seed: UInt64
    public let datasetCount: Int
    public let globalBatch: Int
    /// The epoch being visited, from 0.
    public private(set) var epoch = 0
    /// How many global batches of this epoch have been taken.
    public private(set) var position = 0
    private var order: [Int] = []

    /// Fails unless the dataset holds at least one global batch.
    public init(seed: UInt64, datasetCount: Int, globalBatch: Int, epoch: Int = 0, position: Int = 0) throws {
        guard datasetCount >= globalBatch else {
            throw DataError("the dataset holds \(datasetCount) samples, fewer than one batch of \(globalBatch)")
        }
        (self.seed, self.datasetCount, self.globalBatch, self.epoch, self.position) = (seed, datasetCount, globalBatch, epoch, position)
        order = Self.permutation(seed: seed, epoch: epoch, count: datasetCount)
    }

    /// Batches in one epoch; the incomplete last one is dropped.
    public var batchesPerEpoch: Int { datasetCount / globalBatch }

    /// The dataset indices of `rows` (this rank's, `BatchSplit.rows(of:)`) of the next global batch.
    public mutating func next(rows: Range<Int>) -> ArraySlice<Int> {
        if position == batchesPerEpoch {
            epoch += 1
            position = 0
            order = Self.permutation(seed: seed, epoch: epoch, count: datasetCount)
        }
        let start = position * globalBatch
        position += 1
        return order[(start + rows.lowerBound)..<(start + rows.upperBound)]
    }

    /// The dataset indices of the whole next global batch.
    public mutating func next() -> ArraySlice<Int> { next(rows: 0..<globalBatch) }

    private static func permutation(seed: UInt64, epoch: Int, count: Int) -> [Int] {
        var random = RandomStream(seed: seed, purpose: .epochOrder, indices: [UInt64(epoch)])
        return random.permutation(count)
    }

    public static func == (lhs: EpochSampler, rhs: EpochSampler) -> Bool {
        (lhs.seed, lhs.datasetCount, lhs.globalBatch, lhs.epoch, lhs.position) == (rhs.seed, rhs.datasetCount, rhs.globalBatch, rhs.epoch, rhs.position)
    }
}
