import Models

/// Training samples held in memory, assembled into batches on demand.
public struct Dataset: Sendable {
    indirect enum Storage: Sendable {
        /// 8-bit pixels, scaled to [−1, 1] when batched.
        case pixels([UInt8])
        /// Values used as they are.
        case values([Float])
        /// Single-channel images in [−1, 1] painted with each sample's tint (`Dataset.tinted`).
        case tinted(Storage, tints: [Tint])
        /// 8-bit pixels read from an HDF5 file as they are needed.
        case streamed(StreamedPixels)
        /// Pairs: each sample an input of `inputSize` values from the first, then its target from the second.
        case pairs(Storage, Storage, inputSize: Int)
        /// The samples of another storage at `indices`.
        case subset(Storage, indices: [Int])

        /// Appends samples `indices`, each of `size` values, in that order: a streamed file's in one read.
        func append(_ indices: [Int], size: Int, to scalars: inout [Float]) throws {
            switch self {
            case .pixels(let pixels):
                for index in indices { scalars += pixels[index * size..<(index + 1) * size].lazy.map { Float($0) / 127.5 - 1 } }
            case .values(let values):
                for index in indices { scalars += values[index * size..<(index + 1) * size] }
            case .tinted(let gray, let tints):
                var planes: [Float] = []
                try gray.append(indices, size: size / 3, to: &planes)
                for (row, index) in indices.enumerated() {
                    let plane = planes[row * size / 3..<(row + 1) * size / 3]
                    for channel in tints[index].rgb { scalars += plane.lazy.map { 2 * (($0 + 1) / 2) * channel - 1 } }
                }
            case .streamed(let pixels):
                try pixels.append(indices, to: &scalars)
            case .pairs(let inputs, let targets, let inputSize):
                var (inputValues, targetValues) = ([Float](), [Float]())
                try inputs.append(indices, size: inputSize, to: &inputValues)
                try targets.append(indices, size: size - inputSize, to: &targetValues)
                for row in indices.indices {
                    scalars += inputValues[row * inputSize..<(row + 1) * inputSize]
                    scalars += targetValues[row * (size - inputSize)..<(row + 1) * (size - inputSize)]
                }
            case .subset(let storage, let selected):
                try storage.append(indices.map { selected[$0] }, size: size, to: &scalars)
            }
        }
    }

    /// Where the samples came from, for messages and checkpoints.
    public let source: String
    /// The shape of one sample, for example `[1, 28, 28]` or `[2]`.
    public let sampleShape: [Int]
    public let count: Int
    let storage: Storage
    /// Each sample's class, an index into `classNames`; nil for unlabelled data.
    public let labels: [Int]?
    public let classNames: [String]
    /// For pairs, the channels of the input, which come first in each sample `[C_in + C_out, H, W]`;
    /// nil for plain images.
    public let inputChannels: Int?

    init(source: String, sampleShape: [Int], count: Int, storage: Storage, labels: [Int]? = nil, classNames: [String] = [],
         inputChannels: Int? = nil) {
        (self.source, self.sampleShape, self.count, self.storage) = (source, sampleShape, count, storage)
        (self.labels, self.classNames, self.inputChannels) = (labels, classNames, inputChannels)
    }

    /// The samples at `indices`, in that order, as a dataset of their own.
    public func subset(_ indices: [Int]) -> Dataset {
        Dataset(source: source, sampleShape: sampleShape, count: indices.count, storage: .subset(storage, indices: indices),
                labels: labels.map { labels in indices.map { labels[$0] } }, classNames: classNames, inputChannels: inputChannels)
    }

    /// Unlabelled samples of `sampleShape` held as 8-bit pixels, scaled to [−1, 1] when batched.
    public init(pixels: [UInt8], sampleShape: [Int], source: String) {
        let size = sampleShape.reduce(1, *)
        precondition(size > 0 && pixels.count % size == 0, "\(pixels.count) pixels are not whole samples of \(sampleShape)")
        self.init(source: source, sampleShape: sampleShape, count: pixels.count / size, storage: .pixels(pixels))
    }

    /// These samples with the classes `labels` (one per sample, read from `file`), named by their numbers.
    public func labelled(_ labels: [Int], from file: String) throws -> Dataset {
        guard labels.count == count else { throw DataError("\(file): \(labels.count) labels for the \(count) images of \(source)") }
        return Dataset(source: source, sampleShape: sampleShape, count: count, storage: storage, labels: labels,
                       classNames: (0...(labels.max() ?? 0)).map(String.init), inputChannels: inputChannels)
    }

    /// The samples at `indices`, stacked: `[indices.count] + sampleShape`; throws when a streamed
    /// file cannot be read.
    public func batch<Indices: Collection>(_ indices: Indices) throws -> Tensor where Indices.Element == Int {
        let size = sampleShape.reduce(1, *)
        var scalars = [Float]()
        scalars.reserveCapacity(indices.count * size)
        try storage.append(Array(indices), size: size, to: &scalars)
        return Tensor(shape: [indices.count] + sampleShape, scalars: scalars)
    }

    /// Fails unless one sample has `shape`.
    public func require(sampleShape shape: [Int], for purpose: String) throws {
        guard sampleShape == shape else {
            throw DataError("\(source): \(purpose) needs samples of shape \(shape), the file holds \(sampleShape)")
        }
    }
}
