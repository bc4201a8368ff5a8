/// The discriminator applied to real samples, and the R1 penalty there (Mescheder et al. 2018):
///
///     γ/2 · mean_n ‖∇ₓD(x_n)‖²
///
/// - real `[N, features]`, on the tape of the discriminator's loss (packed rows for PacGAN);
///   logits `[N, 1]`; penalty a scalar, to add to the discriminator's loss.
///
/// The penalty's gradient with respect to D's weights differentiates a gradient. For a piecewise-
/// linear D, with g_n = ∇ₓD(x_n) = J_nᵀ·1 held constant, d(‖g_n‖²) = 2 g_nᵀ dg_n = 2 d(J_n g_n)
/// where J_n is D's Jacobian at x_n; so the penalty's gradient is γ · d mean_n(J_n g_n), one more
/// pass through D's layers on the tape.
public func discriminatorWithR1Penalty(_ discriminator: some PiecewiseLinear, real: Variable, gamma: Float)
    -> (logits: Variable, penalty: Variable) {
    let linearization = discriminator.linearized(real)
    let logits = linearization.output
    let inputGradients = linearization.transposedJacobian(Tensor(shape: logits.value.shape, repeating: 1))
    let slopes = linearization.jacobian(Variable(inputGradients, tape: real.tape, requiresGradient: false))
    let count = Float(slopes.value.count)
    let penalty = Variable.result(Tensor(scalar: gamma / 2 * slopes.value.mean()), of: [slopes]) { gradient in
        slopes.accumulate(Tensor(shape: slopes.value.shape, repeating: gradient.scalar * gamma / count))
    }
    return (logits, penalty)
}
