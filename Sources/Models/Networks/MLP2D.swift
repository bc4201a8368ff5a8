/// The networks of PacGAN's 2-D experiments (Lin et al. 2018), for the grid and ring mixtures.
public enum MLP2D {
    public static let latentSize = 2

    /// z `[N, 2]` → point `[N, 2]`: four blocks of Linear(400) → BatchNorm(400) → ReLU, then Linear(400, 2).
    /// Indices 0...12 (the blocks use 0–11).
    public static func generator(random: inout RandomStream) -> Sequential {
        var layers: [Layer] = []
        var width = latentSize
        for _ in 0..<4 {
            layers += [Linear(width, 400, random: &random), BatchNorm(400), ReLU()]
            width = 400
        }
        layers.append(Linear(400, 2, random: &random))
        return Sequential(layers)
    }

    /// points `[N, 2·pack]` → one logit `[N, 1]`: three Maxout(200 units, 5 pieces), then Linear(200, 1).
    /// `pack` > 1 judges several samples at once (PacGAN).
    public static func discriminator(pack: Int = 1, random: inout RandomStream) -> Sequential {
        Sequential([
            Maxout(2 * pack, units: 200, pieces: 5, random: &random),
            Maxout(200, units: 200, pieces: 5, random: &random),
            Maxout(200, units: 200, pieces: 5, random: &random),
            Linear(200, 1, random: &random),
        ])
    }
}
