/// Layers that only change a tensor's shape.

/// `[N, d1, d2, ...]` → `[N, d1·d2·...]`, in row-major (PyTorch's) order.
public final class Flatten: Layer {
    public init() {}
    public func callAsFunction(_ input: Variable) -> Variable { input.reshaped([input.value.shape[0], -1]) }
}

/// `[N, ...]` → `[N] + shape`, keeping the batch dimension.
public final class Reshape: Layer {
    public let shape: [Int]
    public init(_ shape: [Int]) { self.shape = shape }
    public func callAsFunction(_ input: Variable) -> Variable { input.reshaped([input.value.shape[0]] + shape) }
}
