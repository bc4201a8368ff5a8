/// What the completion generator is trained to minimise.
public enum CompletionLoss: String, Codable, CaseIterable, Sendable {
    /// Mean squared error to the true bottom: the mean of the plausible bottoms.
    case l2
    /// Mean absolute error to the true bottom: their per-pixel median.
    case l1
    /// A conditional discriminator's verdict alone: any bottom that looks real with its top.
    case adversarial
    /// Both, the L1 term weighted by `--recon-weight` (pix2pix).
    case l1Adversarial = "l1+adversarial"

    public var usesDiscriminator: Bool { self == .adversarial || self == .l1Adversarial }
}
