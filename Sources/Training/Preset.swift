import Models

/// A named pairing of networks and data: what `--preset` selects.
public enum Preset: String, CaseIterable, Codable, Sendable {
    /// The dcgan28 networks on 28×28 grayscale images (Fashion-MNIST).
    case dcgan28
    /// The mlp2d networks on PacGAN's grid of 25 Gaussians.
    case grid2d
    /// The mlp2d networks on PacGAN's ring of 8 Gaussians.
    case ring2d
    /// Alpha-GAN on 28×28 images: dcgan28's G and D with an encoder and a code discriminator.
    case alphagan28
    /// Completing the bottom half of a 28×28 image from its top half.
    case completion28

    /// The size of the noise each sample is drawn from.
    public var latentSize: Int {
        switch self {
        case .dcgan28, .alphagan28: DCGAN28.latentSize
        case .grid2d, .ring2d: MLP2D.latentSize
        case .completion28: Completion28.noiseSize
        }
    }

    /// The shape of one sample of the data (without the batch dimension).
    public var sampleShape: [Int] {
        switch self {
        case .dcgan28, .alphagan28, .completion28: DCGAN28.imageShape
        case .grid2d, .ring2d: [2]
        }
    }

    /// Whether the preset trains on image files (rather than data generated from the seed).
    public var takesImages: Bool { mixture == nil }

    /// Whether the generator draws samples from noise alone (not completions of given inputs).
    public var samplesFromNoise: Bool { self != .completion28 }

    /// The generator: noise `[N, latentSize]` → sample, or for completion28 top half and noise
    /// `[N, 392 + 32]` → bottom half `[N, 1, 14, 28]`.
    public func makeGenerator(random: inout RandomStream) -> Layer {
        switch self {
        case .dcgan28, .alphagan28: DCGAN28.generator(random: &random)
        case .grid2d, .ring2d: MLP2D.generator(random: &random)
        case .completion28: Completion28.generator(random: &random)
        }
    }

    /// The discriminator, judging `pack` samples at once (PacGAN): packed along channels for
    /// images, along features for points.
    public func makeDiscriminator(pack: Int = 1, random: inout RandomStream) -> Sequential {
        switch self {
        case .dcgan28, .alphagan28: DCGAN28.discriminator(channels: pack, random: &random)
        case .grid2d, .ring2d: MLP2D.discriminator(pack: pack, random: &random)
        case .completion28: Completion28.discriminator(random: &random)
        }
    }

    /// Whole samples from generator inputs `input`, the generator in evaluation mode: points,
    /// images, or for completion28 each input's top over its generated bottom `[N, 1, 28, 28]`.
    public func samples(of generator: Layer, input: Tensor) -> Tensor {
        generator.setTraining(false)
        defer { generator.setTraining(true) }
        var parts: [Tensor] = []
        for start in stride(from: 0, to: input.shape[0], by: 256) {
            let rows = input.slice(start..<min(start + 256, input.shape[0]), axis: 0)
            let output = generator(Variable(rows)).value
            guard self == .completion28 else { parts.append(output); continue }
            let tops = rows.slice(0..<Completion28.halfSize, axis: 1).reshaped([rows.shape[0]] + Completion28.halfShape)
            parts.append(Tensor.concatenate([tops, output], axis: 2))
        }
        return Tensor.concatenate(parts, axis: 0)
    }

    /// A picture of whole samples: a grid of images (`columns` wide, square by default) or a scatter of points.
    public func picture(of samples: Tensor, columns: Int? = nil) -> GrayImage {
        switch self {
        case .dcgan28, .alphagan28, .completion28:
            GrayImage.grid(of: samples, columns: columns ?? max(1, Int(Double(samples.shape[0]).squareRoot().rounded(.up))))
        case .grid2d: GrayImage.scatter(of: samples, modes: MixtureOfGaussians.grid.modes, extent: 6)
        case .ring2d: GrayImage.scatter(of: samples, modes: MixtureOfGaussians.ring.modes, extent: 1.6)
        }
    }
}
