/// The presets by name: what `--preset` selects and checkpoints record. What each one decides is
/// its definition's, one type per file in Training's `Presets/`; adding a preset is a file there
/// and a case here.
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
    /// Colouring a 28×28 gray image whose true colour is one of two (the essay's yellow bird).
    case colorize28
    /// The DCGAN of PyTorch's own example, at the resolution and channels of the user's images.
    case dcgan
    /// SNGAN's ResNets with spectral normalization and the hinge loss, at your images' shape.
    case sngan
    /// pix2pix's U-Net and PatchGAN on the user's (input, target) pairs, at their shape.
    case pix2pix
}

extension Preset {
    /// "a, b and c": names for a message or help text.
    public static func list(_ names: [String]) -> String {
        names.count <= 2 ? names.joined(separator: " and ") : names.dropLast().joined(separator: ", ") + " and " + names.last!
    }
}
