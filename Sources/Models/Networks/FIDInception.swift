/// The Inception-v3 that FID is reported in: TensorFlow's 2015-12-05 graph as pytorch-fid ports it
/// (torchvision's Inception-v3 with 1008 classes and pytorch-fid's FIDInceptionA, C, E_1 and E_2
/// blocks), up to pool3, with torchvision's state names (`Mixed_5b.branch1x1.conv.weight`), which
/// are those of pytorch-fid's `pt_inception-2015-12-05-6726825d.pth`. Evaluation only: its
/// BatchNorms use their running statistics.
///
/// - input `[N, 3, H, W]` in [0, 1], any size; output `[N, 2048]`, the pool3 features. The input
///   is resized to 299×299 (bilinear, PyTorch's `align_corners=False`) and scaled to [-1, 1], as
///   pytorch-fid's `InceptionV3(resize_input=True, normalize_input=True)` does.
public final class FIDInception: Layer {
    let stem: [(String, Layer)]
    let mixed: [(String, Layer)]
    /// The 1008-way classifier the weights carry; pool3 features come before it, so it is never run.
    let fc: Linear

    public init() {
        var random = RandomStream(seed: 0, purpose: "fid-inception")
        func basic(_ input: Int, _ output: Int, _ kernel: Window, stride: Int = 1, padding: Window = .square(0)) -> BasicConv2d {
            BasicConv2d(input, output, kernel: kernel, stride: stride, padding: padding, random: &random)
        }
        stem = [
            ("Conv2d_1a_3x3", basic(3, 32, .square(3), stride: 2)),
            ("Conv2d_2a_3x3", basic(32, 32, .square(3))),
            ("Conv2d_2b_3x3", basic(32, 64, .square(3), padding: .square(1))),
            ("maxpool1", MaxPool2d(kernel: 3, stride: 2)),
            ("Conv2d_3b_1x1", basic(64, 80, .square(1))),
            ("Conv2d_4a_3x3", basic(80, 192, .square(3))),
            ("maxpool2", MaxPool2d(kernel: 3, stride: 2)),
        ]
        mixed = [
            ("Mixed_5b", InceptionBlock.a(192, poolFeatures: 32, basic)),
            ("Mixed_5c", InceptionBlock.a(256, poolFeatures: 64, basic)),
            ("Mixed_5d", InceptionBlock.a(288, poolFeatures: 64, basic)),
            ("Mixed_6a", InceptionBlock.b(288, basic)),
            ("Mixed_6b", InceptionBlock.c(768, channels7x7: 128, basic)),
            ("Mixed_6c", InceptionBlock.c(768, channels7x7: 160, basic)),
            ("Mixed_6d", InceptionBlock.c(768, channels7x7: 160, basic)),
            ("Mixed_6e", InceptionBlock.c(768, channels7x7: 192, basic)),
            ("Mixed_7a", InceptionBlock.d(768, basic)),
            ("Mixed_7b", InceptionBlock.e(1280, pool: AvgPool2dOverImage(kernel: 3, stride: 1, padding: 1), basic)),
            // FIDInceptionE_2: TensorFlow's graph has a max pool here, where torchvision's averages.
            ("Mixed_7c", InceptionBlock.e(2048, pool: MaxPool2d(kernel: 3, stride: 1, padding: 1), basic)),
        ]
        fc = Linear(2048, 1008, random: &random)
        setTraining(false)
    }

    /// The side the network sees: every input is resized to it.
    public static let side = 299
    public static let features = 2048

    public func callAsFunction(_ input: Variable) -> Variable {
        precondition(input.value.rank == 4 && input.value.shape[1] == 3, "FIDInception takes [N, 3, H, W] in [0, 1], got \(input.value.shape)")
        let resized = BilinearResize(height: Self.side, width: Self.side)(input)
        var x = -1 + resized * 2
        for (_, layer) in stem + mixed { x = layer(x) }
        let (count, channels, positions) = (x.value.shape[0], x.value.shape[1], x.value.shape[2] * x.value.shape[3])
        return (SpatialSum()(x) * (1 / Float(positions))).reshaped([count, channels])
    }

