/// The DCGAN of PyTorch's own example (`pytorch/examples`, `dcgan/main.py`), for square images of
/// any power-of-two side from 16 pixels and 1 or 3 channels: one stride-2 block per doubling.
/// Its state names are the example's (`main.0.weight`, ...), so a checkpoint loads into it.
public enum DCGAN {
    /// The latent dimension (the example's `nz`).
    public static let latentSize = 100
    /// The example's `ngf` and `ndf`.
    public static let width = 64

    /// The sides it builds networks for.
    public static func supports(resolution: Int) -> Bool { resolution >= 16 && resolution & (resolution - 1) == 0 }

    /// z `[N, 100]` → image `[N, channels, R, R]` in (−1, 1), for R = `resolution`:
    /// ConvTranspose2d(100, 64·R/8, k4, s1, p0) → BatchNorm → ReLU, then per doubling up to R/2
    /// ConvTranspose2d(c, c/2, k4, s2, p1) → BatchNorm → ReLU, then ConvTranspose2d(64, channels,
    /// k4, s2, p1) → Tanh; no convolution has a bias. At 64 px this is the example's generator.
    public static func generator(resolution: Int, channels: Int, random: inout RandomStream) -> PyTorchSequential {
        precondition(supports(resolution: resolution), "DCGAN builds for power-of-two sides from 16, got \(resolution)")
        var width = Self.width * resolution / 8
        var layers: [Layer] = [ConvTranspose2d(latentSize, width, kernel: 4, stride: 1, padding: 0, bias: false, random: &random),
                               BatchNorm(width), ReLU()]
        while width > Self.width {
            layers += [ConvTranspose2d(width, width / 2, kernel: 4, stride: 2, padding: 1, bias: false, random: &random), BatchNorm(width / 2), ReLU()]
            width /= 2
        }
        layers += [ConvTranspose2d(width, channels, kernel: 4, stride: 2, padding: 1, bias: false, random: &random), Tanh()]
        let network = PyTorchSequential(name: "main", layers, inputShape: [latentSize, 1, 1])
        Initialization.dcgan(network, random: &random)
        return network
    }

    /// image `[N, channels, R, R]` → one logit `[N, 1]`: Conv2d(channels, 64, k4, s2, p1) →
    /// LeakyReLU(0.2), then per halving down to 4 pixels Conv2d(c, 2c, k4, s2, p1) → BatchNorm →
    /// LeakyReLU(0.2), then Conv2d(64·R/8, 1, k4, s1, p0); no convolution has a bias. The example
    /// ends in a Sigmoid, which the objectives here apply themselves (to logits, for stability).
    public static func discriminator(resolution: Int, channels: Int, random: inout RandomStream) -> PyTorchSequential {
        precondition(supports(resolution: resolution), "DCGAN builds for power-of-two sides from 16, got \(resolution)")
        var width = Self.width
        var layers: [Layer] = [Conv2d(channels, width, kernel: 4, stride: 2, padding: 1, bias: false, random: &random), LeakyReLU(slope: 0.2)]
        var side = resolution / 2
        while side > 4 {
            layers += [Conv2d(width, 2 * width, kernel: 4, stride: 2, padding: 1, bias: false, random: &random), BatchNorm(2 * width),
                       LeakyReLU(slope: 0.2)]
            (width, side) = (2 * width, side / 2)
        }
        layers.append(Conv2d(width, 1, kernel: 4, stride: 1, padding: 0, bias: false, random: &random))
        let network = PyTorchSequential(name: "main", layers, inputShape: nil)
        Initialization.dcgan(network, random: &random)
        return network
    }
}

/// A PyTorch module holding one `nn.Sequential` attribute (`self.main = nn.Sequential(...)`): state
/// names `main.<i>.…`. Its input is reshaped to `[N] + inputShape` when given (a latent vector to
/// a 1×1 image), and its output flattened to `[N, features]`.
public final class PyTorchSequential: Layer {
    public let name: String
    public let body: Sequential
    public let inputShape: [Int]?

    public init(name: String, _ layers: [Layer], inputShape: [Int]?) {
        (self.name, body, self.inputShape) = (name, Sequential(layers), inputShape)
    }

    public func callAsFunction(_ input: Variable) -> Variable {
        let x = inputShape.map { input.reshaped([input.value.shape[0]] + $0) } ?? input
        let y = body(x)
        return inputShape == nil ? y.reshaped([y.value.shape[0], -1]) : y
    }

    public var state: [(name: String, entry: StateEntry)] { named([(name, body)]) }
    public func setTraining(_ training: Bool) { body.setTraining(training) }
    public var sublayers: [Layer] { [body] }
}
