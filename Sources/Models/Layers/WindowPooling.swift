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
        // Each output's source offset, written by the threads at their own outputs: its backward
        // adds the gradient there (the first maximum, as PyTorch's).
        let winners = UnsafeMutableBufferPointer<Int>.allocate(capacity: geometry.outputCount)
        let y = geometry.map(x) { source, offsets, output in
            var (best, winner) = (-Float.infinity, offsets[0])
            for offset in offsets where source[offset] > best || source[offset].isNaN { (best, winner) = (source[offset], offset) }
            winners[output] = winner
            return best
        }
        let chosen = Array(winners)
        winners.deallocate()
        return Variable.result(y, of: [input]) { dy in
            let dy = dy.converted(to: x.layout).scalars
            var dx = [Float](repeating: 0, count: x.count)
            for (output, winner) in chosen.enumerated() { dx[winner] += dy[output] }
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
        let y = geometry.map(x) { source, offsets, _ in
            var sum: Float = 0
            for offset in offsets { sum += source[offset] }
            return sum / Float(offsets.count)
        }
        return Variable.result(y, of: [input]) { dy in
            let dy = dy.converted(to: x.layout).scalars
            var dx = [Float](repeating: 0, count: x.count)
            geometry.visit { offsets, output in
                let share = dy[output] / Float(offsets.count)
                for offset in offsets { dx[offset] += share }
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

    /// The output whose every value is `reduce(input, the window's offsets in the input, the output's offset)`,
    /// planes split over the rank's threads.
    func map(_ x: Tensor, _ reduce: (UnsafePointer<Float>, [Int], Int) -> Float) -> Tensor {
        let scalars = x.scalars.withUnsafeBufferPointer { source in
            [Float].filled(count: outputCount) { out in
                Parallel.forEach(planes, workPerItem: outHeight * outWidth * lanes * window.kernel * window.kernel) { range in
                    visit(planes: range) { offsets, output in out[output] = reduce(source.baseAddress!, offsets, output) }
                }
            }
        }
        return Tensor(shape: outputShape, scalars: scalars, layout: layout)
    }

    /// Calls `body(the window's offsets in the input, the output's offset)` for every output, in order.
    func visit(_ body: ([Int], Int) -> Void) { visit(planes: 0..<planes, body) }

    private func visit(planes range: Range<Int>, _ body: ([Int], Int) -> Void) {
        let (height, width, lanes) = (shape[2], shape[3], lanes)
        let (inPlane, outPlane) = (height * width * lanes, outHeight * outWidth * lanes)
        var offsets: [Int] = []
        offsets.reserveCapacity(window.kernel * window.kernel)
        for plane in range {
            for oh in 0..<outHeight {
                let rows = max(0, oh * window.stride - window.padding)..<min(height, oh * window.stride - window.padding + window.kernel)
                for ow in 0..<outWidth {
                    let columns = max(0, ow * window.stride - window.padding)..<min(width, ow * window.stride - window.padding + window.kernel)
                    for lane in 0..<lanes {
                        offsets.removeAll(keepingCapacity: true)
                        for h in rows { for w in columns { offsets.append(plane * inPlane + (h * width + w) * lanes + lane) } }
                        body(offsets, plane * outPlane + (oh * outWidth + ow) * lanes + lane)
                    }
                }
            }
        }
    }
}
