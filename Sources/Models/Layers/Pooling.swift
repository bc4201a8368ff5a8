/// Spatial resizing by two and summing over positions: the residual networks' up- and
/// down-sampling and the head of their discriminators. The first two keep their input's layout, so
/// they sit between oneDNN's convolutions without a reorder.

/// PyTorch's `F.interpolate(x, scale_factor=2, mode="nearest")`: every pixel repeated 2×2.
/// - input `[N, C, H, W]`, output `[N, C, 2H, 2W]`
public final class NearestUpsample: Layer {
    public init() {}

    public func callAsFunction(_ input: Variable) -> Variable {
        let x = input.value
        precondition(x.rank == 4, "NearestUpsample takes [N, C, H, W], got \(x.shape)")
        let blocks = PixelBlocks(x.shape, layout: x.layout)
        return Variable.result(blocks.spread(x, scale: 1), of: [input]) { dy in input.accumulate(blocks.gather(dy, scale: 1)) }
    }
}

/// PyTorch's `nn.AvgPool2d(2)`: the mean of each 2×2 block (H and W even).
/// - input `[N, C, H, W]`, output `[N, C, H/2, W/2]`
public final class AvgPool2d: Layer {
    public init() {}

    public func callAsFunction(_ input: Variable) -> Variable {
        let x = input.value
        precondition(x.rank == 4 && x.shape[2] % 2 == 0 && x.shape[3] % 2 == 0, "AvgPool2d(2) takes [N, C, H, W] of even sides, got \(x.shape)")
        let blocks = PixelBlocks([x.shape[0], x.shape[1], x.shape[2] / 2, x.shape[3] / 2], layout: x.layout)
        return Variable.result(blocks.gather(x, scale: 0.25), of: [input]) { dy in input.accumulate(blocks.spread(dy, scale: 0.25)) }
    }
}

/// The sum over every position of each channel (SNGAN's `torch.sum(h, dim=[2, 3])`).
/// - input `[N, C, H, W]`, output `[N, C]`
public final class SpatialSum: Layer {
    public init() {}

    public func callAsFunction(_ input: Variable) -> Variable {
        let x = input.value.converted(to: .plain)
        precondition(x.rank == 4, "SpatialSum takes [N, C, H, W], got \(x.shape)")
        let positions = x.shape[2] * x.shape[3]
        let y = x.scalars.withUnsafeBufferPointer { x in
            Tensor(shape: [input.value.shape[0], input.value.shape[1]]) { plane in
                var sum: Float = 0
                for offset in plane * positions..<(plane + 1) * positions { sum += x[offset] }
                return sum
            }
        }
        return Variable.result(y, of: [input]) { [shape = x.shape, layout = input.value.layout] dy in
            input.accumulate(Tensor(shape: shape) { dy.scalars[$0 / positions] }.converted(to: layout))
        }
    }
}

/// An image `[N, C, H, W]` (the small side) and the one of twice its height and width (the
/// large side), in one layout: each small pixel and the 2×2 large pixels over it.
struct PixelBlocks {
    let small: [Int]
    let layout: TensorLayout
    /// The storage seen as planes of pixels with `lanes` values side by side: one channel each in
    /// the plain layout, a block of channels each in oneDNN's.
    private let planes: Int, lanes: Int

    init(_ small: [Int], layout: TensorLayout) {
        (self.small, self.layout) = (small, layout)
        switch layout {
        case .plain: (planes, lanes) = (small[0] * small[1], 1)
        case .channelBlocks(let width): (planes, lanes) = (small[0] * small[1] / width, width)
        }
    }

    private var large: [Int] { [small[0], small[1], 2 * small[2], 2 * small[3]] }

    /// The large image holding `scale` times each small pixel of `image` in its 2×2 block.
    func spread(_ image: Tensor, scale: Float) -> Tensor {
        precondition(image.shape == small && image.layout == layout, "got \(image.shape) in \(image.layout), expected \(small) in \(layout)")
        return Tensor(shape: large, scalars: visit(image, count: 4 * image.count) { small, large, pixel, corners in
            let value = small[pixel] * scale
            (large[corners.0], large[corners.1], large[corners.2], large[corners.3]) = (value, value, value, value)
        }, layout: layout)
    }

    /// The small image holding `scale` times the sum of each 2×2 block of `image`.
    func gather(_ image: Tensor, scale: Float) -> Tensor {
        precondition(image.shape == large && image.layout == layout, "got \(image.shape) in \(image.layout), expected \(large) in \(layout)")
        return Tensor(shape: small, scalars: visit(image, count: image.count / 4) { large, small, pixel, corners in
            small[pixel] = (large[corners.0] + large[corners.1] + large[corners.2] + large[corners.3]) * scale
        }, layout: layout)
    }

    /// Calls `body(source, out, small pixel, its four large pixels)` on every small pixel's offset
    /// and those of the large ones over it, planes split over the rank's threads.
    @inline(__always)
    private func visit(_ source: Tensor, count: Int,
                       _ body: (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int, Corners) -> Void) -> [Float] {
        let (height, width, lanes) = (small[2], small[3], lanes)
        let (smallPlane, largeRow) = (height * width * lanes, 2 * width * lanes)
        return source.scalars.withUnsafeBufferPointer { source in
            [Float].filled(count: count) { out in
                Parallel.forEach(planes, workPerItem: 4 * smallPlane) { range in
                    for plane in range {
                        for h in 0..<height {
                            for w in 0..<width {
                                let corner = 4 &* plane &* smallPlane &+ 2 &* h &* largeRow &+ 2 &* w &* lanes
                                let pixel = plane &* smallPlane &+ (h &* width &+ w) &* lanes
                                for lane in 0..<lanes {
                                    let first = corner &+ lane
                                    body(source.baseAddress!, out, pixel &+ lane,
                                         (first, first &+ lanes, first &+ largeRow, first &+ largeRow &+ lanes))
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The storage offsets of a 2×2 block of pixels: top left, top right, bottom left, bottom right.
typealias Corners = (Int, Int, Int, Int)
