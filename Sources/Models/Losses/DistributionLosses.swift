import Foundation

/// Soft Dice loss for segmentation-like outputs, averaged over the batch:
///
///     1 − mean_n( (2·Σ p·t + s) / (Σ p + Σ t + s) ),   s = smoothing
///
/// - probabilities and targets `[N, ...]` of the same shape, values in [0, 1].
public func diceLoss(probabilities: Variable, targets: Tensor, smoothing: Float = 1) -> Variable {
    let p = probabilities.value
    let batch = p.shape[0], size = p.count / max(batch, 1)
    var overlaps = [Float](repeating: 0, count: batch), totals = overlaps
    for n in 0..<batch {
        for index in n * size..<(n + 1) * size {
            overlaps[n] += p.scalars[index] * targets.scalars[index]
            totals[n] += p.scalars[index] + targets.scalars[index]
        }
    }
    let scores = (0..<batch).map { (2 * overlaps[$0] + smoothing) / (totals[$0] + smoothing) }
    let loss = 1 - scores.reduce(0, +) / Float(batch)
    return Variable.result(Tensor(scalar: loss), of: [probabilities]) { gradient in
        var delta = Tensor(shape: p.shape)
        for n in 0..<batch {
            let denominator = totals[n] + smoothing
            for index in n * size..<(n + 1) * size {
                let dScore = (2 * targets.scalars[index] * denominator - (2 * overlaps[n] + smoothing)) / (denominator * denominator)
                delta.scalars[index] = -dScore / Float(batch) * gradient.scalar
            }
        }
        probabilities.accumulate(delta)
    }
}

/// KL divergence of the predicted categorical distribution from a target one, averaged over
/// the batch (PyTorch's `kl_div(log_softmax(logits), target, reduction="batchmean")`):
///
///     mean_n Σ_k t_nk·(log t_nk − log softmax(x_n)_k),   d/dx_n = (softmax(x_n) − t_n) / N
///
/// - logits and target probabilities `[N, K]`; each target row sums to 1.
public func klDivergence(logits: Variable, targetProbabilities target: Tensor) -> Variable {
    let (batch, classes) = (logits.value.shape[0], logits.value.shape[1])
    var total = 0.0
    for n in 0..<batch {
        for k in 0..<classes {
            let t = target.scalars[n * classes + k]
            if t > 0 { total += Double(t * (log(t) - logSoftmaxEntry(logits.value, row: n, column: k))) }
        }
    }
    let probabilities = softmax(logits.value)
    return Variable.result(Tensor(scalar: Float(total / Double(batch))), of: [logits]) { gradient in
        logits.accumulate((probabilities - target) * (gradient.scalar / Float(batch)))
    }
}

/// KL divergence of a diagonal Gaussian N(μ, e^logVariance) from N(0, I), summed over latent
/// dimensions and averaged over the batch (the VAE term):
///
///     mean_n ½·Σ_d (μ² + e^logVariance − 1 − logVariance)
///
/// - mean and logVariance `[N, D]`.
public func gaussianKLDivergence(mean: Variable, logVariance: Variable) -> Variable {
    let batch = Float(mean.value.shape[0])
    let total = mean.value.zip(logVariance.value) { m, v in 0.5 * (m * m + exp(v) - 1 - v) }.sum()
    return Variable.result(Tensor(scalar: total / batch), of: [mean, logVariance]) { gradient in
        let scale = gradient.scalar / batch
        mean.accumulate(mean.value * scale)
        logVariance.accumulate(logVariance.value.map { 0.5 * (exp($0) - 1) * scale })
    }
}
