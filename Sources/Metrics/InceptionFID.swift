import Checkpoints
import Datasets
import Distributed
import Foundation
import HDF5
import Models

/// FID as papers report it: the Fréchet distance between the pool3 features of generated and
/// real images in the FID Inception-v3 (`FIDInception`), with the weights the user gives as a
/// safetensors file (docs/fid.md makes it from pytorch-fid's `.pth`).
public struct InceptionFID {
    public let path: String
    /// The weights file's SHA-256, recorded with every figure it produced.
    public let sha256: String
    let network: FIDInception

    /// Images per forward pass: at 299×299 one image's activations take about 20 MB.
    static let batchSize = 16

    /// Loads and checks the weights at `path`: torchvision's names and shapes, float32, with or
    /// without BatchNorm's `num_batches_tracked`, and nothing else.
    public init(weights path: String) throws {
        let expected = "the FID Inception's weights as a safetensors file (docs/fid.md shows how to make it from pytorch-fid's pt_inception-2015-12-05-6726825d.pth)"
        guard FileManager.default.fileExists(atPath: path) else { throw ConfigurationError("--inception \(path): no such file; expected \(expected)") }
        let handle = FileHandle(forReadingAtPath: path)
        let signature = try? handle?.read(upToCount: 8)
        try? handle?.close()
        if signature == Data([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]) {
            throw ConfigurationError("--inception \(path): an HDF5 file (the project's own evaluator network?); expected \(expected)")
        }
        let file = try SafetensorsFile(path: path)
        let (shapes, counters) = Self.stateShapes
        try file.require(shapes, optional: counters, being: "the FID Inception-v3")
        let network = FIDInception()
        for (name, entry) in network.state where entry.tensor != nil {
            entry.tensor = Tensor(shape: shapes[name]!, scalars: try file.floats(name, shape: shapes[name]!))
        }
        network.setTraining(false)
        (self.path, self.network, sha256) = (path, network, try SHA256.hex(ofFile: path))
    }

    /// The network's tensors by name and its counters (`num_batches_tracked`), from one built once.
    private static let stateShapes: (tensors: [String: [Int]], counters: Set<String>) = {
        var shapes: [String: [Int]] = [:], counters: Set<String> = []
        for (name, entry) in FIDInception().state {
            if let tensor = entry.tensor { shapes[name] = tensor.shape } else { counters.insert(name) }
        }
        return (shapes, counters)
    }()

    /// Pool3 features `[N, 2048]` of images `[N, C, H, W]` in [-1, 1] (C 1 or 3): scaled to [0, 1]
    /// and gray repeated to three channels, as pytorch-fid reads image files.
    public func features(_ images: Tensor) -> Tensor {
        precondition(images.rank == 4 && [1, 3].contains(images.shape[1]), "Inception features of [N, 1 or 3, H, W], got \(images.shape)")
        var rows: [Float] = []
        rows.reserveCapacity(images.shape[0] * FIDInception.features)
        for start in stride(from: 0, to: images.shape[0], by: Self.batchSize) {
            let batch = images.slice(start..<min(start + Self.batchSize, images.shape[0]), axis: 0)
            var unit = Tensor(shape: batch.shape, scalars: batch.scalars.map { ($0 + 1) / 2 })
            if unit.shape[1] == 1 { unit = Tensor.concatenate([unit, unit, unit], axis: 1) }
            rows += network(Variable(unit)).value.scalars
        }
        return Tensor(shape: [images.shape[0], FIDInception.features], scalars: rows)
    }

    /// The mean and covariance of the features of the first `count` images of `dataset` (the file
    /// at `path`), shared over the ranks, cached beside the data set (keyed by the weights, the
    /// file's size and time and the count; checksummed by HDF5) so that each is computed once.
    /// A cache that cannot be written (a read-only directory) only costs recomputing next time.
    public func referenceStatistics(of dataset: Dataset, at path: String, count: Int, context: MeasurementContext) throws -> ImageMetrics.Gaussian {
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        let stamp = "\(path)|\((attributes?[.size] as? Int) ?? 0)|\((attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0)|\(count)"
        let cache = "\(path).inception-\(sha256.prefix(12))-\(SHA256.hex(of: Array(stamp.utf8)).prefix(12)).h5"
        if let file = try? HDF5File.open(cache), (try? file.root.stringAttribute("stamp")) == stamp,
           let mean = try? file.root.read("mean", as: Double.self), let covariance = try? file.root.read("covariance", as: Double.self),
           mean.shape == [FIDInception.features], covariance.shape == [FIDInception.features, FIDInception.features] {
            return ImageMetrics.Gaussian(mean: mean.values, covariance: covariance.values)
        }
        let features = try context.gather(count: count, sampleShape: dataset.sampleShape, transform: self.features) { try dataset.batch($0) }
        let statistics = ImageMetrics.Gaussian(features: features)
        if context.world.rank == 0 {
            try? HDF5File.writeAtomically(cache) { file in
                try file.root.write(statistics.mean, shape: [FIDInception.features], to: "mean")
                try file.root.write(statistics.covariance, shape: [FIDInception.features, FIDInception.features], to: "covariance")
                try file.root.setAttribute("stamp", stamp)
                try file.root.setAttribute("weights_sha256", sha256)
            }
        }
        return statistics
    }
}

/// FID in the Inception's features, and what produced it.
public struct InceptionScores: Codable, Sendable {
    public let frechetDistance: Double
    public let samples: Int
    public let reference: String
    public let referenceSamples: Int
    /// The SHA-256 of the weights file.
    public let weights: String

    public init(frechetDistance: Double, samples: Int, reference: String, referenceSamples: Int, weights: String) {
        (self.frechetDistance, self.samples, self.reference, self.referenceSamples, self.weights) = (frechetDistance, samples, reference, referenceSamples, weights)
    }

    var scalars: [(tag: String, value: Double)] { [("eval/FID (Inception)", frechetDistance)] }

    var tableLines: [String] {
        [String(format: "  FID (Inception)      %.3f", frechetDistance)
            + " (\(samples) samples against \(referenceSamples) of \(reference); weights sha256 \(weights.prefix(16))…)"]
    }
}
