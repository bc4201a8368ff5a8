import Models

/// D's logits on the real side of its loss, and the R1 penalty on them when there is one.
struct RealSide {
    let logits: Variable
    let penalty: Variable?
}

/// What a discriminator's phase reports: its loss and mean scores.
struct DiscriminatorReport {
    let loss: Float
    let realScore: Float
    let fakeScore: Float
    let penalty: Float?
}

extension Phase where Early == (loss: Variable, real: RealSide), Result == DiscriminatorReport {
    /// A discriminator's update, on real data first, then on the generator's outputs.
    ///
    /// The real side, forward and backward, needs no generator, so it runs while G's last update
    /// may still be in flight, and D's gradients add up the real side's part, then the fake side's.
    /// Real and fake pass through D separately: a BatchNorm in D must see the same kind of batch
    /// here as in G's phase (all fake), or G learns to exploit the difference in normalisation.
    ///
    /// - Parameters:
    ///   - real: D's logits on the real batch (and R1's penalty), recorded on the tape.
    ///   - fake: D's logits on G's outputs, taken as constants on this tape (G may have recorded
    ///     its forward on its own phase's tape, begun for the purpose).
    static func discriminator(_ network: Layer, optimizer: any Optimizer, objective: AdversarialObjective,
                              real: @escaping (Tape) -> RealSide, fake: @escaping (Tape) throws -> Variable) -> Self {
        Phase(updating: [(network, optimizer)], first: { tape in
            let side = real(tape)
            let loss = discriminatorRealLoss(objective, realLogits: side.logits)
            return (side.penalty.map { loss + $0 } ?? loss, (loss, side))
        }, thenAfterLanding: { tape, early in
            let fakeLogits = try fake(tape)
            let fakeLoss = discriminatorFakeLoss(objective, fakeLogits: fakeLogits)
            return (fakeLoss, DiscriminatorReport(loss: early.loss.value.scalar + fakeLoss.value.scalar,
                                                  realScore: early.real.logits.value.meanSigmoid, fakeScore: fakeLogits.value.meanSigmoid,
                                                  penalty: early.real.penalty?.value.scalar))
        })
    }
}

extension Phase where Early == Variable {
    /// A generator's update: its forward pass first, which needs no discriminator (so it can begin
    /// inside D's phase, which judges its outputs, or run while D's last update is in flight), then
    /// `loss` on its outputs, through the frozen D (gradients flow through D's layers to its
    /// input, none into D's weights).
    static func generator(_ network: Layer, optimizer: any Optimizer, forward: @escaping (Tape) -> Variable,
                          loss: @escaping (Tape, Variable) -> (loss: Variable, result: Result)) -> Self {
        Phase(updating: [(network, optimizer)], first: { tape in (nil, forward(tape)) }, thenAfterLanding: loss)
    }
}

extension StepMetrics {
    /// A discriminator phase's report, with the generator's loss still to come.
    init(_ report: DiscriminatorReport) {
        self.init(generatorLoss: 0, discriminatorLoss: report.loss, realScore: report.realScore, fakeScore: report.fakeScore,
                  gradientPenalty: report.penalty)
    }
}
