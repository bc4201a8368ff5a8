/// The adversarial losses: the discriminator's and the generator's side of each GAN objective,
/// on the discriminator's raw outputs (logits or critic scores).
public enum AdversarialObjective: String, CaseIterable, Codable, Sendable {
    /// Goodfellow et al. 2014: D maximises log D(x) + log(1 − D(G(z))); G minimises log(1 − D(G(z))).
    case minimax
    /// The same D; G maximises log D(G(z)) instead, which does not saturate when D wins early.
    case nonSaturating = "non-saturating"
    /// LSGAN (Mao et al. 2017): ½(D(x) − 1)² + ½D(G(z))² for D, ½(D(G(z)) − 1)² for G.
    case leastSquares = "least-squares"
    /// Hinge (Lim & Ye 2017; Miyato et al. 2018): relu(1 − D(x)) + relu(1 + D(G(z))) for D, −D(G(z)) for G.
    case hinge
    /// WGAN (Arjovsky et al. 2017): D(G(z)) − D(x) for the critic, −D(G(z)) for G. The critic's
    /// Lipschitz constraint (clipping, gradient penalty) is the caller's to add.
    case wasserstein
}

/// The discriminator's loss on a batch of real and a batch of generated samples: the sum of its
/// two sides, `discriminatorRealLoss` and `discriminatorFakeLoss`.
/// - realLogits, fakeLogits `[N, 1]` (any shapes; each is averaged).
public func discriminatorLoss(_ objective: AdversarialObjective, realLogits: Variable, fakeLogits: Variable) -> Variable {
    discriminatorRealLoss(objective, realLogits: realLogits) + discriminatorFakeLoss(objective, fakeLogits: fakeLogits)
}

/// The real samples' side of the discriminator's loss. Every objective's loss is a sum of a term
/// of the real logits and one of the fake logits, so a trainer can differentiate the real side
/// before the fake samples exist.
/// - realLogits `[N, 1]` (any shape; averaged).
public func discriminatorRealLoss(_ objective: AdversarialObjective, realLogits: Variable) -> Variable {
    switch objective {
    case .minimax, .nonSaturating: binaryCrossEntropy(logits: realLogits, target: 1)
    case .leastSquares: 0.5 * mseLoss(prediction: realLogits, target: Tensor(shape: realLogits.value.shape, repeating: 1))
    case .hinge: (1 - realLogits).relu().mean()
    case .wasserstein: -1 * realLogits.mean()
    }
}

/// The generated samples' side of the discriminator's loss.
/// - fakeLogits `[N, 1]` (any shape; averaged).
public func discriminatorFakeLoss(_ objective: AdversarialObjective, fakeLogits: Variable) -> Variable {
    switch objective {
    case .minimax, .nonSaturating: binaryCrossEntropy(logits: fakeLogits, target: 0)
    case .leastSquares: 0.5 * mseLoss(prediction: fakeLogits, target: Tensor(shape: fakeLogits.value.shape))
    case .hinge: (1 + fakeLogits).relu().mean()
    case .wasserstein: fakeLogits.mean()
    }
}

/// The generator's loss on the discriminator's outputs for generated samples.
/// - fakeLogits `[N, 1]` (any shape; averaged).
public func generatorLoss(_ objective: AdversarialObjective, fakeLogits: Variable) -> Variable {
    switch objective {
    case .minimax:
        // log(1 − σ(x)) = −softplus(x)
        -1 * fakeLogits.softplus().mean()
    case .nonSaturating:
        binaryCrossEntropy(logits: fakeLogits, target: 1)
    case .leastSquares:
        0.5 * mseLoss(prediction: fakeLogits, target: Tensor(shape: fakeLogits.value.shape, repeating: 1))
    case .hinge, .wasserstein:
        -1 * fakeLogits.mean()
    }
}
