/// Where each channel's values lie in a `[N, C]` or `[N, C, H, W]` tensor's storage, in either
/// layout, so BatchNorm and the convolutions' biases run on oneDNN's layout without a reorder.
///
/// The storage is visited a block at a time: one sample's values of `lanes` neighbouring
/// channels, position by position, so the loop over lanes is contiguous and vectorises (16
/// lanes in a blocked image, all of a thread's features in `[N, C]`, one plain image channel).
/// Blocks of different channels may run at once on the rank's threads; each channel's samples
/// and positions are visited in order, so per-channel sums do not depend on the thread count.
struct ChannelRuns {
    let batch: Int, channels: Int, positions: Int
    let layout: TensorLayout
    /// Where the first visited sample starts in the storage: samples are outermost in every
    /// layout, so a shard of rows is a contiguous run of it.
    let start: Int

    /// One sample's values of channels `first..<first + lanes`: channel `first + l` at position
    /// `p` is element `base + p · stride + l`.
    struct Block {
        let first: Int, lanes: Int, base: Int, positions: Int, stride: Int
    }

    /// The runs of `x`'s samples `rows` (all of them by default).
    init(_ x: Tensor, rows: Range<Int>? = nil) {
        (channels, positions, layout) = (x.shape[1], x.rank == 4 ? x.shape[2] * x.shape[3] : 1, x.layout)
        let rows = rows ?? 0..<x.shape[0]
        (batch, start) = (rows.count, rows.lowerBound * channels * positions)
    }

    /// Calls `body` on every block; calls for different channels may run at once.
    @inline(__always)
    func forEachBlock(_ body: (Block) -> Void) {
        let (batch, channels, positions, start) = (batch, channels, positions, start)
        switch layout {
        case .plain where positions == 1:
            Parallel.forEach(channels, workPerItem: batch) { range in
                for n in 0..<batch {
                    body(Block(first: range.lowerBound, lanes: range.count, base: start &+ n &* channels &+ range.lowerBound, positions: 1, stride: 0))
                }
            }
        case .plain:
            Parallel.forEach(channels, workPerItem: batch &* positions) { range in
                for c in range {
                    for n in 0..<batch { body(Block(first: c, lanes: 1, base: start &+ (n &* channels &+ c) &* positions, positions: positions, stride: 1)) }
                }
            }
        case .channelBlocks(let width):
            Parallel.forEach(channels / width, workPerItem: batch &* positions &* width) { range in
                for block in range {
                    let first = block &* width
                    for n in 0..<batch {
                        body(Block(first: first, lanes: width, base: start &+ (n &* channels &+ first) &* positions, positions: positions, stride: width))
                    }
                }
            }
        }
    }

    /// Per channel, Σ f and Σ g over every sample and position, added onto `sums[c]` and
    /// `sums[channels + c]`: `terms(i)` gives (f, g) of storage element i.
    @inline(__always)
    func addSums(into sums: UnsafeMutablePointer<Double>, _ terms: (Int) -> (Double, Double)) {
        let channels = channels
        forEachBlock { block in
            withUnsafeTemporaryAllocation(of: Double.self, capacity: 2 * block.lanes) { partial in
                partial.initialize(repeating: 0)
                for p in 0..<block.positions {
                    let row = block.base &+ p &* block.stride
                    for lane in 0..<block.lanes {
                        let (f, g) = terms(row &+ lane)
                        partial[lane] += f
                        partial[block.lanes &+ lane] += g
                    }
                }
                for lane in 0..<block.lanes {
                    sums[block.first &+ lane] += partial[lane]
                    sums[channels &+ block.first &+ lane] += partial[block.lanes &+ lane]
                }
            }
        }
    }
}
