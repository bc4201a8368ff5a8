/// pix2pix (Isola et al. 2017) as `pytorch-CycleGAN-and-pix2pix` builds it with its defaults
/// (`--netG unet_<R> --netD basic --norm batch`): the U-Net generator and the 70×70 PatchGAN
/// discriminator, with that repository's state names (`UnetGenerator`'s `model.model.1.model.1.weight`,
/// `NLayerDiscriminator`'s `model.0.weight`), so a checkpoint's tensors load there.
public enum Pix2Pix {
    /// The repository's default `ngf` and `ndf`: the first level's channels, which the deeper
    /// levels double up to 8 times it.
    public static let defaultWidth = 64
    /// The noise per sample: it keys the dropout masks (`Dropout`), the paper's only noise.
    public static let noiseSize = 8

    /// The sides it builds networks for: a power of two from 32 (a U-Net of log2(side) levels down
    /// to 1×1; 256 is the paper's `unet_256`).
    public static func supports(resolution: Int) -> Bool { resolution >= 32 && resolution <= 1024 && resolution & (resolution - 1) == 0 }

    /// The U-Net, input `[N, inputChannels·R·R + 8]` (the condition image flattened, then the
    /// noise; `ConditionalGenerator.input`) → output `[N, outputChannels, R, R]` in (−1, 1).
    ///
    /// Levels, outermost first, each a `UNetBlock` whose output joins its input along the channels
    /// (channels here for `width` 64, the paper's; each scales with it):
    /// Conv2d(in, 64, k4, s2, p1) … ConvTranspose2d(128, out, k4, s2, p1) → Tanh (the only biases);
    /// then 64 → 128, 128 → 256 and 256 → 512 levels of LeakyReLU(0.2) → Conv2d(k4, s2, p1) →
    /// BatchNorm … ReLU → ConvTranspose2d(2·inner, outer, k4, s2, p1) → BatchNorm; then log2(R) − 5
    /// levels 512 → 512 that end in Dropout(0.5) when `dropout`; innermost LeakyReLU → Conv2d(512, 512)
    /// → ReLU → ConvTranspose2d(512, 512) → BatchNorm at 1×1.
    public static func generator(resolution: Int, inputChannels: Int, outputChannels: Int, width: Int = defaultWidth, dropout: Bool = true,
                                 random: inout RandomStream) -> Pix2PixGenerator {
        precondition(supports(resolution: resolution), "pix2pix builds for power-of-two sides from 32, got \(resolution)")
        let levels = resolution.trailingZeroBitCount
        let top = 8 * width
        var block = UNetBlock([
            LeakyReLU(slope: 0.2), Conv2d(top, top, kernel: 4, stride: 2, padding: 1, bias: false, random: &random),
            ReLU(), ConvTranspose2d(top, top, kernel: 4, stride: 2, padding: 1, bias: false, random: &random), BatchNorm(top),
        ])
        func level(outer: Int, inner: Int, around block: UNetBlock, dropout: Bool, random: inout RandomStream) -> UNetBlock {
            UNetBlock([
                LeakyReLU(slope: 0.2), Conv2d(outer, inner, kernel: 4, stride: 2, padding: 1, bias: false, random: &random), BatchNorm(inner),
                block,
                ReLU(), ConvTranspose2d(2 * inner, outer, kernel: 4, stride: 2, padding: 1, bias: false, random: &random), BatchNorm(outer),
            ] + (dropout ? [Dropout(probability: 0.5)] : []))
        }
        for _ in 0..<(levels - 5) { block = level(outer: top, inner: top, around: block, dropout: dropout, random: &random) }
        for outer in [4 * width, 2 * width, width] { block = level(outer: outer, inner: 2 * outer, around: block, dropout: false, random: &random) }
        let outermost = UNetBlock([
            Conv2d(inputChannels, width, kernel: 4, stride: 2, padding: 1, bias: false, random: &random),
            block,
            ReLU(), ConvTranspose2d(2 * width, outputChannels, kernel: 4, stride: 2, padding: 1, random: &random), Tanh(),
        ], outermost: true)
        let generator = Pix2PixGenerator(model: outermost, conditionShape: [inputChannels, resolution, resolution])
        Initialization.dcgan(generator, random: &random)
        return generator
    }

