/// Image completion on 28×28 single-channel images: given the top half, the bottom half.
public enum Completion28 {
    /// One half image, top or bottom: `[1, 14, 28]`.
    public static let halfShape = [1, 14, 28]
    public static let halfSize = 14 * 28
    /// The noise that lets one top half have several completions.
    public static let noiseSize = 32
    /// The generator's input width: a flattened top half, then the noise.
    public static let inputSize = halfSize + noiseSize

    /// The conditional generator, top half and noise → bottom half; see `ConditionalGenerator`.
    public static func generator(random: inout RandomStream) -> ConditionalGenerator {
        let encoder = Sequential([Reshape(halfShape)] + DCGAN28.downsampling(random: &random) + [
            Flatten(),
            Linear(128 * 3 * 7, 256, random: &random),
            BatchNorm(256),
            ReLU(),
        ])
        let decoder = Sequential([
            Linear(256 + noiseSize, 64 * 7 * 14, random: &random),
            BatchNorm(64 * 7 * 14),
            ReLU(),
            Reshape([64, 7, 14]),
            ConvTranspose2d(64, 32, kernel: 4, stride: 2, padding: 1, random: &random),
            BatchNorm(32),
            ReLU(),
            Conv2d(32, 1, kernel: 3, stride: 1, padding: 1, random: &random),
            Tanh(),
        ])
        let generator = ConditionalGenerator(encoder: encoder, decoder: decoder, conditionSize: halfSize)
        Initialization.dcgan(generator, random: &random)
        return generator
    }

    /// The conditional discriminator judges a whole image, given top over real or generated bottom
    /// (pix2pix's pairing of condition and output, here stacked along the height): the dcgan28
    /// discriminator, `[N, 1, 28, 28]` → `[N, 1]`.
    public static func discriminator(random: inout RandomStream) -> Sequential {
        DCGAN28.discriminator(random: &random)
    }

    /// images `[N, 1, 28, 28]` → (top `[N, 1, 14, 28]`, bottom `[N, 1, 14, 28]`).
    public static func halves(of images: Tensor) -> (top: Tensor, bottom: Tensor) {
        (images.slice(0..<14, axis: 2), images.slice(14..<28, axis: 2))
    }

    /// The generator's input `[N, 392 + 32]` from tops `[N, 1, 14, 28]` and noise `[N, 32]`.
    public static func generatorInput(top: Tensor, noise: Tensor) -> Tensor {
        Tensor.concatenate([top.reshaped([top.shape[0], halfSize]), noise], axis: 1)
    }
}

/// A generator conditioned on an input it must respect: input `[N, c + z]`, the condition
/// flattened (`c` values) and then the noise (`z`). The encoder maps the condition to features
/// `[N, f]`; the decoder maps features and noise `[N, f + z]` to the output.
/// The noise joins after the encoder so that it steers the whole decoder, not a corner of the image.
/// State names `encoder.<i>.…` and `decoder.<i>.…`, as a PyTorch module with those two children.
public final class ConditionalGenerator: Layer {
    public let encoder: Sequential
    public let decoder: Sequential
    public let conditionSize: Int

    public init(encoder: Sequential, decoder: Sequential, conditionSize: Int) {
        (self.encoder, self.decoder, self.conditionSize) = (encoder, decoder, conditionSize)
    }

    public func callAsFunction(_ input: Variable) -> Variable {
        let width = input.value.shape[1]
        let features = encoder(input.slice(0..<conditionSize, axis: 1))
        return decoder(Variable.concatenate([features, input.slice(conditionSize..<width, axis: 1)], axis: 1))
    }

    public var state: [(name: String, entry: StateEntry)] {
        encoder.state.map { ("encoder.\($0.name)", $0.entry) } + decoder.state.map { ("decoder.\($0.name)", $0.entry) }
    }

    public func setTraining(_ training: Bool) {
        encoder.setTraining(training)
        decoder.setTraining(training)
    }

    public var sublayers: [Layer] { [encoder, decoder] }
}
