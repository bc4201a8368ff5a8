/// The two networks Alpha-GAN (Rosca et al. 2017) adds to dcgan28's generator and discriminator
/// for 28×28 single-channel images.
public enum AlphaGAN28 {
    /// The code size: the generator's latent size, so codes and prior samples live in one space.
    public static let codeSize = DCGAN28.latentSize

    /// image `[N, 1, 28, 28]` → code `[N, 100]`:
    /// Conv2d(1, 64, k4, s2, p1) → LeakyReLU(0.2) → Conv2d(64, 128, k4, s2, p1) → BatchNorm(128)
    /// → LeakyReLU(0.2) → Flatten → Linear(6272, 100) → BatchNorm1d(100, affine=False). Indices 0...7.
    ///
    /// The last layer gives every batch of codes mean 0 and variance 1 per dimension, the prior's:
    /// without it, after 1,500 steps the codes' mean was 8.6 away from the prior's and their
    /// variance 0.57, so G learned to decode codes that prior samples never resemble.
    /// `normalizingCodes` false builds the encoder of checkpoints from before it, without layer 7.
    public static func encoder(random: inout RandomStream, normalizingCodes: Bool = true) -> Sequential {
        let network = Sequential(DCGAN28.downsampling(random: &random) + [
            Flatten(),
            Linear(128 * 7 * 7, codeSize, random: &random),
        ] + (normalizingCodes ? [BatchNorm(codeSize, affine: false)] : []))
        Initialization.dcgan(network, random: &random)
        return network
    }

    /// code `[N, 100]` → one logit `[N, 1]`: Linear(100, 750) → LeakyReLU(0.2) → Linear(750, 750)
    /// → LeakyReLU(0.2) → Linear(750, 1). Indices 0...4. No BatchNorm: it would let C compare
    /// batch statistics of codes rather than judge each code.
    public static func codeDiscriminator(random: inout RandomStream) -> Sequential {
        Sequential([
            Linear(codeSize, 750, random: &random),
            LeakyReLU(slope: 0.2),
            Linear(750, 750, random: &random),
            LeakyReLU(slope: 0.2),
            Linear(750, 1, random: &random),
        ])
    }
}