    /// The PatchGAN, a pair joined along the channels `[N, channels, R, R]` → one logit per
    /// overlapping 70×70 patch `[N, (R/8 − 2)²]` (channels for `width` 64): Conv2d(channels, 64, k4, s2, p1) → LeakyReLU(0.2),
    /// then Conv2d(64, 128) and Conv2d(128, 256) (k4, s2, p1), Conv2d(256, 512, k4, s1, p1), each →
    /// BatchNorm → LeakyReLU(0.2), then Conv2d(512, 1, k4, s1, p1); the first and last have biases.
    public static func discriminator(channels: Int, width: Int = defaultWidth, random: inout RandomStream) -> PyTorchSequential {
        var layers: [Layer] = [Conv2d(channels, width, kernel: 4, stride: 2, padding: 1, random: &random), LeakyReLU(slope: 0.2)]
        for (inner, stride) in [(2 * width, 2), (4 * width, 2), (8 * width, 1)] {
            layers += [Conv2d(inner / 2, inner, kernel: 4, stride: stride, padding: 1, bias: false, random: &random), BatchNorm(inner),
                       LeakyReLU(slope: 0.2)]
        }
        layers.append(Conv2d(8 * width, 1, kernel: 4, stride: 1, padding: 1, random: &random))
        let network = PyTorchSequential(name: "model", layers, inputShape: nil)
        Initialization.dcgan(network, random: &random)
        return network
    }
}

/// One level of the U-Net: `model` takes the level's input down, through the inner levels and
/// back up; the level's output is its input joined to that along the channels `[N, C + C', H, W]`,
/// but for the outermost, whose output is the model's alone. State names `model.<i>.…`.
///
/// The skip carries the input after `model`'s first layer, its LeakyReLU: the reference runs that
/// activation in place on the input it then concatenates, so that is what its skips hold.
public final class UNetBlock: Layer {
    public let model: Sequential
    public let outermost: Bool

    public init(_ layers: [Layer], outermost: Bool = false) { (model, self.outermost) = (Sequential(layers), outermost) }

    public func callAsFunction(_ input: Variable) -> Variable {
        if outermost { return model(input) }
        let activated = model.layers[0](input)
        return Variable.concatenate([activated, model.layers.dropFirst().reduce(activated) { $1($0) }], axis: 1)
    }

    public var state: [(name: String, entry: StateEntry)] { named([("model", model)]) }
    public func setTraining(_ training: Bool) { model.setTraining(training) }
    public var sublayers: [Layer] { [model] }
}

/// The U-Net behind the conditional presets' input convention: `[N, c + z]`, a condition image of
/// `conditionShape` flattened, then noise. The noise keys each row's dropout masks; the image
/// goes through the U-Net. State names `model.…`, as `UnetGenerator`'s.
public final class Pix2PixGenerator: Layer {
    public let model: UNetBlock
    /// `[C, H, W]` of the condition.
    public let conditionShape: [Int]
    let dropouts: [Dropout]

    init(model: UNetBlock, conditionShape: [Int]) {
        (self.model, self.conditionShape) = (model, conditionShape)
        dropouts = model.allLayers.compactMap { $0 as? Dropout }
    }

    public func callAsFunction(_ input: Variable) -> Variable {
        let (rows, conditionSize) = (input.value.shape[0], conditionShape.reduce(1, *))
        let noise = input.value.slice(conditionSize..<input.value.shape[1], axis: 1)
        let width = noise.shape[1]
        for (level, dropout) in dropouts.enumerated() {
            dropout.rowKeys = (0..<rows).map { row in
                noise.scalars[row * width..<(row + 1) * width].reduce(RandomStream.mix(UInt64(level) &+ 0x7069_7832_7069_78)) {
                    RandomStream.mix($0 ^ UInt64($1.bitPattern))
                }
            }
        }
        return model(input.slice(0..<conditionSize, axis: 1).reshaped([rows] + conditionShape))
    }

    public var state: [(name: String, entry: StateEntry)] { named([("model", model)]) }
    public func setTraining(_ training: Bool) { model.setTraining(training) }
    public var sublayers: [Layer] { [model] }
}
