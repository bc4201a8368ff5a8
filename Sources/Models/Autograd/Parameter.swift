/// A trainable tensor of a layer and the gradient accumulated for it.
public final class Parameter {
    /// The weights; the optimizer updates them in place.
    public var value: Tensor
    /// d(loss)/d(value), summed over every use since the last `zeroGradient()`.
    public var gradient: Tensor
    /// False while the owning network is frozen: backward passes then skip this
    /// parameter's gradient work entirely, not just its update.
    public var requiresGradient = true
    /// Under `BatchShards`, each shard's gradient, summed over every use; `combineShardGradients`
    /// adds them to `gradient` in the fixed order of `pairwiseSum`.
    private var shardGradients: [Tensor] = []

    public init(_ value: Tensor) {
        self.value = value
        self.gradient = Tensor(shape: value.shape)
    }

    public func zeroGradient() {
        gradient.scalars.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
        shardGradients = []
    }

    /// Runs `body` on the gradient that shard `shard` of `shards` adds to: `gradient` itself when
    /// the batch is one shard.
    func withGradient<Result, Failure: Error>(shard: Int, of shards: Int,
                                              _ body: (inout Tensor) throws(Failure) -> Result) throws(Failure) -> Result {
        guard shards > 1 else { return try body(&gradient) }
        if shardGradients.count != shards {
            precondition(shardGradients.isEmpty, "a parameter used with \(shardGradients.count) and \(shards) shards in one pass")
            shardGradients = Array(repeating: Tensor(shape: value.shape), count: shards)
        }
        return try body(&shardGradients[shard])
    }

    /// The gradient of each of `shards` shards accumulated since the last call (the whole
    /// gradient for one shard), leaving them zero.
    func takeGradients(shards: Int) -> [Tensor] {
        guard shards > 1 else {
            defer { gradient = Tensor(shape: value.shape) }
            return [gradient]
        }
        defer { shardGradients = [] }
        return shardGradients.isEmpty ? Array(repeating: Tensor(shape: value.shape), count: shards) : shardGradients
    }

    /// Adds the shards' gradients of the pass to `gradient`, summed in shard order as a pairwise
    /// tree; nothing when the batch was not split.
    public func combineShardGradients() {
        guard !shardGradients.isEmpty else { return }
        gradient.add(Tensor(shape: value.shape, scalars: pairwiseSum(shardGradients.map(\.scalars))))
        shardGradients = []
    }
}

/// A tensor a layer keeps but does not train, such as BatchNorm's running statistics.
public final class Buffer {
    public var value: Tensor
    public init(_ value: Tensor) { self.value = value }
}
