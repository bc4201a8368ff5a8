/// Batch normalisation over features (`[N, C]`) or over the channels of images (`[N, C, H, W]`),
/// PyTorch's `BatchNorm1d`/`BatchNorm2d`:
///
///     y = (x − mean) / √(var + eps) · weight + bias
///
/// In training the statistics are the batch's (biased variance), and the running ones move by
/// `momentum` towards them (unbiased variance), as PyTorch does; in evaluation the running ones are used.
/// - `weight`, `bias`, `running_mean`, `running_var` `[C]`; `num_batches_tracked` a counter.
/// - Without `affine` (PyTorch's `affine=False`), weight 1 and bias 0 are constants, neither
///   trained nor stored: the output is the normalised input itself.
public final class BatchNorm: Layer {
    public let features: Int
    public let affine: Bool
    public let momentum: Float
    public let epsilon: Float
    public let weight: Parameter
    public let bias: Parameter
    public let runningMean: Buffer
    public let runningVariance: Buffer
    public let batchesTracked = Counter()
    public private(set) var training = true

    /// Sums per-channel statistics over every replica of the batch, in place, so data-parallel
    /// ranks normalise with the global batch's statistics. Nil: this process holds the whole batch.
    /// The array is `[Σx (C values), Σx² (C values), count]` in forward and `[Σdy, Σdy·x̂, count]` in
    /// backward. Under `BatchShards` it holds the pairwise sum of this rank's shards.
    public var crossReplicaSum: ((inout [Double]) -> Void)?

    public init(_ features: Int, momentum: Float = 0.1, epsilon: Float = 1e-5, affine: Bool = true) {
        (self.features, self.momentum, self.epsilon, self.affine) = (features, momentum, epsilon, affine)
        weight = Parameter(Tensor(shape: [features], repeating: 1))
        bias = Parameter(Tensor(shape: [features]))
        weight.requiresGradient = affine
        bias.requiresGradient = affine
        runningMean = Buffer(Tensor(shape: [features]))
        runningVariance = Buffer(Tensor(shape: [features], repeating: 1))
    }

    public var state: [(name: String, entry: StateEntry)] {
        (affine ? [("weight", .parameter(weight)), ("bias", .parameter(bias))] : [])
            + [("running_mean", .buffer(runningMean)), ("running_var", .buffer(runningVariance)),
               ("num_batches_tracked", .counter(batchesTracked))]
    }

    public func setTraining(_ training: Bool) { self.training = training }

    public func callAsFunction(_ input: Variable) -> Variable {
        let x = input.value
        precondition((x.rank == 2 || x.rank == 4) && x.shape[1] == features, "BatchNorm(\(features)) got input \(x.shape)")
        let channels = ChannelRuns(x)
        let shards = BatchShards.rows(of: x.shape[0], shards: input.shards, in: "BatchNorm(\(features))")
        let (mean, inverseStd) = training ? batchStatistics(x, shards: shards) : runningStatistics()

        // normalized (x̂) [N, C, P]; y = x̂·γ + β, both in x's layout
        let gamma = weight.value.scalars, beta = bias.value.scalars
        let count = x.count
        var y = [Float]()
        let normalized = x.scalars.withUnsafeBufferPointer { source in
            [Float].filled(count: count) { xhat in
                y = .filled(count: count) { out in
                    channels.forEachBlock { block in
                        for p in 0..<block.positions {
                            let row = block.base &+ p &* block.stride
                            for lane in 0..<block.lanes {
                                let (c, i) = (block.first &+ lane, row &+ lane)
                                let value = (source[i] - mean[c]) * inverseStd[c]
                                xhat[i] = value
                                out[i] = value * gamma[c] + beta[c]
                            }
                        }
                    }
                }
            }
        }
        let usedBatchStatistics = training
        return Variable.result(Tensor(shape: x.shape, scalars: y, layout: x.layout), of: [input], parameters: [weight, bias]) { dy in
            self.backward(dy, input: input, normalized: normalized, inverseStd: inverseStd,
                          batchStatistics: usedBatchStatistics, channels: channels, shards: shards)
        }
    }

    private func runningStatistics() -> ([Float], [Float]) {
        (runningMean.value.scalars, runningVariance.value.scalars.map { 1 / ($0 + epsilon).squareRoot() })
    }

