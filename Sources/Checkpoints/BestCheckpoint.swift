import Foundation
import HDF5

/// Which evaluation during training was the best so far: kept in `best.h5`'s root attributes
/// (`best_step`, `best_metric`, `best_value`, `best_ranking`) beside the checkpoint of that step.
public struct BestCheckpoint: Equatable, Sendable {
    public let step: Int
    /// The headline figure's name ("FID", "modes covered") and value.
    public let metric: String
    public let value: Double
    /// What orders evaluations, compared element by element, higher better: (−FID) for images,
    /// (modes covered, high-quality share) for the 2-D presets.
    public let ranking: [Double]

    public init(step: Int, metric: String, value: Double, ranking: [Double]) {
        (self.step, self.metric, self.value, self.ranking) = (step, metric, value, ranking)
    }

    /// Whether `self` beats `other` (an evaluation that ties keeps the earlier checkpoint).
    public func isBetter(than other: BestCheckpoint?) -> Bool {
        guard let other else { return true }
        return other.ranking.lexicographicallyPrecedes(ranking)
    }

    func write(into root: HDF5Group) throws {
        try root.setAttribute("best_step", Int64(step))
        try root.setAttribute("best_metric", metric)
        try root.setAttribute("best_value", value)
        try root.setAttribute("best_ranking", ranking.map { "\($0)" }.joined(separator: " "))
    }

    /// The marks of a `best.h5`, or nil for a checkpoint without them.
    public init?(of checkpoint: CheckpointFile) throws {
        let root = checkpoint.root
        guard root.hasAttribute("best_step") else { return nil }
        let ranking = try root.stringAttribute("best_ranking").split(separator: " ").compactMap { Double($0) }
        self.init(step: Int(try root.attribute("best_step", as: Int64.self)), metric: try root.stringAttribute("best_metric"),
                  value: try root.attribute("best_value", as: Double.self), ranking: ranking)
    }
}
