import Checkpoints
import Datasets
import Distributed
import Foundation
import HDF5
import Models


/// The image metrics of one evaluation, in the evaluator network's feature space.
public struct ImageScores: Codable, Sendable {
    public let samples: Int
    public let referenceSamples: Int
    public let frechetDistance: Double
    public let kernelDistance: Double
    public let kernelDistanceStandardDeviation: Double
    public let precision: Double
    public let recall: Double
    public let classifierScore: Double
    public let classesSeen: Int
    public let classCounts: [Int]
    public let classKLFromUniform: Double

    /// - Parameters:
    ///   - embedded: `[N, 64 + classes]`: features, then class probabilities, of the generated samples.
    ///   - reference: features `[M, 64]` of the reference images.
    init(embedded: Tensor, reference: Tensor) throws {
        let features = embedded.slice(0..<Classifier.featureSize, axis: 1)
        let probabilities = embedded.slice(Classifier.featureSize..<embedded.shape[1], axis: 1)
        samples = features.shape[0]
        referenceSamples = reference.shape[0]
        frechetDistance = try ImageMetrics.frechetDistance(ImageMetrics.Gaussian(features: features), ImageMetrics.Gaussian(features: reference))
        var random = RandomStream(seed: 0, purpose: .kidSubsets)
        (kernelDistance, kernelDistanceStandardDeviation) = ImageMetrics.kernelDistance(features, reference, random: &random)
        (precision, recall) = ImageMetrics.precisionRecall(real: reference, generated: features)
        classifierScore = ImageMetrics.classifierScore(probabilities)
        (classCounts, classKLFromUniform) = ImageMetrics.classCoverage(probabilities)
        classesSeen = classCounts.filter { $0 > 0 }.count
    }

    var scalars: [(tag: String, value: Double)] {
        [("eval/FID", frechetDistance), ("eval/KID", kernelDistance), ("eval/precision", precision), ("eval/recall", recall),
         ("eval/classifier score", classifierScore)]
    }

    var tableLines: [String] {
        [
            "  samples              \(samples) (reference \(referenceSamples))",
            String(format: "  FID                  %.3f", frechetDistance),
            String(format: "  KID                  %.5f ± %.5f", kernelDistance, kernelDistanceStandardDeviation),
            String(format: "  precision / recall   %.3f / %.3f", precision, recall),
            String(format: "  classifier score     %.3f", classifierScore),
            String(format: "  classes seen         %d of %d (KL from uniform %.4f)", classesSeen, classCounts.count, classKLFromUniform),
        ]
    }

    /// Features of the reference images: those of `path` (computed once and cached beside the
    /// evaluator weights), or else of the images held out of the evaluator's training, or else of
    /// Fashion-MNIST's test set for the Fashion-MNIST evaluator.
    public static func referenceFeatures(_ path: String?, evaluator: EvaluatorNetwork) throws -> Tensor {
        if path == nil, let heldOut = evaluator.heldOutFeatures { return heldOut }
        let reference = path ?? FashionMNIST.testImages
        let attributes = try? FileManager.default.attributesOfItem(atPath: reference)
        let stamp = "\(reference)|\((attributes?[.size] as? Int) ?? 0)|\((attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0)"
        let key = stamp.utf8.reduce(UInt64(1469598103934665603)) { ($0 ^ UInt64($1)) &* 1099511628211 }
        let cache = "\(evaluator.path).reference-\(String(key, radix: 16)).h5"
        if let cached = try? HDF5File.open(cache).root.read("features", as: Float.self) {
            return Tensor(shape: cached.shape, scalars: cached.values)
        }
        let images = try Dataset.images(at: reference)
        try images.require(sampleShape: evaluator.sampleShape, for: "--reference (the evaluator's images)")
        // In chunks, so a streamed reference is never held whole.
        var scalars: [Float] = []
        for start in stride(from: 0, to: images.count, by: 500) {
            Watchdog.process?.progressed()
            scalars += Classifier.embed(try images.batch(start..<min(start + 500, images.count)), with: evaluator.network).features.scalars
        }
        let features = Tensor(shape: [images.count, Classifier.featureSize], scalars: scalars)
        // A cache that cannot be written (a read-only install) only costs recomputing next time.
        try? HDF5File.writeAtomically(cache) { file in
            try file.root.write(features.scalars, shape: features.shape, to: "features")
            try file.root.setAttribute("reference", stamp)
        }
        return features
    }
}
