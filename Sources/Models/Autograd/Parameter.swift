/// A trainable tensor of a layer and the gradient accumulated for it.
public final class Parameter {
    /// The weights; the optimizer updates them in place.
    public var value: Tensor
    /// d(loss)/d(value), summed over every use since the last `zeroGradient()`.
    public var gradient: Tensor
    /// False while the owning network is frozen: backward passes then skip this
    /// parameter's gradient work entirely, not just its update.
    public var requiresGradient = true

    public init(_ value: Tensor) {
        self.value = value
        self.gradient = Tensor(shape: value.shape)
    }

    public func zeroGradient() {
        gradient.scalars.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
    }

    /// Adds `delta` (same element count) to the gradient.
    func accumulate(_ delta: UnsafeBufferPointer<Float>) {
        precondition(delta.count == gradient.count)
        gradient.scalars.withUnsafeMutableBufferPointer { out in
            for index in out.indices { out[index] += delta[index] }
        }
    }
}

/// A tensor a layer keeps but does not train, such as BatchNorm's running statistics.
public final class Buffer {
    public var value: Tensor
    public init(_ value: Tensor) { self.value = value }
}
