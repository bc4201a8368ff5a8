import Models
import TestSupport
import XCTest

/// Every layer, in each configuration, against finite differences, for its input and its parameters.
final class LayerGradientTests: XCTestCase {
    let check = GradientCheck()

    func testLinear() {
        var random = Sample.stream
        let layer = Linear(5, 3, random: &random)
        check.check(input: Sample.tensor([4, 5], seed: 1), parameters: layer.parameters) { probe(layer($0)) }
    }

    func testConv2dConfigurations() {
        for (kernel, stride, padding, bias) in [(3, 1, 0, true), (4, 2, 1, true), (3, 2, 1, true), (1, 1, 0, true), (4, 2, 1, false)] {
            var random = Sample.stream
            let layer = Conv2d(2, 3, kernel: kernel, stride: stride, padding: padding, bias: bias, random: &random)
            XCTAssertEqual(layer.parameters.count, bias ? 2 : 1)
            check.check(input: Sample.tensor([2, 2, 6, 7], seed: 2), parameters: layer.parameters) { probe(layer($0)) }
        }
    }

    func testConv2dOutputShapeAndKnownValue() {
        var random = Sample.stream
        let layer = Conv2d(1, 1, kernel: 2, stride: 1, padding: 0, random: &random)
        layer.weight.value = Tensor(shape: [1, 1, 2, 2], scalars: [1, 2, 3, 4])
        layer.bias!.value = Tensor(shape: [1], scalars: [0.5])
        let y = layer(Variable(Tensor(shape: [1, 1, 2, 3], scalars: [1, 2, 3, 4, 5, 6])))
        XCTAssertEqual(y.value.shape, [1, 1, 1, 2])
        // [1 2; 4 5]·[1 2; 3 4] = 1 + 4 + 12 + 20 = 37; [2 3; 5 6] → 2 + 6 + 15 + 24 = 47
        XCTAssertEqual(y.value.scalars, [37.5, 47.5])
    }

    func testConvTranspose2dConfigurations() {
        for (kernel, stride, padding, bias) in [(4, 2, 1, true), (3, 1, 0, true), (3, 2, 1, true), (2, 2, 0, true), (4, 1, 0, false)] {
            var random = Sample.stream
            let layer = ConvTranspose2d(3, 2, kernel: kernel, stride: stride, padding: padding, bias: bias, random: &random)
            XCTAssertEqual(layer.state.map(\.name), bias ? ["weight", "bias"] : ["weight"])
            check.check(input: Sample.tensor([2, 3, 4, 5], seed: 4), parameters: layer.parameters) { probe(layer($0)) }
        }
    }

    func testConvTranspose2dOutputShape() {
        var random = Sample.stream
        let layer = ConvTranspose2d(128, 64, kernel: 4, stride: 2, padding: 1, random: &random)
        XCTAssertEqual(layer(Variable(Tensor(shape: [2, 128, 7, 7]))).value.shape, [2, 64, 14, 14])
        XCTAssertEqual(layer.weight.value.shape, [128, 64, 4, 4])
    }

    func testBatchNormOverFeaturesInTraining() {
        let layer = BatchNorm(3)
        layer.weight.value = Sample.tensor([3], seed: 5)
        layer.bias.value = Sample.tensor([3], seed: 6)
        check.check(input: Sample.tensor([5, 3], seed: 7), parameters: layer.parameters) { probe(layer($0)) }
    }

    /// PyTorch's affine=False: nothing to train or store, each feature's batch mean 0 and variance 1.
    func testBatchNormWithoutAffine() {
        let layer = BatchNorm(3, affine: false)
        XCTAssertEqual(layer.state.map(\.name), ["running_mean", "running_var", "num_batches_tracked"])
        XCTAssertTrue(layer.parameters.isEmpty)
        check.check(input: Sample.tensor([5, 3], seed: 10)) { probe(layer($0)) }
        let y = layer(Variable(Sample.tensor([6, 3], seed: 11, scale: 4))).value
        for feature in 0..<3 {
            let column = (0..<6).map { y.scalars[$0 * 3 + feature] }
            XCTAssertEqual(column.reduce(0, +) / 6, 0, accuracy: 1e-6)
            XCTAssertEqual(column.map { $0 * $0 }.reduce(0, +) / 6, 1, accuracy: 1e-3, "biased variance 1, up to eps")
        }
    }

    func testBatchNormOverChannelsInTraining() {
        let layer = BatchNorm(2)
        layer.weight.value = Sample.tensor([2], seed: 8)
        check.check(input: Sample.tensor([3, 2, 3, 2], seed: 9), parameters: layer.parameters) { probe(layer($0)) }
    }

    func testBatchNormInEvaluation() {
        for shape in [[4, 3], [2, 3, 2, 2]] {
            let layer = BatchNorm(3)
            _ = layer(Variable(Sample.tensor(shape, seed: 10, scale: 3)))
            layer.setTraining(false)
            layer.weight.value = Sample.tensor([3], seed: 11)
            check.check(input: Sample.tensor(shape, seed: 12), parameters: layer.parameters) { probe(layer($0)) }
        }
    }

