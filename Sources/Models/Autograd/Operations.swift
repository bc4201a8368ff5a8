import Foundation

/// Differentiable operations on variables that are not layers: the glue of losses and of
/// networks with several inputs or outputs.
extension Variable {
    /// Elementwise sum of two variables of the same shape (losses added together, residuals).
    public static func + (lhs: Variable, rhs: Variable) -> Variable {
        Variable.result(lhs.value + rhs.value, of: [lhs, rhs]) { gradient in
            lhs.accumulate(gradient)
            rhs.accumulate(gradient)
        }
    }

    public static func - (lhs: Variable, rhs: Variable) -> Variable {
        Variable.result(lhs.value - rhs.value, of: [lhs, rhs]) { gradient in
            lhs.accumulate(gradient)
            rhs.accumulate(gradient * -1)
        }
    }

    /// The variable scaled by a constant.
    public static func * (lhs: Variable, rhs: Float) -> Variable {
        Variable.result(lhs.value * rhs, of: [lhs]) { gradient in lhs.accumulate(gradient * rhs) }
    }

    public static func * (lhs: Float, rhs: Variable) -> Variable { rhs * lhs }

    /// The mean of all elements, a scalar.
    public func mean() -> Variable {
        let count = Float(value.count)
        return Variable.result(Tensor(scalar: value.mean()), of: [self]) { [shape = value.shape, layout = value.layout] gradient in
            self.accumulate(Tensor(shape: shape, repeating: gradient.scalar / count, layout: layout))
        }
    }

    /// Σ self * weights: a scalar whose gradient with respect to `self` is `weights`.
    public func weightedSum(_ weights: Tensor) -> Variable {
        let weights = weights.converted(to: value.layout)
        return Variable.result(Tensor(scalar: (value * weights).sum()), of: [self]) { gradient in
            self.accumulate(weights * gradient.scalar)
        }
    }

    /// Elementwise log(1 + exp(x)), computed without overflow.
    public func softplus() -> Variable {
        Variable.result(value.map(softplusValue), of: [self]) { gradient in
            self.accumulate(self.value.zip(gradient) { sigmoidValue($0) * $1 })
        }
    }

    /// Elementwise max(x, 0).
    public func relu() -> Variable {
        Variable.result(value.elementwise { x, y, range in for i in range { y[i] = max(x[i], 0) } }, of: [self]) { gradient in
            self.accumulate(self.value.elementwise(with: gradient) { x, dy, dx, range in
                // dy is read on both sides of the choice, so the choice compiles to a vector select.
                for i in range {
                    let g = dy[i]
                    dx[i] = x[i] > 0 ? g : 0
                }
            })
        }
    }

    /// A view with another shape and the same elements, in row-major order (an image in
    /// blocked layout is reordered to plain first, as PyTorch's flatten order requires).
    public func reshaped(_ shape: [Int]) -> Variable {
        Variable.result(value.converted(to: .plain).reshaped(shape), of: [self]) { [inputShape = value.shape, layout = value.layout] gradient in
            self.accumulate(gradient.reshaped(inputShape).converted(to: layout))
        }
    }

    /// The same values in `layout`; the gradient goes back in this variable's own layout.
    public func converted(to layout: TensorLayout) -> Variable {
        guard layout != value.layout else { return self }
        return Variable.result(value.converted(to: layout), of: [self]) { [original = value.layout] gradient in
            self.accumulate(gradient.converted(to: original))
        }
    }

    /// Variables concatenated along `axis` (features: 1; channels of NCHW images: 1). Images all
    /// in one channel-block layout stay in it when joined along the channels (the U-Net's skips);
    /// any other mix is joined plain.
    public static func concatenate(_ parts: [Variable], axis: Int) -> Variable {
        let layout = parts[0].value.layout
        let keepsBlocks = axis == 1 && layout != .plain && parts.allSatisfy { $0.value.layout == layout }
        let parts = keepsBlocks ? parts : parts.map { $0.converted(to: .plain) }
        let sizes = parts.map { $0.value.shape[axis] }
        return Variable.result(Tensor.concatenate(parts.map(\.value), axis: axis), of: parts) { gradient in
            var start = 0
            for (part, size) in zip(parts, sizes) {
                if part.requiresGradient { part.accumulate(gradient.slice(start..<start + size, axis: axis)) }
                start += size
            }
        }
    }

    /// The elements with index `range` along `axis`.
    public func slice(_ range: Range<Int>, axis: Int) -> Variable {
        guard value.layout == .plain else { return converted(to: .plain).slice(range, axis: axis) }
        return Variable.result(value.slice(range, axis: axis), of: [self]) { [shape = value.shape] gradient in
            let before = Tensor(shape: shape.replacing(axis, with: range.lowerBound))
            let after = Tensor(shape: shape.replacing(axis, with: shape[axis] - range.upperBound))
            self.accumulate(Tensor.concatenate([before, gradient, after], axis: axis))
        }
    }
}

extension Variable {
    /// The rows (entries of axis 0) at `indices`, in that order: `[indices.count, ...]`; a row
    /// taken twice gets both gradients.
    public func rows(_ indices: [Int]) -> Variable {
        guard value.layout == .plain else { return converted(to: .plain).rows(indices) }
        return Variable.result(value.rows(indices), of: [self]) { [shape = value.shape] gradient in
            var spread = Tensor(shape: shape)
            let size = shape[0] == 0 ? 0 : spread.count / shape[0]
            spread.scalars.withUnsafeMutableBufferPointer { spread in
                gradient.scalars.withUnsafeBufferPointer { gradient in
                    for (row, index) in indices.enumerated() {
                        for offset in 0..<size { spread[index * size + offset] += gradient[row * size + offset] }
                    }
                }
            }
            self.accumulate(spread)
        }
    }
}

extension Array where Element == Int {
    func replacing(_ index: Int, with value: Int) -> [Int] {
        var copy = self
        copy[index] = value
        return copy
    }
}

@inline(__always)
func sigmoidValue(_ x: Float) -> Float {
    x >= 0 ? 1 / (1 + exp(-x)) : exp(x) / (1 + exp(x))
}

/// log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|)), exact for large |x|.
@inline(__always)
func softplusValue(_ x: Float) -> Float {
    max(x, 0) + log1p(exp(-abs(x)))
}

extension Variable {
    /// `constant − x`, elementwise.
    public static func - (lhs: Float, rhs: Variable) -> Variable {
        Variable.result(rhs.value.map { lhs - $0 }, of: [rhs]) { gradient in rhs.accumulate(gradient * -1) }
    }

    /// `constant + x`, elementwise.
    public static func + (lhs: Float, rhs: Variable) -> Variable {
        Variable.result(rhs.value.map { lhs + $0 }, of: [rhs]) { gradient in rhs.accumulate(gradient) }
    }
}
