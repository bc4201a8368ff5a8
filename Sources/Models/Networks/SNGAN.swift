/// The ResNet generator and discriminator of SNGAN (Miyato et al. 2018) as StudioGAN builds them
/// unconditionally (`models/resnet.py`, `g_conv_dim` = `d_conv_dim` = 64): spectral normalization
/// (ε 1e-6) on every layer of the discriminator, BatchNorm (ε 1e-4) in the generator, orthogonal
/// initialisation. State names are StudioGAN's (`linear0.weight`, `blocks.0.0.conv2d1.weight_orig`, ...).
///
/// One difference from StudioGAN, on purpose: its discriminator's ReLU is in place, so in the
/// blocks after the first the shortcut reads the activated input; here it reads the block's input
/// itself, as the paper's and Miyato's original code do.
public enum SNGAN {
    /// The latent dimension (StudioGAN's `z_dim`).
    public static let latentSize = 128
    /// The side of the generator's first feature map.
    static let bottom = 4

    /// The sides it builds networks for.
    public static func supports(resolution: Int) -> Bool { generatorWidths[resolution] != nil }

    /// Per resolution, the generator blocks' input and output channels (StudioGAN's tables).
    static let generatorWidths: [Int: [(in: Int, out: Int)]] = [
        32: [(256, 256), (256, 256), (256, 256)],
        64: [(1024, 512), (512, 256), (256, 128), (128, 64)],
        128: [(1024, 1024), (1024, 512), (512, 256), (256, 128), (128, 64)],
    ]

    /// Per resolution, the discriminator blocks' output channels and whether each halves the side.
    static let discriminatorWidths: [Int: [(out: Int, down: Bool)]] = [
        32: [(128, true), (128, true), (128, false), (128, false)],
        64: [(64, true), (128, true), (256, true), (512, true), (1024, false)],
        128: [(64, true), (128, true), (256, true), (512, true), (1024, true), (1024, false)],
    ]

    /// z `[N, 128]` → image `[N, channels, R, R]` in (−1, 1): Linear(128, c₀·4·4) → reshape
    /// `[c₀, 4, 4]` → one up-sampling residual block per doubling → BatchNorm → ReLU →
    /// Conv2d(c, channels, k3, p1) → Tanh. At 32 px, c = 256 throughout.
    public static func generator(resolution: Int, channels: Int, random: inout RandomStream) -> Generator {
        guard let widths = generatorWidths[resolution] else { preconditionFailure("SNGAN builds for 32, 64 and 128 px, got \(resolution)") }
        let network = Generator(widths: widths, channels: channels, random: &random)
        Initialization.orthogonal(network, random: &random)
        return network
    }

    /// image `[N, channels, R, R]` → one score `[N, 1]`: residual blocks (the first optimised,
    /// the last ones keeping the side) → ReLU → sum over positions → Linear(c, 1), every
    /// convolution and the linear layer spectrally normalised.
    public static func discriminator(resolution: Int, channels: Int, random: inout RandomStream) -> Discriminator {
        guard let widths = discriminatorWidths[resolution] else { preconditionFailure("SNGAN builds for 32, 64 and 128 px, got \(resolution)") }
        let network = Discriminator(channels: channels, widths: widths, random: &random)
        Initialization.orthogonal(network, random: &random)
        return network
    }

    /// A spectrally normalised Conv2d with a bias (StudioGAN's `snconv2d`).
    static func normalizedConvolution(_ input: Int, _ output: Int, kernel: Int, random: inout RandomStream) -> SpectralNorm {
        SpectralNorm(Conv2d(input, output, kernel: kernel, padding: kernel / 2, random: &random), epsilon: 1e-6, random: &random)
    }

    /// z `[N, 128]` → image `[N, channels, R, R]`; see `SNGAN.generator`.
    public final class Generator: Layer {
        let linear0: Linear
        let blocks: [UpBlock]
        let bn4: BatchNorm
        let conv2d5: Conv2d
        private let firstShape: [Int]
        private let tanh = Tanh()

        init(widths: [(in: Int, out: Int)], channels: Int, random: inout RandomStream) {
            firstShape = [widths[0].in, bottom, bottom]
            linear0 = Linear(latentSize, firstShape.reduce(1, *), random: &random)
            blocks = widths.map { UpBlock($0.in, $0.out, random: &random) }
            bn4 = BatchNorm(widths.last!.out, epsilon: 1e-4)
            conv2d5 = Conv2d(widths.last!.out, channels, kernel: 3, padding: 1, random: &random)
        }

        public func callAsFunction(_ input: Variable) -> Variable {
            let h = blocks.reduce(linear0(input).reshaped([input.value.shape[0]] + firstShape)) { $1($0) }
            return tanh(conv2d5(bn4(h).relu()))
        }

        public var state: [(name: String, entry: StateEntry)] {
            named([("linear0", linear0)] + blocks.enumerated().map { ("blocks.\($0).0", $1) } + [("bn4", bn4), ("conv2d5", conv2d5)])
        }
        public var sublayers: [Layer] { [linear0] + blocks + [bn4, conv2d5] }
        public func setTraining(_ training: Bool) { sublayers.forEach { $0.setTraining(training) } }
    }