    func testBatchNormStatisticsMatchPyTorchConventions() {
        let layer = BatchNorm(1, momentum: 0.1)
        let y = layer(Variable(Tensor(shape: [4, 1], scalars: [1, 2, 3, 4])))
        // Batch mean 2.5, biased variance 1.25 normalise; the running variance takes the unbiased 5/3.
        assertClose(y.value.scalars, [1, 2, 3, 4].map { (Float($0) - 2.5) / (1.25 + 1e-5).squareRoot() }, rtol: 1e-5)
        assertClose(layer.runningMean.value.scalars, [0.25], rtol: 1e-6)
        assertClose(layer.runningVariance.value.scalars, [0.9 + 0.1 * 5 / 3], rtol: 1e-6)
        XCTAssertEqual(layer.batchesTracked.value, 1)
    }

    func testActivations() {
        let input = Sample.tensor([3, 4], seed: 13, awayFromZero: 0.05)
        for layer: Layer in [ReLU(), LeakyReLU(slope: 0.2), Tanh()] {
            check.check(input: input) { probe(layer($0)) }
        }
    }

    func testMaxout() {
        var random = Sample.stream
        let layer = Maxout(4, units: 3, pieces: 5, random: &random)
        check.check(input: Sample.tensor([3, 4], seed: 14), parameters: layer.parameters) { probe(layer($0)) }
        XCTAssertEqual(layer.state.map(\.name), ["weight", "bias"])
        XCTAssertEqual(layer.parameters[0].value.shape, [15, 4])
    }

    /// A Maxout and a Linear layer, linearized at an input: the Jacobian applied to a direction is the
    /// central difference of the network along it, its transpose is its adjoint (⟨J·t, v⟩ = ⟨t, Jᵀ·v⟩
    /// row by row), and its weight gradients match finite differences.
    func testPiecewiseLinearJacobian() {
        var random = Sample.stream
        let network = Sequential([Maxout(3, units: 4, pieces: 3, random: &random), Linear(4, 2, random: &random)])
        XCTAssertTrue(network.isPiecewiseLinear)
        XCTAssertFalse(Sequential([network, ReLU()]).isPiecewiseLinear)
        let (x, direction) = (Sample.tensor([5, 3], seed: 15), Sample.tensor([5, 3], seed: 16))
        let tape = Tape()
        let linearization = network.linearized(tape.variable(x))
        XCTAssertEqual(linearization.output.value.scalars, network(Variable(x)).value.scalars)
        let step: Float = 1e-3
        let difference = (network(Variable(x + direction * step)).value - network(Variable(x - direction * step)).value) * (1 / (2 * step))
        let product = linearization.jacobian(tape.variable(direction)).value
        assertClose(product.scalars, difference.scalars, rtol: 1e-2, atol: 1e-3, "J·direction")

        let v = Sample.tensor([5, 2], seed: 17)
        let transposed = linearization.transposedJacobian(v)
        XCTAssertEqual(transposed.shape, [5, 3])
        let rowDots = { (a: Tensor, b: Tensor) in (0..<5).map { row in (0..<a.shape[1]).reduce(Float(0)) { $0 + a.scalars[row * a.shape[1] + $1] * b.scalars[row * a.shape[1] + $1] } } }
        assertClose(rowDots(transposed, direction), rowDots(product, v), rtol: 1e-5, atol: 1e-6, "⟨t, Jᵀ·v⟩ = ⟨J·t, v⟩")

        check.check(input: x, inputRequiresGradient: false, parameters: network.parameters) { x, tape in
            probe(network.linearized(x).jacobian(tape.variable(direction)))
        }
    }

    func testShapeLayers() {
        check.check(input: Sample.tensor([2, 3, 2, 2], seed: 16)) { probe(Flatten()($0)) }
        check.check(input: Sample.tensor([2, 12], seed: 17)) { probe(Reshape([3, 2, 2])($0)) }
        XCTAssertEqual(Flatten()(Variable(Tensor(shape: [2, 3, 2, 2]))).value.shape, [2, 12])
    }

    func testConcatenateAndSlice() {
        let other = Sample.tensor([2, 3, 2, 2], seed: 18)
        check.check(input: Sample.tensor([2, 1, 2, 2], seed: 19)) { x in
            probe(Variable.concatenate([x, Variable(other), x], axis: 1))
        }
        check.check(input: Sample.tensor([2, 5], seed: 20)) { x in probe(x.slice(1..<4, axis: 1)) }
        // Rows picked out of order, one twice and one never: the twice-picked row gets both gradients.
        check.check(input: Sample.tensor([4, 3], seed: 21)) { x in probe(x.rows([2, 0, 2])) }
        XCTAssertEqual(Variable(Tensor(shape: [3, 2], generator: Float.init)).rows([2, 0]).value.scalars, [4, 5, 0, 1])
        let joined = Tensor.concatenate([Tensor(shape: [2, 1], scalars: [1, 2]), Tensor(shape: [2, 2], scalars: [3, 4, 5, 6])], axis: 1)
        XCTAssertEqual(joined.scalars, [1, 3, 4, 2, 5, 6])
    }

    func testSequentialNamesStateLikePyTorch() {
        var random = Sample.stream
        let network = Sequential([Linear(2, 3, random: &random), BatchNorm(3), ReLU(), Linear(3, 1, random: &random)])
        XCTAssertEqual(network.state.map(\.name), [
            "0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var", "1.num_batches_tracked",
            "3.weight", "3.bias",
        ])
        check.check(input: Sample.tensor([4, 2], seed: 21, awayFromZero: 0.05), parameters: network.parameters) { probe(network($0)) }
    }
}
