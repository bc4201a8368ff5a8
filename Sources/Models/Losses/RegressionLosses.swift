/// The averaging losses of the essay: each pulls a prediction towards the mean (L2) or the
/// median (L1) of the targets it could have had.

/// Mean absolute error, `mean |prediction − target|`. Gradient `sign(prediction − target) / count`.
public func l1Loss(prediction: Variable, target: Tensor) -> Variable {
    let difference = prediction.value - target
    let count = Float(difference.count)
    return Variable.result(Tensor(scalar: difference.map { abs($0) }.sum() / count), of: [prediction]) { gradient in
        let scale = gradient.scalar / count
        prediction.accumulate(difference.map { $0 > 0 ? scale : $0 < 0 ? -scale : 0 })
    }
}

/// Mean squared error, `mean (prediction − target)²` (L2). Gradient `2·(prediction − target) / count`.
public func mseLoss(prediction: Variable, target: Tensor) -> Variable {
    let difference = prediction.value - target
    let count = Float(difference.count)
    return Variable.result(Tensor(scalar: (difference * difference).sum() / count), of: [prediction]) { gradient in
        prediction.accumulate(difference * (2 * gradient.scalar / count))
    }
}
