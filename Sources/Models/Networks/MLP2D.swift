/// The networks of PacGAN's 2-D experiments (Lin et al. 2018), for the grid and ring mixtures.
public enum MLP2D {
    public static let latentSize = 2

    /// z `[N, 2]` → point `[N, 2]`: four blocks of Linear(400) → ReLU, then Linear(400, 2).
    /// Indices 0...8 (the blocks use 0–7).
    ///
    /// PacGAN's generator has a BatchNorm in each block. In training it normalises by the batch's
    /// own statistics, which move every sample with the rest of its batch: the discriminator only
    /// ever sees samples blurred that way (grid2d seed 1 with BatchNorm after 12,000 steps: 65% high
    /// quality drawn in batches of 100, 84% from the same weights in evaluation mode), and learns
    /// less about the modes' edges.
    public static func generator(random: inout RandomStream) -> Sequential {
        var layers: [Layer] = []
        var width = latentSize
        for _ in 0..<4 {
            layers += [Linear(width, 400, random: &random), ReLU()]
            width = 400
        }
        layers.append(Linear(400, 2, random: &random))
        return Sequential(layers)
    }

    /// points `[N, 2·pack]` → one logit `[N, 1]`: three Maxout(200 units, 5 pieces), then Linear(200, 1).
    /// `pack` > 1 judges several samples at once (PacGAN), its first layer started by `startOnOnePoint`.
    public static func discriminator(pack: Int = 1, random: inout RandomStream) -> Sequential {
        let first = Maxout(2 * pack, units: 200, pieces: 5, random: &random)
        if pack > 1 { startOnOnePoint(first, pack: pack, random: &random) }
        return Sequential([
            first,
            Maxout(200, units: 200, pieces: 5, random: &random),
            Maxout(200, units: 200, pieces: 5, random: &random),
            Linear(200, 1, random: &random),
        ])
    }

    /// Starts each unit of a packed first layer on one point of the pack: unit u's pieces read only
    /// point u mod `pack`, with the weights and bias a one-point layer would draw (uniform in ±1/√2).
    ///
    /// Started fully connected, as PyTorch would, every piece projects the sum of `pack` points'
    /// coordinates; that sum is close to Gaussian for real and generated packs alike, the
    /// discriminator finds nothing to learn from and its loss stays at chance (grid2d `--pack 4`:
    /// 35,000 steps). Started on one point each, its pieces see the grid, and it learns (from about
    /// step 5,000). Training may still mix the points; the architecture is unchanged.
    static func startOnOnePoint(_ layer: Maxout, pack: Int, random: inout RandomStream) {
        let inputs = 2 * pack, bound = 1 / Float(2).squareRoot()
        var weight = layer.weight.value, bias = layer.bias.value
        for row in 0..<layer.units * layer.pieces {
            let point = (row / layer.pieces) % pack
            for column in 0..<inputs {
                weight.scalars[row * inputs + column] = column / 2 == point ? random.uniform(-bound, bound) : 0
            }
            bias.scalars[row] = random.uniform(-bound, bound)
        }
        (layer.weight.value, layer.bias.value) = (weight, bias)
    }
}
