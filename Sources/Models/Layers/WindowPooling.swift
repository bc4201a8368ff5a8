/// Pooling over a sliding window, as the Inception network needs it: PyTorch's
/// `nn.MaxPool2d(k, stride, padding)` and `F.avg_pool2d(k, stride, padding, count_include_pad=False)`
/// (TensorFlow's average, which the FID Inception was trained with). Both keep their input's
/// layout, plain or in oneDNN's channel blocks, so they sit between convolutions without a reorder.

/// The maximum of each window; padding never wins.
/// - input `[N, C, H, W]`, output `[N, C, OH, OW]`, `OH = (H + 2·padding − kernel) / stride + 1` (likewise OW)
public final class MaxPool2d: Layer {
    let window: PoolingWindow

    public init(kernel: Int, stride: Int, padding: Int = 0) {
        window = PoolingWindow(kernel: kernel, stride: stride, padding: padding)
    }

    public func callAsFunction(_ input: Variable) -> Variable {
        let x = input.value
        let geometry = window.geometry(of: x, layer: "MaxPool2d")
        let y = geometry.reduce(x, maximum: true)
        return Variable.result(y, of: [input]) { dy in
            // Each output's gradient goes to its window's first maximum, as PyTorch's does.
            let dy = dy.converted(to: x.layout).scalars
            var dx = [Float](repeating: 0, count: x.count)
            x.scalars.withUnsafeBufferPointer { source in
                geometry.visit { span, output in
                    var (best, winner) = (-Float.infinity, -1)
                    span.forEach { offset in if winner < 0 || source[offset] > best { (best, winner) = (source[offset], offset) } }
                    dx[winner] += dy[output]
                }
            }
            input.accumulate(Tensor(shape: x.shape, scalars: dx, layout: x.layout))
        }
    }
}

/// The mean of each window over the positions inside the image (padding is not counted).
/// - input `[N, C, H, W]`, output `[N, C, OH, OW]`, `OH = (H + 2·padding − kernel) / stride + 1` (likewise OW)
public final class AvgPool2dOverImage: Layer {
    let window: PoolingWindow

    public init(kernel: Int, stride: Int, padding: Int = 0) {
        window = PoolingWindow(kernel: kernel, stride: stride, padding: padding)
    }

    public func callAsFunction(_ input: Variable) -> Variable {
        let x = input.value
        let geometry = window.geometry(of: x, layer: "AvgPool2dOverImage")
        let y = geometry.reduce(x, maximum: false)
        return Variable.result(y, of: [input]) { dy in
            let dy = dy.converted(to: x.layout).scalars
            var dx = [Float](repeating: 0, count: x.count)
            geometry.visit { span, output in
                let share = dy[output] / Float(span.count)
                span.forEach { dx[$0] += share }
            }
            input.accumulate(Tensor(shape: x.shape, scalars: dx, layout: x.layout))
        }
    }
}

/// A square window's size, step and zero padding on every side.
struct PoolingWindow {
    let kernel: Int, stride: Int, padding: Int

    init(kernel: Int, stride: Int, padding: Int) {
        precondition(kernel >= 1 && stride >= 1 && padding >= 0 && padding < kernel, "pooling: kernel \(kernel), stride \(stride), padding \(padding)")
        (self.kernel, self.stride, self.padding) = (kernel, stride, padding)
    }

    func geometry(of x: Tensor, layer: String) -> PoolingGeometry {
        precondition(x.rank == 4, "\(layer) takes [N, C, H, W], got \(x.shape)")
        let (height, width) = (x.shape[2], x.shape[3])
        precondition(height + 2 * padding >= kernel && width + 2 * padding >= kernel, "\(layer)(\(kernel)) got an image of \(height)×\(width)")
        return PoolingGeometry(window: self, shape: x.shape, layout: x.layout,
                               outHeight: (height + 2 * padding - kernel) / stride + 1, outWidth: (width + 2 * padding - kernel) / stride + 1)
    }
}

