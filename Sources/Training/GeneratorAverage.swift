import Models

/// An exponential moving average of the generator's weights, which `sample`, `evaluate` and the
/// sample grids use in place of the last iterate: a GAN's generator wanders from step to step,
/// and the average of its recent weights samples better (StyleGAN, BigGAN, StudioGAN do the same).
///
/// Every entry of the generator's state is averaged, BatchNorm's running statistics included,
/// with the same decay: the running statistics are themselves averages over recent batches of
/// the weights of their step, and averaging them alongside the weights keeps both over the same
/// window (rather than copying the last step's statistics onto averaged weights). Counters are copied.
///
/// Every rank's generator is identical after each update, so every rank's average is too, with
/// no communication.
final class GeneratorAverage {
    /// A generator of the same architecture holding the average; never run in training mode (its
    /// BatchNorm statistics are averaged, not measured).
    let network: Layer
    /// The weight of the old average in each update, once warmed up.
    let decay: Float

    /// Starts the average at `generator`'s current state, in `network` of the same architecture.
    init(of generator: Layer, in network: Layer, decay: Float) {
        (self.network, self.decay) = (network, decay)
        copy(from: generator)
    }

    /// The decay for the update after `step` steps: TensorFlow's warm-up min(decay, (1 + t) / (10 + t)),
    /// so that a short run's average is not mostly its random start.
    func decay(afterStep step: Int) -> Float {
        min(decay, Float(1 + step) / Float(10 + step))
    }

    /// Folds `generator`'s state after `step` steps into the average.
    func update(from generator: Layer, step: Int) { fold(generator, decay: decay(afterStep: step)) }

    /// Sets the average to `generator`'s state.
    func copy(from generator: Layer) { fold(generator, decay: 0) }

    /// average ← decay · average + (1 − decay) · generator, entry by entry; counters are copied.
    private func fold(_ generator: Layer, decay: Float) {
        for ((_, average), (_, live)) in zip(network.state, generator.state) {
            if let averaged = average.tensor, let trained = live.tensor {
                average.tensor = Self.blend(averaged, trained, decay: decay)
            } else if case .counter(let averaged) = average, case .counter(let trained) = live {
                averaged.value = trained.value
            } else {
                preconditionFailure("the average and the generator have the same architecture")
            }
        }
    }

    /// decay · average + (1 − decay) · live, elementwise.
    private static func blend(_ average: Tensor, _ live: Tensor, decay: Float) -> Tensor {
        let live = live.converted(to: average.layout)
        return average.zip(live) { decay * $0 + (1 - decay) * $1 }
    }
}
