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
        Parallel.forEach(batch, workPerItem: positions * windowSize) { samples in
            for n in samples {
                im2col(image: images + n * channels * height * width, into: columns + n * positions * windowSize)
            }
        }
    }

    /// The adjoint of `im2col`: adds each row of `columns` `[N * OH * OW, C * k * k]` back onto
    /// the window it came from in `images` `[N, C, H, W]`, which must start zeroed.
    func col2im(_ columns: UnsafePointer<Float>, batch: Int, into images: UnsafeMutablePointer<Float>) {
        Parallel.forEach(batch, workPerItem: positions * windowSize) { samples in
            for n in samples {
                col2im(columns + n * positions * windowSize, into: images + n * channels * height * width)
            }
        }
    }

    /// One image `[C, H, W]` into its `[OH * OW, C * k * k]` rows.
    private func im2col(image: UnsafePointer<Float>, into columns: UnsafeMutablePointer<Float>) {
        let k = kernel
        var row = columns
        for y in 0..<outputHeight {
            for x in 0..<outputWidth {
                // The window's columns inside the image: `first..<last` of each kernel row.
                let left = x &* stride &- padding
                let first = max(0, -left), last = min(k, width - left)
                for c in 0..<channels {
                    let plane = image + (c &* height &* width)
                    for ky in 0..<k {
                        let iy = y &* stride &- padding &+ ky
                        if iy < 0 || iy >= height || first >= last {
                            for kx in 0..<k { row[kx] = 0 }
                        } else {
                            // Runs are a kernel's width: a plain loop beats a memmove call per run.
                            let line = plane + (iy &* width &+ left)
                            for kx in 0..<first { row[kx] = 0 }
                            for kx in first..<last { row[kx] = line[kx] }
                            for kx in last..<k { row[kx] = 0 }
                        }
                        row += k
                    }
                }
            }
        }
    }

    /// One image's `[OH * OW, C * k * k]` rows added back onto `[C, H, W]`.
    private func col2im(_ columns: UnsafePointer<Float>, into image: UnsafeMutablePointer<Float>) {
        let k = kernel
        var row = columns
        for y in 0..<outputHeight {
            for x in 0..<outputWidth {
                let left = x &* stride &- padding
                let first = max(0, -left), last = min(k, width - left)
                for c in 0..<channels {
                    let plane = image + (c &* height &* width)
                    for ky in 0..<k {
                        let iy = y &* stride &- padding &+ ky
                        if iy >= 0 && iy < height && first < last {
                            let line = plane + (iy &* width &+ left)
                            for kx in first..<last { line[kx] += row[kx] }  // bounds: first..<last lies inside the line
                        }
                        row += k
                    }
                }
            }
        }
    }
}

/// Moves `[N, C, P]` (channels first) to `[N, P, C]` (channels last), or back with the sizes swapped.
func transposeInnerTwo(_ source: UnsafePointer<Float>, into destination: UnsafeMutablePointer<Float>, batch: Int, rows: Int, columns: Int) {
    let plane = rows * columns
    Parallel.forEach(batch, workPerItem: plane) { samples in
        for n in samples {
            Tensor.transpose(UnsafeBufferPointer(start: source + n * plane, count: plane),
                             into: UnsafeMutableBufferPointer(start: destination + n * plane, count: plane), rows: rows, columns: columns)
        }
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
