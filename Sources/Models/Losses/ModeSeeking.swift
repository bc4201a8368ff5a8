/// The mode-seeking term of MSGAN (Mao et al. 2019): two outputs of one condition under two noise
/// draws should differ in proportion to the draws, or a conditional generator learns to ignore its
/// noise (a discriminator judging one output at a time does not see that it did).

/// The mean over pairs p of `1 / (mean |first_p − second_p| / noiseDistances[p] + ε)`, for outputs
/// `first`, `second` `[P, ...]` where pair p's two outputs share a condition and come from noise
/// draws `noiseDistances[p]` apart (their mean absolute difference): small when the outputs follow
/// the noise. Taken per pair, as MSGAN's one-image batches do, the term is a mean over pairs and
/// so splits over ranks like any per-sample loss. ε = 1e-5 keeps it finite for a generator that
/// ignores its noise entirely.
public func modeSeekingLoss(first: Variable, second: Variable, noiseDistances: [Float]) -> Variable {
    let epsilon: Float = 1e-5
    let pairs = noiseDistances.count
    precondition(first.value.shape == second.value.shape && first.value.shape[0] == pairs, "one noise distance per pair of outputs")
    let difference = first.value.converted(to: .plain) - second.value.converted(to: .plain)
    let size = difference.count / max(pairs, 1)
    let terms = (0..<pairs).map { p in
        1 / (difference.scalars[p * size..<(p + 1) * size].reduce(0) { $0 + abs($1) } / Float(size) / noiseDistances[p] + epsilon)
    }
    return Variable.result(Tensor(scalar: terms.reduce(0, +) / Float(pairs)), of: [first, second]) { gradient in
        // d term_p / d ratio_p = −term_p², d ratio_p / d first_pj = sign(difference_pj) / (size · noiseDistance_p).
        var towardsFirst = Tensor(shape: difference.shape)
        for p in 0..<pairs {
            let scale = -gradient.scalar / Float(pairs) * terms[p] * terms[p] / (Float(size) * noiseDistances[p])
            for j in p * size..<(p + 1) * size {
                let d = difference.scalars[j]
                towardsFirst.scalars[j] = d > 0 ? scale : d < 0 ? -scale : 0
            }
        }
        if first.requiresGradient { first.accumulate(towardsFirst.converted(to: first.value.layout)) }
        if second.requiresGradient { second.accumulate((towardsFirst * -1).converted(to: second.value.layout)) }
    }
}
