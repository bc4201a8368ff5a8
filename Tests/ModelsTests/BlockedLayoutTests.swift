import Models
import TestSupport
import XCTest

/// oneDNN keeps images with 16 or more channels in its blocked layout between layers; these
/// check that layout's arithmetic and that layers give the same values and gradients in it.
final class BlockedLayoutTests: XCTestCase {
    func testConversionPlacesEachValueInItsBlockAndBack() {
        let plain = Tensor(shape: [2, 16, 2, 3], generator: Float.init)
        let blocked = plain.converted(to: .channelBlocks(width: 8))
        XCTAssertEqual(blocked.layout, .channelBlocks(width: 8))
        // (n, c, h, w) sits at ((n·C/8 + c/8)·H·W + h·W + w)·8 + c%8.
        for (n, c, h, w) in [(0, 0, 0, 0), (1, 13, 1, 2), (0, 7, 0, 1), (1, 8, 1, 0)] {
            let plainIndex = ((n * 16 + c) * 2 + h) * 3 + w
            let blockedIndex = ((n * 2 + c / 8) * 6 + h * 3 + w) * 8 + c % 8
            XCTAssertEqual(blocked.scalars[blockedIndex], plain.scalars[plainIndex], "(\(n), \(c), \(h), \(w))")
        }
        XCTAssertEqual(blocked.converted(to: .plain), plain)
        XCTAssertEqual(blocked.converted(to: .channelBlocks(width: 16)).converted(to: .plain), plain)
    }

    /// The U-Net's skips: images in one block layout join along the channels without leaving it,
    /// to the plain join's values; each part's gradient comes back as its slice, in its layout.
    func testChannelConcatenationStaysInItsBlocks() {
        let (first, second) = (Tensor(shape: [2, 16, 2, 3], generator: Float.init), Tensor(shape: [2, 8, 2, 3]) { Float(-$0) })
        let layout = TensorLayout.channelBlocks(width: 8)
        let tape = Tape()
        let parts = [tape.variable(first.converted(to: layout), requiresGradient: true), tape.variable(second.converted(to: layout), requiresGradient: true)]
        let joined = Variable.concatenate(parts, axis: 1)
        XCTAssertEqual(joined.value.layout, layout)
        XCTAssertEqual(joined.value.converted(to: .plain), Tensor.concatenate([first, second], axis: 1))
        let weights = Tensor(shape: [2, 24, 2, 3], generator: { Float($0 % 7) })
        tape.backward(from: joined.converted(to: .plain).weightedSum(weights))
        XCTAssertEqual(parts[0].gradient?.converted(to: .plain), weights.slice(0..<16, axis: 1))
        XCTAssertEqual(parts[1].gradient?.converted(to: .plain), weights.slice(16..<24, axis: 1))
        let mixed = Variable.concatenate([Variable(first.converted(to: layout)), Variable(second)], axis: 1)
        XCTAssertEqual(mixed.value, Tensor.concatenate([first, second], axis: 1), "a mix of layouts joins plain")
    }

    /// A 16-to-32-channel convolution against the definition, summed by hand in Double.
    func testWideConvolutionMatchesTheDefinition() {
        var random = Sample.stream
        let layer = Conv2d(16, 32, kernel: 3, stride: 2, padding: 1, random: &random)
        let x = Sample.tensor([2, 16, 5, 6], seed: 21)
        let y = layer(Variable(x)).value
        XCTAssertEqual(y.shape, [2, 32, 3, 3])
        if DNNL.instructionSet.hasPrefix("avx") {
            XCTAssertNotEqual(y.layout, .plain, "oneDNN keeps 32 channels blocked on \(DNNL.instructionSet)")
        }
        let expected = Tensor(shape: [2, 32, 3, 3]) { index in
            let (n, o, oy, ox) = (index / 288, index / 9 % 32, index / 3 % 3, index % 3)
            var sum = Double(layer.bias!.value.scalars[o])
            for c in 0..<16 {
                for ky in 0..<3 {
                    for kx in 0..<3 {
                        let (iy, ix) = (oy * 2 - 1 + ky, ox * 2 - 1 + kx)
                        guard (0..<5).contains(iy), (0..<6).contains(ix) else { continue }
                        sum += Double(x.scalars[((n * 16 + c) * 5 + iy) * 6 + ix])
                            * Double(layer.weight.value.scalars[((o * 16 + c) * 3 + ky) * 3 + kx])
                    }
                }
            }
            return Float(sum)
        }
        assertClose(y.converted(to: .plain).scalars, expected.scalars, rtol: 1e-4, atol: 1e-5, "Conv2d(16, 32)")
    }

    /// Convolution, BatchNorm, an elementwise activation and transposed convolution passing
    /// blocked tensors on, checked against finite differences for the input and every parameter.
    /// The activation is smooth: with BatchNorm over so few values, a finite difference of 1e-2
    /// moves values across a ReLU's kink.
    func testGradientsThroughAChainOfBlockedLayers() {
        var random = Sample.stream
        let network = Sequential([
            Conv2d(16, 32, kernel: 4, stride: 2, padding: 1, random: &random),
            BatchNorm(32),
            Tanh(),
            ConvTranspose2d(32, 16, kernel: 4, stride: 2, padding: 1, random: &random),
            BatchNorm(16),
            Flatten(),
        ])
        let layers = network.allLayers
        XCTAssertEqual(layers.count, 7)
        let check = GradientCheck(epsilon: 1e-2, rtol: 3e-2, atol: 3e-3, samplesPerTensor: 24)
        check.check(input: Sample.tensor([2, 16, 4, 4], seed: 22), parameters: network.parameters) { x in
            let y = network(x)
            XCTAssertEqual(y.value.layout, .plain, "Flatten hands on PyTorch's order")
            return y.weightedSum(Sample.tensor(y.value.shape, seed: 23))
        }
    }

    /// BatchNorm gives the same output and gradients on a blocked tensor as on its plain form.
    func testBatchNormAgreesAcrossLayouts() {
        let x = Sample.tensor([3, 16, 2, 3], seed: 24)
        let probe = Sample.tensor([3, 16, 2, 3], seed: 25)
        func run(_ layout: TensorLayout) -> (output: Tensor, input: Tensor, weight: Tensor) {
            let layer = BatchNorm(16)
            layer.weight.value = Sample.tensor([16], seed: 26)
            let tape = Tape()
            let input = tape.variable(x.converted(to: layout), requiresGradient: true)
            let output = layer(input)
            tape.backward(from: output.weightedSum(probe))
            return (output.value.converted(to: .plain), input.gradient!.converted(to: .plain), layer.weight.gradient)
        }
        let plain = run(.plain), blocked = run(.channelBlocks(width: 8))
        assertClose(blocked.output.scalars, plain.output.scalars, rtol: 1e-5, atol: 1e-6, "output")
        assertClose(blocked.input.scalars, plain.input.scalars, rtol: 1e-4, atol: 1e-6, "input gradient")
        assertClose(blocked.weight.scalars, plain.weight.scalars, rtol: 1e-4, atol: 1e-6, "weight gradient")
    }
}
