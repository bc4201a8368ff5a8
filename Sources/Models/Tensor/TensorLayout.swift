/// Data movement between layouts: transposes, concatenation and slices along an axis.
extension Tensor {
    /// Writes the `[rows, columns]` matrix at `source` transposed into `destination`.
    static func transpose(_ source: UnsafeBufferPointer<Float>, into destination: UnsafeMutableBufferPointer<Float>, rows: Int, columns: Int) {
        guard let from = source.baseAddress, let to = destination.baseAddress else { return }
        // Eight rows at a time: eight sequential read streams, and each column's eight values
        // land side by side in the destination, so both sides stay in cache lines.
        let band = 8
        var row = 0
        while row &+ band <= rows {
            for column in 0..<columns {
                let target = to + (column &* rows &+ row)
                let origin = from + (row &* columns &+ column)
                for offset in 0..<band { target[offset] = origin[offset &* columns] }
            }
            row &+= band
        }
        for rest in row..<rows {
            for column in 0..<columns { to[column &* rows &+ rest] = from[rest &* columns &+ column] }
        }
    }

    /// Tensors concatenated along `axis`; every other dimension must agree. Plain tensors, or
    /// images all in one channel-block layout joined along the channels: in `[N, C/w, H, W, w]`
    /// each image's blocks are one run as in plain `[N, C, H, W]`, so the same copies join them.
    public static func concatenate(_ parts: [Tensor], axis: Int) -> Tensor {
        precondition(!parts.isEmpty, "nothing to concatenate")
        let layout = parts[0].layout
        precondition(parts.allSatisfy { $0.layout == layout } && (layout == .plain || axis == 1),
                     "concatenate takes plain tensors, or images in one channel-block layout along the channels")
        let first = parts[0].shape
        for part in parts {
            precondition(part.rank == first.count && (0..<first.count).allSatisfy { $0 == axis || part.shape[$0] == first[$0] },
                         "cannot concatenate shapes \(parts.map(\.shape)) along axis \(axis)")
        }
        let outer = first[..<axis].reduce(1, *)
        let inner = first[(axis + 1)...].reduce(1, *)
        var shape = first
        shape[axis] = parts.reduce(0) { $0 + $1.shape[axis] }
        var result = [Float]()
        result.reserveCapacity(shape.reduce(1, *))
        for block in 0..<outer {
            for part in parts {
                let width = part.shape[axis] * inner
                result.append(contentsOf: part.scalars[(block * width)..<((block + 1) * width)])
            }
        }
        return Tensor(shape: shape, scalars: result, layout: layout)
    }

    /// The elements with index `range` along `axis`: of a plain tensor, or of an image in a
    /// channel-block layout along the channels in whole blocks (one run per image, as plain).
    public func slice(_ range: Range<Int>, axis: Int) -> Tensor {
        precondition(range.lowerBound >= 0 && range.upperBound <= shape[axis], "slice \(range) out of \(shape) on axis \(axis)")
        precondition(layout == .plain || (axis == 1 && layout.fits([1, range.lowerBound, 1, 1]) && layout.fits([1, range.count, 1, 1])),
                     "slice takes a plain tensor, or whole channel blocks of an image")
        let outer = shape[..<axis].reduce(1, *)
        let inner = shape[(axis + 1)...].reduce(1, *)
        var result = [Float]()
        result.reserveCapacity(outer * range.count * inner)
        for block in 0..<outer {
            let base = block * shape[axis] * inner
            result.append(contentsOf: scalars[(base + range.lowerBound * inner)..<(base + range.upperBound * inner)])
        }
        var newShape = shape
        newShape[axis] = range.count
        return Tensor(shape: newShape, scalars: result, layout: layout)
    }
}

/// The order of a tensor's elements in memory.
public enum TensorLayout: Hashable, Sendable, CustomStringConvertible {
    /// Row-major in the shape's order (NCHW for images): what everything outside the
    /// convolution layers reads, and what checkpoints store.
    case plain
    /// An image `[N, C, H, W]` stored as `[N, C/width, H, W, width]`: channels in blocks of
    /// `width`, the layout oneDNN's convolution kernels run on (oneDNN's nChw16c, nChw8c).
    /// C is a multiple of `width`, so the storage holds exactly the shape's elements.
    case channelBlocks(width: Int)

    public var description: String {
        switch self {
        case .plain: "plain"
        case .channelBlocks(let width): "nChw\(width)c"
        }
    }

    func fits(_ shape: [Int]) -> Bool {
        switch self {
        case .plain: true
        case .channelBlocks(let width): shape.count == 4 && shape[1] % width == 0
        }
    }
}

extension Tensor {
    /// The same values in `target` layout (the tensor itself when it is already in it).
    public func converted(to target: TensorLayout) -> Tensor {
        guard target != layout else { return self }
        precondition(target.fits(shape), "layout \(target) does not fit shape \(shape)")
        let result = scalars.withUnsafeBufferPointer { source in
            [Float].filled(count: count) { DNNL.reorder(source.baseAddress!, from: layout, into: $0, to: target, dimensions: shape) }
        }
        return Tensor(shape: shape, scalars: result, layout: target)
    }

    /// The rows (entries of axis 0) at `indices`, in that order, repeats allowed: `[indices.count, ...]`.
    public func rows(_ indices: [Int]) -> Tensor {
        precondition(layout == .plain, "rows takes a plain tensor")
        let size = shape[0] == 0 ? 0 : count / shape[0]
        var result = [Float]()
        result.reserveCapacity(indices.count * size)
        for index in indices { result.append(contentsOf: scalars[index * size..<(index + 1) * size]) }
        return Tensor(shape: [indices.count] + shape.dropFirst(), scalars: result)
    }
}

extension Tensor {
    /// `transform` of consecutive slices of at most `size` rows, its results joined along the rows:
    /// inference on a large batch without holding all of its activations at once.
    public func mappingRows(inChunksOf size: Int, _ transform: (Tensor) throws -> Tensor) rethrows -> Tensor {
        let rows = shape[0]
        let parts = try stride(from: 0, to: rows, by: size).map { start in try transform(slice(start..<Swift.min(start + size, rows), axis: 0)) }
        return Tensor.concatenate(parts, axis: 0)
    }
}