    /// `[N, in, H, W]` → `[N, out, 2H, 2W]`: conv2d2(ReLU(bn2(conv2d1(up(ReLU(bn1(x))))))) + conv2d0(up(x)),
    /// up being nearest-neighbour ×2 (StudioGAN's `GenBlock`).
    public final class UpBlock: Layer {
        let bn1: BatchNorm, bn2: BatchNorm
        let conv2d0: Conv2d, conv2d1: Conv2d, conv2d2: Conv2d
        private let upsample = NearestUpsample()

        public init(_ input: Int, _ output: Int, random: inout RandomStream) {
            (bn1, bn2) = (BatchNorm(input, epsilon: 1e-4), BatchNorm(output, epsilon: 1e-4))
            conv2d0 = Conv2d(input, output, kernel: 1, random: &random)
            conv2d1 = Conv2d(input, output, kernel: 3, padding: 1, random: &random)
            conv2d2 = Conv2d(output, output, kernel: 3, padding: 1, random: &random)
        }

        public func callAsFunction(_ x: Variable) -> Variable {
            let residual = conv2d2(bn2(conv2d1(upsample(bn1(x).relu()))).relu())
            return residual + conv2d0(upsample(x)).converted(to: residual.value.layout)
        }

        public var state: [(name: String, entry: StateEntry)] {
            named([("bn1", bn1), ("bn2", bn2), ("conv2d0", conv2d0), ("conv2d1", conv2d1), ("conv2d2", conv2d2)])
        }
        public var sublayers: [Layer] { [bn1, bn2, conv2d0, conv2d1, conv2d2] }
        public func setTraining(_ training: Bool) { sublayers.forEach { $0.setTraining(training) } }
    }

    /// image `[N, channels, R, R]` → score `[N, 1]`; see `SNGAN.discriminator`.
    public final class Discriminator: Layer {
        let blocks: [DownBlock]
        let linear1: SpectralNorm
        private let sum = SpatialSum()

        init(channels: Int, widths: [(out: Int, down: Bool)], random: inout RandomStream) {
            var input = channels
            blocks = widths.enumerated().map { index, width in
                defer { input = width.out }
                return DownBlock(input, width.out, down: width.down, first: index == 0, random: &random)
            }
            linear1 = SpectralNorm(Linear(widths.last!.out, 1, random: &random), epsilon: 1e-6, random: &random)
        }

        public func callAsFunction(_ input: Variable) -> Variable {
            linear1(sum(blocks.reduce(input) { $1($0) }.relu()))
        }

        public var state: [(name: String, entry: StateEntry)] {
            named(blocks.enumerated().map { ("blocks.\($0).0", $1) } + [("linear1", linear1)])
        }
        public var sublayers: [Layer] { blocks + [linear1] }
        public func setTraining(_ training: Bool) { sublayers.forEach { $0.setTraining(training) } }
    }

    /// `[N, in, H, W]` → `[N, out, H/2, W/2]` (or H×W without `down`), convolutions spectrally
    /// normalised. The first block (StudioGAN's `DiscOptBlock`) does not activate its input:
    /// pool(conv2d2(ReLU(conv2d1(x)))) + conv2d0(pool(x)). The others (`DiscBlock`):
    /// pool(conv2d2(ReLU(conv2d1(ReLU(x))))) + pool(conv2d0(x)), the shortcut x itself when
    /// neither the side nor the channels change.
    public final class DownBlock: Layer {
        let conv2d0: SpectralNorm?
        let conv2d1: SpectralNorm, conv2d2: SpectralNorm
        let down: Bool, first: Bool
        private let pool = AvgPool2d()

        public init(_ input: Int, _ output: Int, down: Bool, first: Bool, random: inout RandomStream) {
            (self.down, self.first) = (down, first)
            conv2d0 = first || down || input != output ? normalizedConvolution(input, output, kernel: 1, random: &random) : nil
            conv2d1 = normalizedConvolution(input, output, kernel: 3, random: &random)
            conv2d2 = normalizedConvolution(output, output, kernel: 3, random: &random)
        }

        public func callAsFunction(_ x: Variable) -> Variable {
            var residual = conv2d2(conv2d1(first ? x : x.relu()).relu())
            if down { residual = pool(residual) }
            let shortcut: Variable
            switch (conv2d0, first) {
            case (let conv2d0?, true): shortcut = conv2d0(pool(x))
            case (let conv2d0?, false): shortcut = down ? pool(conv2d0(x)) : conv2d0(x)
            case (nil, _): shortcut = x
            }
            return residual + shortcut.converted(to: residual.value.layout)
        }

        public var state: [(name: String, entry: StateEntry)] {
            named((conv2d0.map { [("conv2d0", $0 as Layer)] } ?? []) + [("conv2d1", conv2d1), ("conv2d2", conv2d2)])
        }
        public var sublayers: [Layer] { (conv2d0.map { [$0] } ?? []) + [conv2d1, conv2d2] }
        public func setTraining(_ training: Bool) { sublayers.forEach { $0.setTraining(training) } }
    }
}
