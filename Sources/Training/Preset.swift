import Models

/// A named pairing of networks and data: what `--preset` selects.
public enum Preset: String, CaseIterable, Codable, Sendable {
    /// The dcgan28 networks on 28×28 grayscale images (Fashion-MNIST).
    case dcgan28
    /// The mlp2d networks on PacGAN's grid of 25 Gaussians.
    case grid2d
    /// The mlp2d networks on PacGAN's ring of 8 Gaussians.
    case ring2d

    /// The generator's input size.
    public var latentSize: Int {
        switch self {
        case .dcgan28: DCGAN28.latentSize
        case .grid2d, .ring2d: MLP2D.latentSize
        }
    }

    /// The shape of one sample (without the batch dimension).
    public var sampleShape: [Int] {
        switch self {
        case .dcgan28: DCGAN28.imageShape
        case .grid2d, .ring2d: [2]
        }
    }

    public func makeGenerator(random: inout RandomStream) -> Sequential {
        switch self {
        case .dcgan28: DCGAN28.generator(random: &random)
        case .grid2d, .ring2d: MLP2D.generator(random: &random)
        }
    }

    /// The discriminator, judging `pack` samples at once (PacGAN): packed along channels for
    /// images, along features for points.
    public func makeDiscriminator(pack: Int = 1, random: inout RandomStream) -> Sequential {
        switch self {
        case .dcgan28: DCGAN28.discriminator(channels: pack, random: &random)
        case .grid2d, .ring2d: MLP2D.discriminator(pack: pack, random: &random)
        }
    }
}