    public var state: [(name: String, entry: StateEntry)] {
        named((stem + mixed).filter { !$0.1.state.isEmpty } + [("fc", fc)])
    }

    public func setTraining(_ training: Bool) { sublayers.forEach { $0.setTraining(training) } }

    public var sublayers: [Layer] { (stem + mixed).map(\.1) + [fc] }
}

/// torchvision's BasicConv2d: a convolution without bias, BatchNorm (eps 0.001), ReLU.
final class BasicConv2d: Layer {
    let conv: Conv2d
    let bn: BatchNorm

    init(_ input: Int, _ output: Int, kernel: Window, stride: Int, padding: Window, random: inout RandomStream) {
        conv = Conv2d(input, output, kernel: kernel, stride: stride, padding: padding, bias: false, random: &random)
        bn = BatchNorm(output, epsilon: 0.001)
    }

    func callAsFunction(_ input: Variable) -> Variable { ReLU()(bn(conv(input))) }
    var state: [(name: String, entry: StateEntry)] { named([("conv", conv), ("bn", bn)]) }
    func setTraining(_ training: Bool) { bn.setTraining(training) }
    var sublayers: [Layer] { [conv, bn] }
}

/// One of Inception-v3's mixed blocks: branches of layers run on the same input, their outputs
/// joined along the channels. A branch may split in two at its end (InceptionE's 1×3 and 3×1),
/// both halves joined in its place.
final class InceptionBlock: Layer {
    typealias Basic = (Int, Int, Window, Int, Window) -> BasicConv2d
    struct Branch {
        let layers: [(String, Layer)]
        let split: [(String, Layer)]
    }
    let branches: [Branch]

    init(_ branches: [Branch]) { self.branches = branches }

    func callAsFunction(_ input: Variable) -> Variable {
        Variable.concatenate(branches.flatMap { branch -> [Variable] in
            let trunk = branch.layers.reduce(input) { $1.1($0) }
            return branch.split.isEmpty ? [trunk] : branch.split.map { $0.1(trunk) }
        }, axis: 1)
    }

    var state: [(name: String, entry: StateEntry)] { named(allNamed.filter { !$0.1.state.isEmpty }) }
    func setTraining(_ training: Bool) { sublayers.forEach { $0.setTraining(training) } }
    var sublayers: [Layer] { allNamed.map(\.1) }
    /// Every layer in torchvision's attribute order (the state dict's).
    private var allNamed: [(String, Layer)] { branches.flatMap { $0.layers + $0.split } }

    private static func branch(_ layers: [(String, Layer)], split: [(String, Layer)] = []) -> Branch { Branch(layers: layers, split: split) }

    /// FIDInceptionA: 1×1; 1×1 then 5×5; 1×1 then two 3×3; the mean over the image's 3×3 then 1×1.
    static func a(_ input: Int, poolFeatures: Int, _ basic: (Int, Int, Window, Int, Window) -> BasicConv2d) -> InceptionBlock {
        InceptionBlock([
            branch([("branch1x1", basic(input, 64, .square(1), 1, .square(0)))]),
            branch([("branch5x5_1", basic(input, 48, .square(1), 1, .square(0))), ("branch5x5_2", basic(48, 64, .square(5), 1, .square(2)))]),
            branch([("branch3x3dbl_1", basic(input, 64, .square(1), 1, .square(0))), ("branch3x3dbl_2", basic(64, 96, .square(3), 1, .square(1))),
                    ("branch3x3dbl_3", basic(96, 96, .square(3), 1, .square(1)))]),
            branch([("avg_pool", AvgPool2dOverImage(kernel: 3, stride: 1, padding: 1)), ("branch_pool", basic(input, poolFeatures, .square(1), 1, .square(0)))]),
        ])
    }

    /// InceptionB (Mixed_6a): 3×3 stride 2; 1×1, 3×3, 3×3 stride 2; max pool 3 stride 2.
    static func b(_ input: Int, _ basic: (Int, Int, Window, Int, Window) -> BasicConv2d) -> InceptionBlock {
        InceptionBlock([
            branch([("branch3x3", basic(input, 384, .square(3), 2, .square(0)))]),
            branch([("branch3x3dbl_1", basic(input, 64, .square(1), 1, .square(0))), ("branch3x3dbl_2", basic(64, 96, .square(3), 1, .square(1))),
                    ("branch3x3dbl_3", basic(96, 96, .square(3), 2, .square(0)))]),
            branch([("max_pool", MaxPool2d(kernel: 3, stride: 2))]),
        ])
    }

