/// PyTorch's `F.interpolate(x, size: (height, width), mode: "bilinear", align_corners: false)`:
/// each output pixel a weighted mean of the four input pixels around its centre mapped back by
/// the ratio of the sizes (edges clamped), in Float as PyTorch computes it on the CPU.
/// - input `[N, C, H, W]`, output `[N, C, height, width]` (plain)
public final class BilinearResize: Layer {
    public let height: Int, width: Int

    public init(height: Int, width: Int) {
        precondition(height >= 1 && width >= 1, "BilinearResize to \(height)×\(width)")
        (self.height, self.width) = (height, width)
    }

    public func callAsFunction(_ input: Variable) -> Variable {
        let x = input.value.converted(to: .plain)
        precondition(x.rank == 4, "BilinearResize takes [N, C, H, W], got \(x.shape)")
        let (planes, inHeight, inWidth) = (x.shape[0] * x.shape[1], x.shape[2], x.shape[3])
        let (rows, columns) = (Taps(from: inHeight, to: height), Taps(from: inWidth, to: width))
        let (inPlane, outPlane) = (inHeight * inWidth, height * width)
        let scalars = x.scalars.withUnsafeBufferPointer { source in
            [Float].filled(count: planes * outPlane) { out in
                Parallel.forEach(planes, workPerItem: 4 * outPlane) { range in
                    for plane in range {
                        let (from, to) = (source.baseAddress! + plane * inPlane, out + plane * outPlane)
                        for row in 0..<height {
                            let (top, bottom) = (from + rows.first[row] * inWidth, from + rows.second[row] * inWidth)
                            let (upper, lower) = (rows.firstWeight[row], rows.secondWeight[row])
                            for column in 0..<width {
                                let (left, right) = (columns.first[column], columns.second[column])
                                let (near, far) = (columns.firstWeight[column], columns.secondWeight[column])
                                to[row * width + column] = upper * (near * top[left] + far * top[right]) + lower * (near * bottom[left] + far * bottom[right])
                            }
                        }
                    }
                }
            }
        }
        let shape = [x.shape[0], x.shape[1], height, width]
        return Variable.result(Tensor(shape: shape, scalars: scalars), of: [input]) { [height, width] dy in
            let dy = dy.converted(to: .plain).scalars
            var dx = [Float](repeating: 0, count: x.count)
            for plane in 0..<planes {
                for row in 0..<height {
                    for column in 0..<width {
                        let gradient = dy[plane * outPlane + row * width + column]
                        for (r, rowWeight) in [(rows.first[row], rows.firstWeight[row]), (rows.second[row], rows.secondWeight[row])] {
                            for (c, columnWeight) in [(columns.first[column], columns.firstWeight[column]),
                                                      (columns.second[column], columns.secondWeight[column])] {
                                dx[plane * inPlane + r * inWidth + c] += gradient * rowWeight * columnWeight
                            }
                        }
                    }
                }
            }
            input.accumulate(Tensor(shape: x.shape, scalars: dx).converted(to: input.value.layout))
        }
    }

    /// Along one axis, each output index's two source indices and their weights.
    private struct Taps {
        var first: [Int] = [], second: [Int] = []
        var firstWeight: [Float] = [], secondWeight: [Float] = []

        init(from inSize: Int, to outSize: Int) {
            let scale = Float(inSize) / Float(outSize)
            for index in 0..<outSize {
                let source = max(0, scale * (Float(index) + 0.5) - 0.5)
                let lower = Int(source)
                let weight = source - Float(lower)
                first.append(lower)
                second.append(lower + (lower < inSize - 1 ? 1 : 0))
                firstWeight.append(1 - weight)
                secondWeight.append(weight)
            }
        }
    }
}
