import Distributed
import Models

extension DataParallel {
    /// Makes every BatchNorm of `network` normalise with the statistics of the global batch.
    ///
    /// A layer cannot throw, so a failed all-reduce of its sums is kept in `batchNormFailure` and
    /// the layer goes on with this rank's sums; the phase's gradient reduction then throws it, which
    /// ends the step and the job with one message. After a failure no further sums are attempted.
    func synchronizeBatchNorm(in network: Layer) {
        guard world.size > 1 else { return }
        let world = self.world
        for case let layer as BatchNorm in network.allLayers {
            layer.crossReplicaSum = { [unowned self] sums in
                guard batchNormFailure == nil else { return }
                let what = "the all-reduce of BatchNorm(\(layer.features))'s batch statistics"
                do {
                    try waiting(in: what) {
                        if exact { sums = try Self.rankOrderedSum(sums, over: world) } else { try world.allReduce(&sums, op: .sum) }
                    }
                } catch {
                    batchNormFailure = BatchNormSumFailure(description: "\(what) failed on rank \(world.rank): \(error)")
                }
            }
        }
    }
}

/// A failed sum of BatchNorm's statistics over the ranks; not a `JobFailure`, which every rank
/// agrees on, since the other ranks may be waiting in the collective: the job is aborted.
struct BatchNormSumFailure: Error, CustomStringConvertible {
    let description: String
}
