import Models
import TestSupport
import XCTest

/// The layers of the residual networks (SNGAN): spectral normalization, nearest up-sampling,
/// average pooling and the sum over positions, and the blocks made of them, against finite
/// differences and known values.
final class ResidualLayerTests: XCTestCase {
    let check = GradientCheck()

    /// In evaluation mode, so that each call of the finite differences sees the same u and v; the
    /// gradient through σ is the same formula in training.
    func testSpectralNormGradients() {
        var random = Sample.stream
        let convolution = SpectralNorm(Conv2d(3, 4, kernel: 3, padding: 1, random: &random), random: &random)
        let linear = SpectralNorm(Linear(5, 3, random: &random), random: &random)
        for layer in [convolution, linear] as [SpectralNorm] {
            // One power iteration, so u and v are not the raw draws.
            _ = layer(Variable(Sample.tensor(layer === linear ? [2, 5] : [2, 3, 5, 5], seed: 9)))
            layer.setTraining(false)
        }
        XCTAssertEqual(convolution.state.map(\.name), ["bias", "weight_orig", "weight_u", "weight_v"])
        XCTAssertEqual(convolution.v.value.shape, [27])
        check.check(input: Sample.tensor([2, 3, 5, 5], seed: 1), parameters: convolution.parameters) { probe(convolution($0)) }
        check.check(input: Sample.tensor([4, 5], seed: 2), parameters: linear.parameters) { probe(linear($0)) }
    }

    /// Power iteration finds the largest singular value: W = diag(3, 2, 1) (as a 3×3 Linear) is
    /// divided by 3 after a few training-mode calls, and evaluation calls leave u and v alone.
    func testSpectralNormDividesByTheLargestSingularValue() {
        var random = Sample.stream
        let layer = SpectralNorm(Linear(3, 3, random: &random), random: &random)
        layer.weight.value = Tensor(shape: [3, 3], scalars: [3, 0, 0, 0, 2, 0, 0, 0, 1])
        layer.bias!.value = Tensor(shape: [3])
        let identity = Variable(Tensor(shape: [3, 3], scalars: [1, 0, 0, 0, 1, 0, 0, 0, 1]))
        for _ in 0..<30 { _ = layer(identity) }
        assertClose(layer(identity).value.scalars, [1, 0, 0, 0, 2.0 / 3, 0, 0, 0, 1.0 / 3], rtol: 1e-4, atol: 1e-4, "W/σ")
        layer.setTraining(false)
        let (u, v) = (layer.u.value.scalars, layer.v.value.scalars)
        _ = layer(identity)
        XCTAssertEqual(layer.u.value.scalars, u)
        XCTAssertEqual(layer.v.value.scalars, v)
    }

    func testUpsampleAndPoolKnownValues() {
        let x = Variable(Tensor(shape: [1, 1, 2, 2], scalars: [1, 2, 3, 4]))
        XCTAssertEqual(NearestUpsample()(x).value.scalars, [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4])
        XCTAssertEqual(AvgPool2d()(NearestUpsample()(x)).value.scalars, [1, 2, 3, 4])
        XCTAssertEqual(SpatialSum()(x).value.scalars, [10])
    }

    /// Plain and oneDNN's blocked layout (16 channels), whose result must be the same image.
    func testUpsamplePoolAndSumGradients() {
        for channels in [2, 16] {
            let input = Sample.tensor([2, channels, 4, 6], seed: 4)
            for layer in [NearestUpsample(), AvgPool2d(), SpatialSum()] as [Layer] {
                check.check(input: input) { probe(layer($0)) }
                if channels == 16 {
                    let blocked = input.converted(to: .channelBlocks(width: 16))
                    XCTAssertEqual(layer(Variable(blocked)).value.converted(to: .plain).scalars, layer(Variable(input)).value.scalars, "\(type(of: layer)) blocked")
                    check.check(input: blocked) { probe(layer($0).converted(to: .plain)) }
                }
            }
        }
    }

    /// The generator's block with BatchNorm in training; the discriminator's in evaluation (u, v
    /// fixed), in each of its forms: the first, halving, keeping the side, changing the channels.
    /// One small sample, and ε 2e-4: with more values, some pre-activation lies within ε of
    /// ReLU's kink and the finite difference there is not the derivative.
    func testResidualBlocksGradients() {
        var random = Sample.stream
        let check = GradientCheck(epsilon: 2e-4, rtol: 2e-2, atol: 2e-3)
        let up = SNGAN.UpBlock(4, 3, random: &random)
        check.check(input: Sample.tensor([1, 4, 2, 2], seed: 8, awayFromZero: 0.05), parameters: up.parameters) { probe(up($0)) }
        for (input, output, down, first) in [(3, 4, true, true), (4, 4, true, false), (4, 4, false, false), (4, 6, false, false)] {
            let block = SNGAN.DownBlock(input, output, down: down, first: first, random: &random)
            XCTAssertEqual(block.state.map(\.name).first!.hasPrefix("conv2d0"), first || down || input != output)
            _ = block(Variable(Sample.tensor([1, input, 2, 2], seed: 1)))
            block.setTraining(false)
            check.check(input: Sample.tensor([1, input, 2, 2], seed: 5, awayFromZero: 0.05), parameters: block.parameters) { probe(block($0)) }
        }
    }

    func testNetworksShapes() {
        var random = Sample.stream
        for (resolution, channels) in [(32, 3), (64, 1)] {
            let generator = SNGAN.generator(resolution: resolution, channels: channels, random: &random)
            let discriminator = SNGAN.discriminator(resolution: resolution, channels: channels, random: &random)
            XCTAssertEqual(generator(Variable(Sample.tensor([1, 128], seed: 1))).value.shape, [1, channels, resolution, resolution])
            XCTAssertEqual(discriminator(Variable(Sample.tensor([1, channels, resolution, resolution], seed: 1))).value.shape, [1, 1])
        }
    }

    func testOrthogonalInitialization() {
        var random = Sample.stream
        let generator = SNGAN.generator(resolution: 32, channels: 1, random: &random)
        func entry(_ name: String) -> Tensor { generator.state.first { $0.name == name }!.entry.tensor! }
        // linear0 [4096, 128]: orthonormal columns; conv2d1 [256, 256·3·3]: orthonormal rows.
        for (name, rows, columns, alongRows) in [("linear0.weight", 4096, 128, false), ("blocks.0.0.conv2d1.weight", 256, 2304, true)] {
            let weight = entry(name).scalars
            func element(_ vector: Int, _ k: Int) -> Double { Double(alongRows ? weight[vector * columns + k] : weight[k * columns + vector]) }
            for (i, j) in [(0, 0), (0, 1), (5, 77), (127, 127)] {
                let dot = (0..<(alongRows ? columns : rows)).reduce(0.0) { $0 + element(i, $1) * element(j, $1) }
                XCTAssertEqual(dot, i == j ? 1 : 0, accuracy: 1e-5, "\(name): vectors \(i), \(j)")
            }
        }
        let bias = entry("blocks.0.0.conv2d1.bias")
        XCTAssertEqual(bias.scalars, [Float](repeating: 0, count: 256))
    }
}
