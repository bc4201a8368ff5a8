import Foundation
import Models

/// What one training iteration measured, each a mean over the batch; nil where the preset has no such term.
public struct StepMetrics: Equatable, Sendable {
    /// The loss of the generator (with the encoder, for Alpha-GAN).
    public var generatorLoss: Float
    public var discriminatorLoss: Float?
    /// Mean σ(D(x)) on the real batch, in the D phase.
    public var realScore: Float?
    /// Mean σ(D(G(z))) on the generated batch, in the D phase.
    public var fakeScore: Float?
    /// The L1 distance of the output to its target (reconstruction or true bottom half).
    public var reconstruction: Float?
    public var codeDiscriminatorLoss: Float?
    /// The R1 penalty on D's gradient at the real batch, not included in `discriminatorLoss`.
    public var gradientPenalty: Float?

    public init(generatorLoss: Float, discriminatorLoss: Float? = nil, realScore: Float? = nil, fakeScore: Float? = nil,
                reconstruction: Float? = nil, codeDiscriminatorLoss: Float? = nil, gradientPenalty: Float? = nil) {
        (self.generatorLoss, self.discriminatorLoss, self.realScore, self.fakeScore) = (generatorLoss, discriminatorLoss, realScore, fakeScore)
        (self.reconstruction, self.codeDiscriminatorLoss, self.gradientPenalty) = (reconstruction, codeDiscriminatorLoss, gradientPenalty)
    }

    /// Every field: its key in metrics.jsonl, its label on the progress line and its TensorBoard tag,
    /// its name in messages, and where it is kept.
    static var fields: [(key: String, label: String, tag: String, name: String, path: WritableKeyPath<StepMetrics, Float?>)] {
        [("d_loss", "D", "loss/D", "the discriminator loss", \.discriminatorLoss), ("g_loss", "G", "loss/G", "the generator loss", \.generatorOrNil),
         ("d_real", "D(x)", "D(x)", "D's score of real data", \.realScore), ("d_fake", "D(G(z))", "D(G(z))", "D's score of generated data", \.fakeScore),
         ("recon_l1", "L1", "loss/L1", "the reconstruction L1", \.reconstruction), ("c_loss", "C", "loss/C", "the code discriminator loss", \.codeDiscriminatorLoss),
         ("r1", "R1", "loss/R1", "the R1 penalty", \.gradientPenalty)]
    }

    /// The TensorBoard tag of each number in metrics.jsonl's step lines, by its key there.
    public static let tags: [String: String] =
        Dictionary(uniqueKeysWithValues: fields.map { ($0.key, $0.tag) } + [("lr_g", "lr/G"), ("lr_d", "lr/D"), ("images_per_second", "images_per_second")])

    private var generatorOrNil: Float? {
        get { generatorLoss }
        set { generatorLoss = newValue ?? 0 }
    }

    /// The fields this step has, in `fields` order.
    var present: [(key: String, label: String, tag: String, name: String, value: Float)] {
        Self.fields.compactMap { field in self[keyPath: field.path].map { (field.key, field.label, field.tag, field.name, $0) } }
    }
}

extension Tensor {
    /// The mean of σ(x) over the logits: the discriminator's average belief that its inputs are real.
    var meanSigmoid: Float { map { 1 / (1 + exp(-$0)) }.mean() }
}
