import HDF5

/// The 8-bit images of an HDF5 file read as batches need them, a batch in one read, so that a
/// rank holds a batch of them at once and HDF5's cache a few chunks, whatever the file's size.
final class StreamedPixels: @unchecked Sendable {
    // @unchecked: HDF5 here is not thread-safe; a data set is read by its rank's training thread only.
    let rows: HDF5Rows<UInt8>
    let layout: ImageLayout

    init(rows: HDF5Rows<UInt8>, layout: ImageLayout) {
        (self.rows, self.layout) = (rows, layout)
    }

    /// Appends images `indices`, each planar `[C, H, W]` and scaled to [−1, 1], to `scalars`.
    func append(_ indices: [Int], to scalars: inout [Float]) throws {
        var pixels: [UInt8] = []
        pixels.reserveCapacity(indices.count * rows.rowSize)
        try rows.append(rows: indices, to: &pixels)
        scalars += layout.planar(pixels, shape: [indices.count] + rows.shape.dropFirst()).lazy.map { Float($0) / 127.5 - 1 }
    }
}

extension Dataset {
    /// The chunk size `launcher dataset` writes: a few images each, so reading one image reads little else.
    public static let streamedChunkBytes = 16 << 10
    /// Chunks up to this size are streamed; a file with larger chunks is loaded whole.
    static let largestStreamedChunk = 1 << 20
    /// HDF5's chunk cache for a streamed file: a batch's worth of `launcher dataset`'s chunks.
    static let streamedCacheBytes = 4 << 20
}
