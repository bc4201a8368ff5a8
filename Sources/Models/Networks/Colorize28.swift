/// Colourising 28×28 grayscale images: given the gray image, a colour one `[3, 28, 28]`.
public enum Colorize28 {
    /// The gray input: `[1, 28, 28]`.
    public static let grayShape = [1, 28, 28]
    public static let graySize = 28 * 28
    /// The colour output: `[3, 28, 28]`, RGB in [−1, 1].
    public static let colourShape = [3, 28, 28]
    /// The noise that lets one gray image have several colourings.
    public static let noiseSize = 32

    /// The conditional generator, gray image and noise `[N, 784 + 32]` → colour image `[N, 3, 28, 28]`:
    /// - encoder, gray `[1, 28, 28]`: Conv2d(1, 64, k4, s2, p1) → LeakyReLU(0.2) → Conv2d(64, 128, k4, s2, p1)
    ///   → BatchNorm(128) → LeakyReLU(0.2) → Flatten → Linear(6272, 256) → BatchNorm(256) → ReLU;
    /// - decoder, features and noise `[256 + 32]`: Linear(288, 3136) → BatchNorm(3136) → ReLU →
    ///   reshape `[64, 7, 7]` → ConvTranspose2d(64, 32, k4, s2, p1) → BatchNorm(32) → ReLU →
    ///   ConvTranspose2d(32, 16, k4, s2, p1) → BatchNorm(16) → ReLU: `[16, 28, 28]`;
    /// - head, those 16 channels and the gray image `[17, 28, 28]`: Conv2d(17, 32, k3, s1, p1) →
    ///   BatchNorm(32) → ReLU → Conv2d(32, 3, k3, s1, p1) → Tanh.
    public static func generator(random: inout RandomStream) -> ConditionalGenerator {
        let encoder = ConditionalGenerator.encoder(of: grayShape, random: &random)
        let decoder = Sequential([
            Linear(256 + noiseSize, 64 * 7 * 7, random: &random),
            BatchNorm(64 * 7 * 7),
            ReLU(),
            Reshape([64, 7, 7]),
            ConvTranspose2d(64, 32, kernel: 4, stride: 2, padding: 1, random: &random),
            BatchNorm(32),
            ReLU(),
            ConvTranspose2d(32, 16, kernel: 4, stride: 2, padding: 1, random: &random),
            BatchNorm(16),
            ReLU(),
        ])
        let head = Sequential([
            Conv2d(16 + 1, 32, kernel: 3, stride: 1, padding: 1, random: &random),
            BatchNorm(32),
            ReLU(),
            Conv2d(32, 3, kernel: 3, stride: 1, padding: 1, random: &random),
            Tanh(),
        ])
        let generator = ConditionalGenerator(encoder: encoder, decoder: decoder, head: head, conditionShape: grayShape)
        Initialization.dcgan(generator, random: &random)
        return generator
    }

    /// The conditional discriminator judges the gray image and a colouring of it stacked along the
    /// channels (pix2pix's pairing): the dcgan28 discriminator on `[N, 4, 28, 28]` → `[N, 1]`.
    public static func discriminator(random: inout RandomStream) -> Sequential {
        DCGAN28.discriminator(channels: 1 + 3, random: &random)
    }

    /// The gray image `[N, 1, 28, 28]` of colour images `[N, 3, 28, 28]` whose tint has a channel at
    /// full strength (every colorize28 tint does): the brightest channel of each pixel.
    public static func gray(of colour: Tensor) -> Tensor {
        let (count, plane) = (colour.shape[0], graySize)
        var scalars = [Float](repeating: 0, count: count * plane)
        for image in 0..<count {
            for pixel in 0..<plane {
                let base = image * 3 * plane + pixel
                scalars[image * plane + pixel] = max(colour.scalars[base], colour.scalars[base + plane], colour.scalars[base + 2 * plane])
            }
        }
        return Tensor(shape: [count] + grayShape, scalars: scalars)
    }
}
