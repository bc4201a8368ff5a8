/// The DCGAN networks for 28×28 single-channel images (Fashion-MNIST), layer for layer as the
/// PyTorch reference in `Tests/ModelsTests/Fixtures/make_parity_fixtures.py`.
public enum DCGAN28 {
    /// The latent dimension of `generator`'s input.
    public static let latentSize = 100
    /// One image: `[1, 28, 28]`.
    public static let imageShape = [1, 28, 28]

    /// z `[N, 100]` → image `[N, 1, 28, 28]` in (−1, 1):
    /// Linear(100, 6272) → BatchNorm(6272) → ReLU → reshape [128, 7, 7] → ConvTranspose2d(128, 64, k4, s2, p1)
    /// → BatchNorm(64) → ReLU → ConvTranspose2d(64, 1, k4, s2, p1) → Tanh. Indices 0...8.
    public static func generator(random: inout RandomStream) -> Sequential {
        let network = Sequential([
            Linear(latentSize, 128 * 7 * 7, random: &random),
            BatchNorm(128 * 7 * 7),
            ReLU(),
            Reshape([128, 7, 7]),
            ConvTranspose2d(128, 64, kernel: 4, stride: 2, padding: 1, random: &random),
            BatchNorm(64),
            ReLU(),
            ConvTranspose2d(64, 1, kernel: 4, stride: 2, padding: 1, random: &random),
            Tanh(),
        ])
        Initialization.dcgan(network, random: &random)
        return network
    }

    /// image `[N, channels, 28, 28]` → one logit `[N, 1]`:
    /// Conv2d(channels, 64, k4, s2, p1) → LeakyReLU(0.2) → Conv2d(64, 128, k4, s2, p1) → BatchNorm(128)
    /// → LeakyReLU(0.2) → Flatten → Linear(6272, 1). Indices 0...6. `channels` > 1 packs samples (PacGAN).
    public static func discriminator(channels: Int = 1, random: inout RandomStream) -> Sequential {
        let network = Sequential(downsampling(channels: channels, random: &random) + [
            Flatten(),
            Linear(128 * 7 * 7, 1, random: &random),
        ])
        Initialization.dcgan(network, random: &random)
        return network
    }

    /// image `[N, channels, H, W]` → features `[N, 128, H/4, W/4]` (rounded down, for H, W multiples of 2):
    /// Conv2d(channels, 64, k4, s2, p1) → LeakyReLU(0.2) → Conv2d(64, 128, k4, s2, p1) → BatchNorm(128)
    /// → LeakyReLU(0.2). The discriminator's front, shared by alphagan28's encoder and completion28's.
    public static func downsampling(channels: Int = 1, random: inout RandomStream) -> [Layer] {
        [
            Conv2d(channels, 64, kernel: 4, stride: 2, padding: 1, random: &random),
            LeakyReLU(slope: 0.2),
            Conv2d(64, 128, kernel: 4, stride: 2, padding: 1, random: &random),
            BatchNorm(128),
            LeakyReLU(slope: 0.2),
        ]
    }
}