/// One pooling's input and output, as planes of pixels with `lanes` values side by side: one
/// channel each in the plain layout, a block of channels each in oneDNN's.
struct PoolingGeometry {
    let window: PoolingWindow
    let shape: [Int]
    let layout: TensorLayout
    let outHeight: Int, outWidth: Int
    private var planes: Int { layout == .plain ? shape[0] * shape[1] : shape[0] * shape[1] / lanes }
    private var lanes: Int {
        switch layout {
        case .plain: 1
        case .channelBlocks(let width): width
        }
    }
    var outputShape: [Int] { [shape[0], shape[1], outHeight, outWidth] }
    var outputCount: Int { outputShape.reduce(1, *) }

    /// Each window's maximum, or its mean over the pixels inside the image: a window's pixels
    /// in the outer loops and the lanes (a block of channels) innermost, contiguous, so the
    /// blocked layout's sixteen channels go in one vector; planes split over the rank's threads.
    func reduce(_ x: Tensor, maximum: Bool) -> Tensor {
        let (height, width, lanes) = (shape[2], shape[3], lanes)
        let (inPlane, outPlane) = (height * width * lanes, outHeight * outWidth * lanes)
        let (kernel, stride, padding) = (window.kernel, window.stride, window.padding)
        let scalars = x.scalars.withUnsafeBufferPointer { source in
            [Float].filled(count: outputCount) { out in
                Parallel.forEach(planes, workPerItem: outPlane * kernel * kernel) { range in
                    for plane in range {
                        let from = source.baseAddress! + plane &* inPlane
                        for oh in 0..<outHeight {
                            let top = oh &* stride &- padding
                            let rows = max(0, top)..<min(height, top &+ kernel)
                            for ow in 0..<outWidth {
                                let left = ow &* stride &- padding
                                let columns = max(0, left)..<min(width, left &+ kernel)
                                let offset: Int = plane &* outPlane &+ (oh &* outWidth &+ ow) &* lanes
                                let to: UnsafeMutablePointer<Float> = out + offset
                                let start: Float = maximum ? -.infinity : 0
                                for lane in 0..<lanes { to[lane] = start }
                                for h in rows {
                                    for w in columns {
                                        let pixel: UnsafePointer<Float> = from + (h &* width &+ w) &* lanes
                                        if maximum {
                                            for lane in 0..<lanes { to[lane] = Swift.max(to[lane], pixel[lane]) }
                                        } else {
                                            for lane in 0..<lanes { to[lane] += pixel[lane] }
                                        }
                                    }
                                }
                                if !maximum {
                                    let scale = 1 / Float(rows.count &* columns.count)
                                    for lane in 0..<lanes { to[lane] *= scale }
                                }
                            }
                        }
                    }
                }
            }
        }
        return Tensor(shape: outputShape, scalars: scalars, layout: layout)
    }

    /// Calls `body(the window, the output's offset)` for every output, in order: the backward passes.
    func visit(_ body: (Span, Int) -> Void) { visit(planes: 0..<planes, body) }

    /// One output's window: the input offsets `base + (h·width + w)·lanes` for h in `rows`, w in `columns`.
    struct Span {
        let base: Int, rows: Range<Int>, columns: Range<Int>, width: Int, lanes: Int
        var count: Int { rows.count * columns.count }

        @inline(__always)
        func forEach(_ body: (Int) -> Void) {
            for h in rows {
                var offset = base &+ (h &* width &+ columns.lowerBound) &* lanes
                for _ in columns {
                    body(offset)
                    offset &+= lanes
                }
            }
        }
    }

    private func visit(planes range: Range<Int>, _ body: (Span, Int) -> Void) {
        let (height, width, lanes) = (shape[2], shape[3], lanes)
        let (inPlane, outPlane) = (height * width * lanes, outHeight * outWidth * lanes)
        for plane in range {
            for oh in 0..<outHeight {
                let top = oh * window.stride - window.padding
                let rows = max(0, top)..<min(height, top + window.kernel)
                for ow in 0..<outWidth {
                    let left = ow * window.stride - window.padding
                    let columns = max(0, left)..<min(width, left + window.kernel)
                    for lane in 0..<lanes {
                        body(Span(base: plane * inPlane + lane, rows: rows, columns: columns, width: width, lanes: lanes),
                             plane * outPlane + (oh * outWidth + ow) * lanes + lane)
                    }
                }
            }
        }
    }
}
