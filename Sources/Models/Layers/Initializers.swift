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
}
