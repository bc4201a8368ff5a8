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
        let encoder = ConditionalGenerator.encoder(of: halfShape, random: &random)
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
        let generator = ConditionalGenerator(encoder: encoder, decoder: decoder, conditionShape: halfShape)
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
        ConditionalGenerator.input(condition: top, noise: noise)
    }
}

/// A generator conditioned on an input it must respect: input `[N, c + z]`, the condition
/// flattened (`c` values) and then the noise (`z`). The encoder maps the condition to features
/// `[N, f]`; the decoder maps features and noise `[N, f + z]` to the output.
/// The noise joins after the encoder so that it steers the whole decoder, not a corner of the image.
///
/// With a `head`, the decoder's output `[N, k, H, W]` is joined by the condition itself as an image
/// `[N, 1, H, W]` (`conditionShape`) and the head maps the `k + 1` channels to the output: a skip
/// connection that gives the head every pixel of the input, which the encoder's features are too
/// few to carry (colorize28 must keep the garment and only add colour).
/// State names `encoder.<i>.…`, `decoder.<i>.…` (and `head.<i>.…`), as a PyTorch module with those children.
public final class ConditionalGenerator: Layer {
    public let encoder: Sequential
    public let decoder: Sequential
    public let head: Sequential?
    public let conditionShape: [Int]

    public init(encoder: Sequential, decoder: Sequential, head: Sequential? = nil, conditionShape: [Int]) {
        (self.encoder, self.decoder, self.head, self.conditionShape) = (encoder, decoder, head, conditionShape)
    }

    /// The conditional presets' encoder, a condition flattened `[N, H·W]` → features `[N, 256]`:
    /// reshape to `shape` `[1, H, W]` → Conv2d(1, 64, k4, s2, p1) → LeakyReLU(0.2) → Conv2d(64, 128,
    /// k4, s2, p1) → BatchNorm(128) → LeakyReLU(0.2) → Flatten → Linear(128·H/4·W/4, 256) →
    /// BatchNorm(256) → ReLU. Indices 0...9.
    public static func encoder(of shape: [Int], random: inout RandomStream) -> Sequential {
        Sequential([Reshape(shape)] + DCGAN28.downsampling(random: &random) + [
            Flatten(),
            Linear(128 * (shape[1] / 4) * (shape[2] / 4), 256, random: &random),
            BatchNorm(256),
            ReLU(),
        ])
    }

    /// The generator's input `[N, c + z]` from conditions `[N, ...]` (c values each) and noise `[N, z]`.
    public static func input(condition: Tensor, noise: Tensor) -> Tensor {
        Tensor.concatenate([condition.reshaped([condition.shape[0], condition.count / max(condition.shape[0], 1)]), noise], axis: 1)
    }

    /// The condition's size, flattened.
    public var conditionSize: Int { conditionShape.reduce(1, *) }

    public func callAsFunction(_ input: Variable) -> Variable {
        let width = input.value.shape[1]
        let condition = input.slice(0..<conditionSize, axis: 1)
        let decoded = decoder(Variable.concatenate([encoder(condition), input.slice(conditionSize..<width, axis: 1)], axis: 1))
        guard let head else { return decoded }
        return head(Variable.concatenate([decoded, condition.reshaped([input.value.shape[0]] + conditionShape)], axis: 1))
    }

    public var state: [(name: String, entry: StateEntry)] {
        sublayers.enumerated().flatMap { index, layer in
            layer.state.map { (["encoder", "decoder", "head"][index] + ".\($0.name)", $0.entry) }
        }
    }

    public func setTraining(_ training: Bool) { sublayers.forEach { $0.setTraining(training) } }

    public var sublayers: [Layer] { [encoder, decoder] + (head.map { [$0] } ?? []) }
}
