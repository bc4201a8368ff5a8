import Models

/// Every random stream the trainer and its tools draw from, in one place: a stream is named by
/// its purpose (and the seed), so two purposes must never share a name, and a renamed purpose
/// changes every run's numbers. The raw values are the names the streams have always had.
public enum RandomPurpose: String, CaseIterable, Sendable {
    /// The networks' initial weights.
    case initialization = "init"
    /// The noise of the sample grid saved with checkpoints.
    case grid
    /// The noise of the discriminator's phase, per step, substep and sample.
    case discriminatorNoise = "latent-d"
    /// The noise of the generator's phase, per step and sample.
    case generatorNoise = "latent-g"
    /// DiffAugment's draws for the real and the generated images of D's phase, and for the
    /// generated images of G's, per step, substep and sample.
    case augmentReal = "augment-real"
    case augmentFake = "augment-fake"
    case augmentGenerator = "augment-g"
    /// The points of a 2-D mixture data set.
    case dataset
    /// colorize28's tint of each image.
    case tint
    /// `launcher dataset --random-hue`'s colour of each image.
    case hue
    /// The order of the samples in each epoch.
    case epochOrder = "epoch-order"
    /// `launcher sample`'s noise.
    case sample
    /// `launcher evaluate`'s noise, per sample.
    case evaluate
    /// The extra completions of a top half that `evaluate` measures diversity on.
    case diversity
    /// KID's random subsets.
    case kidSubsets = "kid-subsets"
    /// The evaluator's training order, and its initial weights.
    case evaluator
    case evaluatorInitialization = "evaluator-init"
    /// The images `launcher evaluator train --data` holds out of its training.
    case evaluatorSplit = "evaluator-split"
    /// `launcher bench`'s networks and data, and its matrix-product peak.
    case bench
    case sgemmPeak = "sgemm-peak"
}

extension RandomStream {
    package init(seed: UInt64, purpose: RandomPurpose, indices: [UInt64] = []) {
        self.init(seed: seed, purpose: purpose.rawValue, indices: indices)
    }

    package static func normalRows(seed: UInt64, purpose: RandomPurpose, keys: [[UInt64]], width: Int) -> Tensor {
        normalRows(seed: seed, purpose: purpose.rawValue, keys: keys, width: width)
    }
}