    /// FIDInceptionC: 1×1; 1×1, 1×7, 7×1; 1×1, 7×1, 1×7, 7×1, 1×7; the mean over the image's 3×3 then 1×1.
    static func c(_ input: Int, channels7x7 c7: Int, _ basic: (Int, Int, Window, Int, Window) -> BasicConv2d) -> InceptionBlock {
        let (wide, tall) = (Window(1, 7), Window(7, 1))
        let (padWide, padTall) = (Window(0, 3), Window(3, 0))
        return InceptionBlock([
            branch([("branch1x1", basic(input, 192, .square(1), 1, .square(0)))]),
            branch([("branch7x7_1", basic(input, c7, .square(1), 1, .square(0))), ("branch7x7_2", basic(c7, c7, wide, 1, padWide)),
                    ("branch7x7_3", basic(c7, 192, tall, 1, padTall))]),
            branch([("branch7x7dbl_1", basic(input, c7, .square(1), 1, .square(0))), ("branch7x7dbl_2", basic(c7, c7, tall, 1, padTall)),
                    ("branch7x7dbl_3", basic(c7, c7, wide, 1, padWide)), ("branch7x7dbl_4", basic(c7, c7, tall, 1, padTall)),
                    ("branch7x7dbl_5", basic(c7, 192, wide, 1, padWide))]),
            branch([("avg_pool", AvgPool2dOverImage(kernel: 3, stride: 1, padding: 1)), ("branch_pool", basic(input, 192, .square(1), 1, .square(0)))]),
        ])
    }

    /// InceptionD (Mixed_7a): 1×1, 3×3 stride 2; 1×1, 1×7, 7×1, 3×3 stride 2; max pool 3 stride 2.
    static func d(_ input: Int, _ basic: (Int, Int, Window, Int, Window) -> BasicConv2d) -> InceptionBlock {
        InceptionBlock([
            branch([("branch3x3_1", basic(input, 192, .square(1), 1, .square(0))), ("branch3x3_2", basic(192, 320, .square(3), 2, .square(0)))]),
            branch([("branch7x7x3_1", basic(input, 192, .square(1), 1, .square(0))), ("branch7x7x3_2", basic(192, 192, Window(1, 7), 1, Window(0, 3))),
                    ("branch7x7x3_3", basic(192, 192, Window(7, 1), 1, Window(3, 0))), ("branch7x7x3_4", basic(192, 192, .square(3), 2, .square(0)))]),
            branch([("max_pool", MaxPool2d(kernel: 3, stride: 2))]),
        ])
    }

    /// FIDInceptionE_1 and _2: 1×1; 1×1 then 1×3 and 3×1; 1×1, 3×3 then 1×3 and 3×1; `pool` then 1×1.
    static func e(_ input: Int, pool: Layer, _ basic: (Int, Int, Window, Int, Window) -> BasicConv2d) -> InceptionBlock {
        InceptionBlock([
            branch([("branch1x1", basic(input, 320, .square(1), 1, .square(0)))]),
            branch([("branch3x3_1", basic(input, 384, .square(1), 1, .square(0)))],
                   split: [("branch3x3_2a", basic(384, 384, Window(1, 3), 1, Window(0, 1))), ("branch3x3_2b", basic(384, 384, Window(3, 1), 1, Window(1, 0)))]),
            branch([("branch3x3dbl_1", basic(input, 448, .square(1), 1, .square(0))), ("branch3x3dbl_2", basic(448, 384, .square(3), 1, .square(1)))],
                   split: [("branch3x3dbl_3a", basic(384, 384, Window(1, 3), 1, Window(0, 1))), ("branch3x3dbl_3b", basic(384, 384, Window(3, 1), 1, Window(1, 0)))]),
            branch([("pool", pool), ("branch_pool", basic(input, 192, .square(1), 1, .square(0)))]),
        ])
    }
}
