/// A dense, contiguous array of `Float` with a shape.
///
/// A value type: copies share storage until one of them is written (copy on write).
/// The elements are in row-major order unless `layout` says that an image's channels are
/// blocked, as oneDNN's kernels keep them between convolution layers.
public struct Tensor: Equatable, CustomStringConvertible {
    /// The extent of each dimension, outermost first; `[]` for a scalar. Always the logical
    /// (PyTorch) order, whatever the layout.
    public private(set) var shape: [Int]
    /// The elements, in the order `layout` gives; `count == shape.product`.
    public var scalars: [Float]
    /// How `scalars` is ordered: `.plain` (row-major) everywhere but between oneDNN layers.
    public private(set) var layout: TensorLayout

    public init(shape: [Int], scalars: [Float], layout: TensorLayout = .plain) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        precondition(shape.reduce(1, *) == scalars.count, "shape \(shape) does not hold \(scalars.count) values")
        precondition(layout.fits(shape), "layout \(layout) does not fit shape \(shape)")
        self.shape = shape
        self.scalars = scalars
        self.layout = layout
    }

    public init(shape: [Int], repeating value: Float = 0, layout: TensorLayout = .plain) {
        self.init(shape: shape, scalars: [Float](repeating: value, count: shape.reduce(1, *)), layout: layout)
    }

    /// A tensor whose elements are left unset, for a kernel's output: every element must be
    /// written before it is read (zero-filling it first cost 2% of a dcgan28 step).
    init(unfilledShape shape: [Int], layout: TensorLayout = .plain) {
        self.init(shape: shape, scalars: .filled(count: shape.reduce(1, *)) { _ in }, layout: layout)
    }

    /// A zero-dimensional tensor holding one value.
    public init(scalar: Float) { self.init(shape: [], scalars: [scalar]) }

    /// Builds each element from its flat index.
    public init(shape: [Int], generator: (Int) -> Float) {
        self.init(shape: shape, scalars: (0..<shape.reduce(1, *)).map(generator))
    }

    public var count: Int { scalars.count }
    public var rank: Int { shape.count }
    /// The single value of a tensor with one element.
    public var scalar: Float {
        precondition(count == 1, "scalar of a tensor of shape \(shape)")
        return scalars[0]
    }

    /// The same elements under another shape with the same count; one dimension may be -1 (inferred).
    public func reshaped(_ newShape: [Int]) -> Tensor {
        var resolved = newShape
        if let inferred = newShape.firstIndex(of: -1) {
            let known = newShape.filter { $0 != -1 }.reduce(1, *)
            resolved[inferred] = known == 0 ? 0 : count / known
        }
        precondition(resolved.reduce(1, *) == count, "cannot reshape \(shape) to \(newShape)")
        precondition(layout == .plain, "reshape of a \(layout) tensor: convert it to plain first")
        var copy = self
        copy.shape = resolved
        return copy
    }

    public var description: String {
        "Tensor(shape: \(shape), \(layout == .plain ? "" : "layout: \(layout), ")scalars: \(scalars.prefix(8))\(count > 8 ? "..." : ""))"
    }

    // MARK: Elementwise arithmetic (the optimizer and losses use these; layers work on buffers)

    /// Applies `body` to every element, keeping the layout.
    public func map(_ body: (Float) -> Float) -> Tensor {
        Tensor(shape: shape, scalars: scalars.withUnsafeBufferPointer { source in
            .filled(count: count) { out in for index in source.indices { out[index] = body(source[index]) } }
        }, layout: layout)
    }

    /// Combines two tensors of the same shape and layout element by element.
    public func zip(_ other: Tensor, _ body: (Float, Float) -> Float) -> Tensor {
        precondition(shape == other.shape, "shapes \(shape) and \(other.shape) differ")
        precondition(layout == other.layout, "layouts \(layout) and \(other.layout) differ")
        return Tensor(shape: shape, scalars: scalars.withUnsafeBufferPointer { lhs in
            other.scalars.withUnsafeBufferPointer { rhs in
                .filled(count: count) { out in for index in lhs.indices { out[index] = body(lhs[index], rhs[index]) } }
            }
        }, layout: layout)
    }

    /// A tensor of the same shape and layout whose elements `fill(x, out, range)` writes, slice
    /// by slice over the rank's threads: the activations' loops, written inside `fill` so each
    /// compiles to a vectorised loop rather than a call per element.
    func elementwise(_ fill: (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Range<Int>) -> Void) -> Tensor {
        Tensor(shape: shape, scalars: scalars.withUnsafeBufferPointer { source in
            .filled(count: count) { out in Parallel.forEach(count) { range in fill(source.baseAddress!, out, range) } }
        }, layout: layout)
    }

    /// Like `elementwise`, reading this tensor and `other` (same shape and layout) side by side.
    func elementwise(with other: Tensor,
                     _ fill: (UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>, Range<Int>) -> Void) -> Tensor {
        precondition(shape == other.shape, "shapes \(shape) and \(other.shape) differ")
        precondition(layout == other.layout, "layouts \(layout) and \(other.layout) differ")
        return Tensor(shape: shape, scalars: scalars.withUnsafeBufferPointer { lhs in
            other.scalars.withUnsafeBufferPointer { rhs in
                .filled(count: count) { out in
                    Parallel.forEach(count) { range in fill(lhs.baseAddress!, rhs.baseAddress!, out, range) }
                }
            }
        }, layout: layout)
    }

    /// `self += other * scale`, in place.
    public mutating func add(_ other: Tensor, scaledBy scale: Float = 1) {
        precondition(shape == other.shape, "shapes \(shape) and \(other.shape) differ")
        precondition(layout == other.layout, "layouts \(layout) and \(other.layout) differ")
        scalars.withUnsafeMutableBufferPointer { out in
            other.scalars.withUnsafeBufferPointer { rhs in
                for index in out.indices { out[index] += rhs[index] * scale }
            }
        }
    }

    public static func + (lhs: Tensor, rhs: Tensor) -> Tensor { lhs.zip(rhs, +) }
    public static func - (lhs: Tensor, rhs: Tensor) -> Tensor { lhs.zip(rhs, -) }
    public static func * (lhs: Tensor, rhs: Tensor) -> Tensor { lhs.zip(rhs, *) }
    public static func * (lhs: Tensor, rhs: Float) -> Tensor { lhs.map { $0 * rhs } }

    /// The sum of all elements, accumulated in `Double`.
    public func sum() -> Float {
        Float(scalars.reduce(0.0) { $0 + Double($1) })
    }

    public func mean() -> Float { count == 0 ? 0 : sum() / Float(count) }
}
