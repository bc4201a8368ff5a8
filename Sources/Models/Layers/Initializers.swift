/// Weight initialisations beyond each layer's PyTorch default (which its initialiser applies).
public enum Initialization {
    /// DCGAN's (Radford et al. 2016): convolution and linear weights from N(0, 0.02²) with zero
    /// bias; BatchNorm weight from N(1, 0.02²) with zero bias.
    public static func dcgan(_ network: Layer, random: inout RandomStream) {
        for layer in network.allLayers {
            switch layer {
            case let layer as Conv2d: reset(layer.weight, layer.bias, mean: 0, random: &random)
            case let layer as ConvTranspose2d: reset(layer.weight, layer.bias, mean: 0, random: &random)
            case let layer as Linear: reset(layer.weight, layer.bias, mean: 0, random: &random)
            case let layer as BatchNorm where layer.affine: reset(layer.weight, layer.bias, mean: 1, random: &random)
            default: break
            }
        }
    }

    private static func reset(_ weight: Parameter, _ bias: Parameter?, mean: Float, random: inout RandomStream) {
        weight.value = random.normal(shape: weight.value.shape, mean: mean, std: 0.02)
        if let bias { bias.value = Tensor(shape: bias.value.shape) }
    }

    /// StudioGAN's "ortho" (PyTorch's `init.orthogonal_`): every convolution's and linear layer's
    /// weight, seen as a `[out, in·k·k]` matrix, a random one with orthonormal rows (or columns,
    /// whichever are fewer), and zero bias; BatchNorm keeps its own. A spectrally normalised
    /// layer's trained weight is the one set.
    public static func orthogonal(_ network: Layer, random: inout RandomStream) {
        let wrapped = Set(network.allLayers.compactMap { ($0 as? SpectralNorm).map { ObjectIdentifier($0.layer) } })
        for layer in network.allLayers where !wrapped.contains(ObjectIdentifier(layer)) {
            let (weight, bias): (Parameter, Parameter?)
            switch layer {
            case let layer as SpectralNorm: (weight, bias) = (layer.weight, layer.bias)
            case let layer as Conv2d: (weight, bias) = (layer.weight, layer.bias)
            case let layer as ConvTranspose2d: (weight, bias) = (layer.weight, layer.bias)
            case let layer as Linear: (weight, bias) = (layer.weight, layer.bias)
            default: continue
            }
            weight.value = orthogonalMatrix(shape: weight.value.shape, random: &random)
            if let bias { bias.value = Tensor(shape: bias.value.shape) }
        }
    }

    /// A `shape[0]` × (the rest) matrix drawn from N(0, 1) and orthonormalised (QR's Q, signed as
    /// PyTorch signs it) along the shorter side: uniform over such matrices.
    static func orthogonalMatrix(shape: [Int], random: inout RandomStream) -> Tensor {
        let rows = shape[0], columns = shape.dropFirst().reduce(1, *)
        let (count, length) = (min(rows, columns), max(rows, columns))
        let drawn = random.normal(count: count * length).map(Double.init)
        // LAPACK fails only on invalid arguments, which these sizes are not.
        let vectors = try! LAPACK.orthonormalized(drawn, count: count, length: length)
        // Vectors are rows when rows are fewer, columns otherwise.
        return Tensor(shape: shape) { index in
            let (row, column) = (index / columns, index % columns)
            return Float(rows <= columns ? vectors[row * length + column] : vectors[column * length + row])
        }
    }
}