    /// The (global) batch's mean and 1/√(var + eps) per channel; updates the running statistics.
    private func batchStatistics(_ x: Tensor, shards: [Range<Int>]) -> ([Float], [Float]) {
        var sums = x.scalars.withUnsafeBufferPointer { values in
            pairwiseSum(shardSums(x, shards: shards) { i in
                let value = Double(values[i])
                return (value, value * value)
            })
        }
        crossReplicaSum?(&sums)
        let count = sums[2 * features]
        var mean = [Float](repeating: 0, count: features), inverseStd = mean
        var runningMeans = runningMean.value.scalars, runningVariances = runningVariance.value.scalars
        for c in 0..<features {
            let m = sums[c] / count
            let variance = max(sums[features + c] / count - m * m, 0)
            mean[c] = Float(m)
            inverseStd[c] = Float(1 / (variance + Double(epsilon)).squareRoot())
            let unbiased = count > 1 ? variance * count / (count - 1) : variance
            runningMeans[c] = (1 - momentum) * runningMeans[c] + momentum * Float(m)
            runningVariances[c] = (1 - momentum) * runningVariances[c] + momentum * Float(unbiased)
        }
        runningMean.value.scalars = runningMeans
        runningVariance.value.scalars = runningVariances
        batchesTracked.value += 1
        return (mean, inverseStd)
    }

    /// Per shard of `x`'s rows, `[Σf (C values), Σg (C values), count]` of the terms (f, g) of each
    /// storage element.
    private func shardSums(_ x: Tensor, shards: [Range<Int>], _ terms: (Int) -> (Double, Double)) -> [[Double]] {
        shards.map { rows in
            let channels = ChannelRuns(x, rows: rows)
            var sums = [Double](repeating: 0, count: 2 * features + 1)
            sums.withUnsafeMutableBufferPointer { channels.addSums(into: $0.baseAddress!, terms) }
            sums[2 * features] = Double(channels.batch * channels.positions)
            return sums
        }
    }

    /// dγ = Σ dy·x̂;  dβ = Σ dy;  with batch statistics
    /// dx = (1/M)·inverseStd·(M·dx̂ − Σdx̂ − x̂·Σ(dx̂·x̂)) where dx̂ = dy·γ and M the global count.
    private func backward(_ dy: Tensor, input: Variable, normalized: [Float], inverseStd: [Float],
                          batchStatistics: Bool, channels: ChannelRuns, shards: [Range<Int>]) {
        // Per shard and channel: Σdy, Σdy·x̂.
        let perShard = dy.scalars.withUnsafeBufferPointer { g in
            normalized.withUnsafeBufferPointer { xhat in
                shardSums(dy, shards: shards) { i in (Double(g[i]), Double(g[i]) * Double(xhat[i])) }
            }
        }
        for (shard, sums) in perShard.enumerated() {
            if weight.requiresGradient {
                weight.withGradient(shard: shard, of: shards.count) { $0.add(Tensor(shape: [features], scalars: sums[features..<2 * features].map { Float($0) })) }
            }
            if bias.requiresGradient {
                bias.withGradient(shard: shard, of: shards.count) { $0.add(Tensor(shape: [features], scalars: sums[..<features].map { Float($0) })) }
            }
        }
        guard input.requiresGradient else { return }

        var global = pairwiseSum(perShard)
        if batchStatistics { crossReplicaSum?(&global) }
        let count = batchStatistics ? global[2 * features] : 1
        let gamma = weight.value.scalars
        let dx = Tensor(shape: input.value.shape, scalars: .filled(count: dy.count) { out in
            dy.scalars.withUnsafeBufferPointer { g in
                normalized.withUnsafeBufferPointer { xhat in
                    // Per channel: dx = scale · (dy − meanGradient − x̂ · meanProjection); without batch
                    // statistics the two means are zero.
                    let scale = (0..<features).map { gamma[$0] * inverseStd[$0] }
                    let meanGradient = (0..<features).map { batchStatistics ? Float(global[$0] / count) : 0 }
                    let meanProjection = (0..<features).map { batchStatistics ? Float(global[features + $0] / count) : 0 }
                    channels.forEachBlock { block in
                        for p in 0..<block.positions {
                            let row = block.base &+ p &* block.stride
                            for lane in 0..<block.lanes {
                                let (c, i) = (block.first &+ lane, row &+ lane)
                                out[i] = scale[c] * (g[i] - meanGradient[c] - xhat[i] * meanProjection[c])
                            }
                        }
                    }
                }
            }
        }, layout: dy.layout)
        input.accumulate(dx)
    }
}
