/// The window arithmetic shared by `Conv2d` and `ConvTranspose2d`: how a `[C, H, W]` image
/// maps to output positions under a square kernel, stride and zero padding, and the
/// im2col/col2im transforms that turn a convolution into one matrix product.
struct ConvolutionGeometry {
    let channels: Int
    let height: Int
    let width: Int
    let kernel: Int
    let stride: Int
    let padding: Int

    var outputHeight: Int { (height + 2 * padding - kernel) / stride + 1 }
    var outputWidth: Int { (width + 2 * padding - kernel) / stride + 1 }
    /// Output positions per image, `OH * OW`.
    var positions: Int { outputHeight * outputWidth }
    /// Values in one window, `C * k * k`: the row length of the column matrix.
    var windowSize: Int { channels * kernel * kernel }

    /// Unfolds `images` `[N, C, H, W]` into `columns` `[N * OH * OW, C * k * k]`, one row per
    /// output position; positions outside the image read zero.
    func im2col(_ images: UnsafePointer<Float>, batch: Int, into columns: UnsafeMutablePointer<Float>) {
        let (oh, ow, k, window) = (outputHeight, outputWidth, kernel, windowSize)
        for n in 0..<batch {
            let image = images + n * channels * height * width
            for y in 0..<oh {
                for x in 0..<ow {
                    var row = columns + ((n * oh + y) * ow + x) * window
                    for c in 0..<channels {
                        let plane = image + c * height * width
                        for ky in 0..<k {
                            let iy = y * stride - padding + ky
                            if iy < 0 || iy >= height {
                                row.update(repeating: 0, count: k)
                            } else {
                                let line = plane + iy * width
                                for kx in 0..<k {
                                    let ix = x * stride - padding + kx
                                    row[kx] = ix >= 0 && ix < width ? line[ix] : 0
                                }
                            }
                            row += k
                        }
                    }
                }
            }
        }
    }

    /// The adjoint of `im2col`: adds each row of `columns` `[N * OH * OW, C * k * k]` back onto
    /// the window it came from in `images` `[N, C, H, W]`, which must start zeroed.
    func col2im(_ columns: UnsafePointer<Float>, batch: Int, into images: UnsafeMutablePointer<Float>) {
        let (oh, ow, k, window) = (outputHeight, outputWidth, kernel, windowSize)
        for n in 0..<batch {
            let image = images + n * channels * height * width
            for y in 0..<oh {
                for x in 0..<ow {
                    var row = columns + ((n * oh + y) * ow + x) * window
                    for c in 0..<channels {
                        let plane = image + c * height * width
                        for ky in 0..<k {
                            let iy = y * stride - padding + ky
                            if iy >= 0 && iy < height {
                                let line = plane + iy * width
                                for kx in 0..<k {
                                    let ix = x * stride - padding + kx
                                    if ix >= 0 && ix < width { line[ix] += row[kx] }
                                }
                            }
                            row += k
                        }
                    }
                }
            }
        }
    }
}

/// Moves `[N, C, P]` (channels first) to `[N, P, C]` (channels last), or back with the sizes swapped.
func transposeInnerTwo(_ source: UnsafePointer<Float>, into destination: UnsafeMutablePointer<Float>, batch: Int, rows: Int, columns: Int) {
    let plane = rows * columns
    for n in 0..<batch {
        Tensor.transpose(UnsafeBufferPointer(start: source + n * plane, count: plane),
                         into: UnsafeMutableBufferPointer(start: destination + n * plane, count: plane), rows: rows, columns: columns)
    }
}

/// Adds `bias[c]` to every position of channel `c` of `[N, C, P]`.
func addChannelBias(_ bias: UnsafePointer<Float>, to values: UnsafeMutablePointer<Float>, batch: Int, channels: Int, positions: Int) {
    for n in 0..<batch {
        for c in 0..<channels {
            let plane = values + (n * channels + c) * positions
            let b = bias[c]
            for p in 0..<positions { plane[p] += b }
        }
    }
}

/// Adds Σ over N and P of `[N, C, P]` into `sums[c]`.
func accumulateChannelSums(_ values: UnsafePointer<Float>, into sums: UnsafeMutablePointer<Float>, batch: Int, channels: Int, positions: Int) {
    for n in 0..<batch {
        for c in 0..<channels {
            let plane = values + (n * channels + c) * positions
            var total: Float = 0
            for p in 0..<positions { total += plane[p] }
            sums[c] += total
        }
    }
}
