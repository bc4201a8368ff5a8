import Foundation
import Models
import TestSupport
import XCTest

/// The preset networks against PyTorch: outputs, input and parameter gradients, and the change
/// of every parameter and buffer after three Adam steps, from `Fixtures/parity.json`, which
/// `Fixtures/make_parity_fixtures.py` wrote with the same weights and inputs.
final class ParityTests: XCTestCase {
    struct Case: Decodable {
        struct Entry: Decodable { let name: String; let shape: [Int] }
        let state: [Entry]
        let input_shape: [Int]
        let output: [Float]
        let input_gradient: [Float]
        let gradients: [String: SampledTensor]
        let after_adam: [String: SampledTensor]
        /// False when gradients and Adam steps were taken in evaluation mode (nil: training mode);
        /// then `training_output` is the training-mode output alone.
        let training: Bool?
        let training_output: [Float]?
    }

    struct PenaltyCase: Decodable {
        let input_shape: [Int]
        let gamma: Float
        let penalty: Float
        let gradients: [String: SampledTensor]
    }

    /// The networks' cases (every key but "r1" and "torch_version"), and the R1 cases.
    static let (fixtures, penaltyFixtures): ([String: Case], [String: PenaltyCase]) = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/parity.json")
        var object = try! JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        object.removeValue(forKey: "torch_version")
        let penalties = object.removeValue(forKey: "r1")!
        let decoder = JSONDecoder()
        return (try! decoder.decode([String: Case].self, from: JSONSerialization.data(withJSONObject: object)),
                try! decoder.decode([String: PenaltyCase].self, from: JSONSerialization.data(withJSONObject: penalties)))
    }()

    /// oneDNN rounds differently with different thread counts; pin it so no earlier test decides.
    override func setUp() { Kernels.threads = 1 }

    func testDCGAN28Generator() throws {
        try checkParity("dcgan28_generator", learningRate: 2e-4, beta1: 0.5) { DCGAN28.generator(random: &$0) }
    }

    func testDCGAN28Discriminator() throws {
        try checkParity("dcgan28_discriminator", learningRate: 2e-4, beta1: 0.5) { DCGAN28.discriminator(random: &$0) }
    }

    /// PyTorch's own DCGAN example at its 64 px in colour: no biases, state names `main.<i>.…`.
    func testDCGAN64Generator() throws {
        // Its training-mode output is float32 noise to 1e-4 in PyTorch itself (against float64).
        try checkParity("dcgan64_generator", learningRate: 2e-4, beta1: 0.5, trainingOutputTolerance: 5e-4) {
            DCGAN.generator(resolution: 64, channels: 3, random: &$0)
        }
    }

    func testDCGAN64Discriminator() throws {
        try checkParity("dcgan64_discriminator", learningRate: 2e-4, beta1: 0.5) { DCGAN.discriminator(resolution: 64, channels: 3, random: &$0) }
    }

    func testSNGAN32Generator() throws {
        try checkParity("sngan32_generator", learningRate: 2e-4, beta1: 0, beta2: 0.9, adamEpsilon: 0.1, trainingOutputTolerance: 5e-4) { SNGAN.generator(resolution: 32, channels: 3, random: &$0) }
    }

    /// In training mode: every forward takes a power iteration, and u and v are compared after them.
    func testSNGAN32Discriminator() throws {
        try checkParity("sngan32_discriminator", learningRate: 2e-4, beta1: 0, beta2: 0.9, adamEpsilon: 0.1) { SNGAN.discriminator(resolution: 32, channels: 3, random: &$0) }
    }

    func testMLP2DGenerator() throws {
        try checkParity("mlp2d_generator", learningRate: 1e-4, beta1: 0.8) { MLP2D.generator(random: &$0) }
    }

    func testMLP2DDiscriminator() throws {
        try checkParity("mlp2d_discriminator", learningRate: 1e-4, beta1: 0.8) { MLP2D.discriminator(random: &$0) }
    }

    /// The R1 penalty and its weight gradients, which PyTorch takes by double backward, for D
    /// alone and packed in pairs.
    func testMLP2DDiscriminatorR1Penalty() throws {
        for (name, pack) in [("mlp2d_discriminator", 1), ("mlp2d_discriminator_pack2", 2)] {
            let reference = try XCTUnwrap(Self.penaltyFixtures[name])
            var random = RandomStream(seed: 0, purpose: "parity")
            let discriminator = MLP2D.discriminator(pack: pack, random: &random)
            PatternWeights.set(discriminator)
            let tape = Tape()
            let penalty = discriminatorWithR1Penalty(discriminator, real: tape.variable(PatternWeights.pattern(reference.input_shape, seed: 1000)),
                                                     gamma: reference.gamma).penalty
            XCTAssertEqual(penalty.value.scalar, reference.penalty, accuracy: 1e-4 * reference.penalty, "\(name): R1 penalty")
            tape.backward(from: penalty)
            for (entryName, entry) in discriminator.state {
                guard case .parameter(let parameter) = entry else { continue }
                let expected = try XCTUnwrap(reference.gradients[entryName])
                let rms = Float((expected.norm ?? 0) / Double(parameter.gradient.count).squareRoot())
                expected.assertMatches(parameter.gradient.scalars, rtol: 1e-3, atol: 1e-3 * rms, "\(name): R1 gradient of \(entryName)")
            }
        }
    }

    func testAlphaGAN28Encoder() throws {
        try checkParity("alphagan28_encoder", learningRate: 2e-4, beta1: 0.5) { AlphaGAN28.encoder(random: &$0) }
    }

    func testAlphaGAN28CodeDiscriminator() throws {
        try checkParity("alphagan28_code_discriminator", learningRate: 2e-4, beta1: 0.5) { AlphaGAN28.codeDiscriminator(random: &$0) }
    }

    func testCompletion28Generator() throws {
        // Outputs and gradients match as tightly as the others'. But BatchNorm(6272) over a batch of 4
        // leaves many gradient elements near zero, where Adam's sign-like step is decided by rounding,
        // and the next batch variances move with them: after 3 steps a few sampled elements differ by
        // up to two thirds of a step, and the running variances by about 7e-4 of their ±0.05 change.
        try checkParity("completion28_generator", learningRate: 2e-4, beta1: 0.5, adamTolerance: (steps: 1, relative: 3e-2, norm: 2e-2, buffers: 1e-3)) {
            Completion28.generator(random: &$0)
        }
    }

    /// Its training-mode gradients at a batch of 4 move by percents under float32 rounding of its
    /// weights (the fixture script measured it), so the fixture takes them in evaluation mode and
    /// keeps the training-mode output alone.
    func testColorize28Generator() throws {
        try checkParity("colorize28_generator", learningRate: 2e-4, beta1: 0.5) { Colorize28.generator(random: &$0) }
    }

    /// pix2pix's U-Net at 64 px, gray in and colour out, without dropout (its masks are this
    /// project's noise, not PyTorch's draws): `UnetGenerator`'s names, outputs and updates.
    func testPix2Pix64Generator() throws {
        try checkParity("pix2pix64_generator", learningRate: 2e-4, beta1: 0.5, trainingOutputTolerance: 5e-4) {
            ImageInput(Pix2Pix.generator(resolution: 64, inputChannels: 1, outputChannels: 3, dropout: false, random: &$0))
        }
    }

    /// The 70×70 PatchGAN on a gray image and its colouring joined along the channels.
    func testPix2Pix64Discriminator() throws {
        try checkParity("pix2pix64_discriminator", learningRate: 2e-4, beta1: 0.5) { Pix2Pix.discriminator(channels: 4, random: &$0) }
    }

    /// The U-Net fed an image `[N, C, H, W]` as PyTorch's is, through the conditional presets'
    /// input (the image flattened, then noise, here zeros that no dropout reads).
    private final class ImageInput: Layer {
        let generator: Pix2PixGenerator
        init(_ generator: Pix2PixGenerator) { self.generator = generator }
        func callAsFunction(_ input: Variable) -> Variable {
            let rows = input.value.shape[0]
            return generator(Variable.concatenate([input.reshaped([rows, -1]), Variable(Tensor(shape: [rows, Pix2Pix.noiseSize]))], axis: 1))
        }
        var state: [(name: String, entry: StateEntry)] { generator.state }
        func setTraining(_ training: Bool) { generator.setTraining(training) }
        var sublayers: [Layer] { [generator] }
    }

    /// - Parameter adamTolerance: how far the change after 3 Adam steps may be off, per element in
    ///   steps of `learningRate` or relatively, and in its L2 norm relatively; a running statistic's
    ///   change by `buffers` absolutely.
    /// - Parameter trainingOutputTolerance: how far a training-mode output checked alone may be off.
    private func checkParity(_ name: String, learningRate: Float, beta1: Float, beta2: Float = 0.999, adamEpsilon: Float = 1e-8,
                             adamTolerance: (steps: Float, relative: Float, norm: Double, buffers: Float?) = (0.1, 1e-2, 2e-3, nil),
                             trainingOutputTolerance: Float = 1e-4,
                             build: (inout RandomStream) -> Layer) throws {
        var random = RandomStream(seed: 0, purpose: "parity")
        let network = build(&random)
        let reference = try XCTUnwrap(Self.fixtures[name])
        let state = network.state
        XCTAssertEqual(state.map(\.name), reference.state.map(\.name), "\(name): state_dict names")
        for ((entryName, entry), expected) in zip(state, reference.state) {
            XCTAssertEqual(shape(of: entry), expected.shape, "\(name): shape of \(entryName)")
        }
        PatternWeights.set(network)
        let input = PatternWeights.pattern(reference.input_shape, seed: 1000)
        if let trainingOutput = reference.training_output {
            // On a twin, so that this forward does not move the running statistics of the one checked below.
            var twinRandom = RandomStream(seed: 0, purpose: "parity")
            let twin = build(&twinRandom)
            PatternWeights.set(twin)
            assertClose(twin(Variable(input)).value.scalars, trainingOutput, rtol: trainingOutputTolerance, atol: trainingOutputTolerance,
                        "\(name): training-mode output")
        }
        network.setTraining(reference.training ?? true)

        let tape = Tape()
        let x = tape.variable(input, requiresGradient: true)
        let output = network(x)
        let probe = PatternWeights.pattern(output.value.shape, seed: 2000) * (1 / Float(output.value.shape[0]))
        tape.backward(from: output.weightedSum(probe))

        // BatchNorm over a batch of 4 amplifies float32 rounding; outputs are tanh-bounded or O(1) logits.
        assertClose(output.value.scalars, reference.output, rtol: 1e-4, atol: 1e-4, "\(name): output")
        let largestInputGradient = reference.input_gradient.map(abs).max() ?? 0
        assertClose(try XCTUnwrap(x.gradient).scalars, reference.input_gradient, rtol: 1e-3, atol: 1e-3 * largestInputGradient,
                    "\(name): input gradient")

        // A bias feeding a training-mode BatchNorm has a true gradient of exactly zero (the mean is
        // subtracted); both sides hold rounding noise there, which Adam would turn into ±lr steps.
        let largestNorm = reference.gradients.values.compactMap(\.norm).max() ?? 0
        let vanishing = Set(reference.gradients.filter { ($0.value.norm ?? 0) < 1e-4 * largestNorm }.keys)
        let integratingVanishing = Set(vanishing.compactMap { key -> String? in
            // "encoder.7.bias" feeds "encoder.8", whose running mean integrates it.
            var parts = key.split(separator: ".").map(String.init)
            guard parts.count >= 2, let index = Int(parts[parts.count - 2]) else { return nil }
            parts[parts.count - 2] = "\(index + 1)"
            parts[parts.count - 1] = "running_mean"
            return parts.joined(separator: ".")
        })
        for (entryName, entry) in state {
            guard case .parameter(let parameter) = entry else { continue }
            let expected = try XCTUnwrap(reference.gradients[entryName])
            if vanishing.contains(entryName) {
                let norm = parameter.gradient.scalars.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
                XCTAssertLessThan(norm, 1e-4 * largestNorm, "\(name): gradient of \(entryName) is zero up to rounding")
                continue
            }
            let rms = Float((expected.norm ?? 0) / Double(parameter.gradient.count).squareRoot())
            expected.assertMatches(parameter.gradient.scalars, rtol: 1e-3, atol: 1e-3 * rms, "\(name): gradient of \(entryName)")
        }

        let initial = state.map { values(of: $0.entry) }
        let adam = Adam(parameters: network.parameters, learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: adamEpsilon)
        for _ in 0..<3 {
            adam.zeroGradients()
            let tape = Tape()
            tape.backward(from: network(tape.variable(input)).weightedSum(probe))
            adam.step()
        }
        for ((entryName, entry), before) in zip(state, initial) where !vanishing.contains(entryName) && !integratingVanishing.contains(entryName) {
            let expected = try XCTUnwrap(reference.after_adam[entryName])
            if case .counter(let counter) = entry {
                XCTAssertEqual(counter.value, expected.value, "\(name): \(entryName)")
                continue
            }
            let change = Tensor(shape: [before.count], scalars: zip(values(of: entry), before).map { $0 - $1 })
            // Each Adam step moves a weight by about lr·m/√v; where a gradient is small its step is
            // sensitive to rounding, so the tolerance is a fraction of one step rather than relative.
            let isBuffer = if case .buffer = entry { true } else { false }
            let atol = isBuffer ? adamTolerance.buffers ?? learningRate * adamTolerance.steps : learningRate * adamTolerance.steps
            expected.assertMatches(change.scalars, rtol: adamTolerance.relative, atol: atol, normTolerance: adamTolerance.norm,
                    "\(name): change of \(entryName) after 3 Adam steps")
        }
    }

    private func shape(of entry: StateEntry) -> [Int] {
        switch entry {
        case .parameter(let parameter): parameter.value.shape
        case .buffer(let buffer): buffer.value.shape
        case .counter: []
        }
    }

    private func values(of entry: StateEntry) -> [Float] {
        switch entry {
        case .parameter(let parameter): parameter.value.scalars
        case .buffer(let buffer): buffer.value.scalars
        case .counter: []
        }
    }
}
