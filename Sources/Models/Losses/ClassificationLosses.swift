import Foundation

/// Binary cross-entropy on logits, averaged over elements:
///
///     mean( max(x, 0) − x·t + log(1 + e^(−|x|)) ),   d/dx = (σ(x) − t) / count
///
/// - logits and targets of the same shape; targets in [0, 1].
public func binaryCrossEntropy(logits: Variable, targets: Tensor) -> Variable {
    let x = logits.value
    let count = Float(x.count)
    let total = x.zip(targets) { softplusValue($0) - $0 * $1 }.sum()
    return Variable.result(Tensor(scalar: total / count), of: [logits]) { gradient in
        let scale = gradient.scalar / count
        logits.accumulate(x.zip(targets) { (sigmoidValue($0) - $1) * scale })
    }
}

/// Binary cross-entropy of every logit against one constant target (1 for real, 0 for fake).
public func binaryCrossEntropy(logits: Variable, target: Float) -> Variable {
    binaryCrossEntropy(logits: logits, targets: Tensor(shape: logits.value.shape, repeating: target))
}

/// Softmax cross-entropy, averaged over the batch:
///
///     mean_n( −log softmax(x_n)[label_n] ),   d/dx_n = (softmax(x_n) − onehot(label_n)) / N
///
/// - logits `[N, K]`, labels N class indices in `0..<K`.
public func softmaxCrossEntropy(logits: Variable, labels: [Int]) -> Variable {
    let (batch, classes) = (logits.value.shape[0], logits.value.shape[1])
    precondition(labels.count == batch && labels.allSatisfy { (0..<classes).contains($0) }, "labels must be \(batch) indices below \(classes)")
    let probabilities = softmax(logits.value)
    var total = 0.0
    for n in 0..<batch { total -= Double(logSoftmaxEntry(logits.value, row: n, column: labels[n])) }
    return Variable.result(Tensor(scalar: Float(total / Double(batch))), of: [logits]) { gradient in
        var delta = probabilities
        for n in 0..<batch { delta.scalars[n * classes + labels[n]] -= 1 }
        logits.accumulate(delta * (gradient.scalar / Float(batch)))
    }
}

/// Row-wise softmax of `[N, K]` logits, shifted by each row's maximum for stability.
public func softmax(_ logits: Tensor) -> Tensor {
    let (batch, classes) = (logits.shape[0], logits.shape[1])
    var result = logits
    for n in 0..<batch {
        let row = n * classes..<(n + 1) * classes
        let peak = logits.scalars[row].max() ?? 0
        var total: Float = 0
        for index in row { result.scalars[index] = exp(logits.scalars[index] - peak); total += result.scalars[index] }
        for index in row { result.scalars[index] /= total }
    }
    return result
}

/// log softmax(x_row)[column], computed with the log-sum-exp shift.
func logSoftmaxEntry(_ logits: Tensor, row: Int, column: Int) -> Float {
    let classes = logits.shape[1]
    let values = logits.scalars[row * classes..<(row + 1) * classes]
    let peak = values.max() ?? 0
    let logTotal = log(values.reduce(Float(0)) { $0 + exp($1 - peak) }) + peak
    return logits.scalars[row * classes + column] - logTotal
}
