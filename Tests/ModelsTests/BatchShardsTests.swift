import Models
import TestSupport
import XCTest

/// `--exact`'s contract with the layers: on a tape of several shards, each shard's output and input
/// gradient are bit for bit what the shard gives alone, and each parameter's gradient is the
/// shards' own gradients added in shard order, whatever the kernels would pick for the whole batch.
final class BatchShardsTests: XCTestCase {
    /// `make()` applied to `input` `[2·b, ...]` in 2 shards, against two fresh copies applied to each half.
    private func assertShardsRunAlone(_ make: () -> Layer, input: Tensor, _ name: String) {
        let half = input.shape[0] / 2
        let weights = Sample.tensor(outputShape(make(), input), seed: 5)
        let sharded = make()
        let (output, inputGradient) = run(sharded, input, weights: weights, shards: 2)
        sharded.parameters.forEach { $0.combineShardGradients() }

        let halves = [0..<half, half..<2 * half].map { rows -> (output: Tensor, inputGradient: Tensor, gradients: [Tensor]) in
            let alone = make()
            let (output, inputGradient) = run(alone, input.slice(rows, axis: 0), weights: weights.slice(rows, axis: 0))
            return (output, inputGradient, alone.parameters.map(\.gradient))
        }
        XCTAssertEqual(output.scalars, Tensor.concatenate(halves.map(\.output), axis: 0).scalars, "\(name): outputs")
        XCTAssertEqual(inputGradient.scalars, Tensor.concatenate(halves.map(\.inputGradient), axis: 0).scalars, "\(name): input gradients")
        for (index, parameter) in sharded.parameters.enumerated() {
            XCTAssertEqual(parameter.gradient.scalars, (halves[0].gradients[index] + halves[1].gradients[index]).scalars, "\(name): parameter \(index)")
        }
    }

    /// Output (plain) and input gradient of `layer` on `input` for the loss Σ output·weights, on a
    /// tape of `shards` shards.
    private func run(_ layer: Layer, _ input: Tensor, weights: Tensor, shards: Int = 1) -> (Tensor, Tensor) {
        let tape = Tape(shards: shards)
        let x = tape.variable(input, requiresGradient: true)
        let y = layer(x)
        tape.backward(from: y.weightedSum(weights))
        return (y.value.converted(to: .plain), x.gradient!.converted(to: .plain))
    }

    private func outputShape(_ layer: Layer, _ input: Tensor) -> [Int] { layer(Variable(input)).value.shape }

    func testLinearAndMaxoutShardsRunAlone() {
        let input = Sample.tensor([6, 5], seed: 1)
        assertShardsRunAlone({ var random = Sample.stream; return Linear(5, 7, random: &random) }, input: input, "Linear")
        assertShardsRunAlone({ var random = Sample.stream; return Maxout(5, units: 3, pieces: 2, random: &random) }, input: input, "Maxout")
    }

    /// Plain and blocked layouts (16 channels and more), strided and transposed.
    func testConvolutionShardsRunAlone() {
        assertShardsRunAlone({ var random = Sample.stream; return Conv2d(1, 16, kernel: 4, stride: 2, padding: 1, random: &random) },
                             input: Sample.tensor([4, 1, 8, 8], seed: 2), "Conv2d(1, 16)")
        assertShardsRunAlone({ var random = Sample.stream; return Conv2d(16, 32, kernel: 3, stride: 2, padding: 1, random: &random) },
                             input: Sample.tensor([4, 16, 6, 6], seed: 3), "Conv2d(16, 32)")
        assertShardsRunAlone({ var random = Sample.stream; return ConvTranspose2d(32, 16, kernel: 4, stride: 2, padding: 1, random: &random) },
                             input: Sample.tensor([4, 32, 3, 3], seed: 4), "ConvTranspose2d(32, 16)")
        assertShardsRunAlone({ var random = Sample.stream; return ConvTranspose2d(16, 1, kernel: 4, stride: 2, padding: 1, random: &random) },
                             input: Sample.tensor([4, 16, 7, 7], seed: 6), "ConvTranspose2d(16, 1)")
    }

    /// The weight's gradient reaches W through σ on each shard's own gradient of W/σ.
    func testSpectralNormShardsRunAlone() {
        assertShardsRunAlone({ var random = Sample.stream; return SpectralNorm(Conv2d(16, 32, kernel: 3, padding: 1, random: &random), random: &random) },
                             input: Sample.tensor([4, 16, 6, 6], seed: 3), "SpectralNorm(Conv2d(16, 32))")
        assertShardsRunAlone({ var random = Sample.stream; return SpectralNorm(Linear(5, 7, random: &random), random: &random) },
                             input: Sample.tensor([6, 5], seed: 1), "SpectralNorm(Linear(5, 7))")
    }

    /// BatchNorm couples the samples, so its shards cannot run alone; its sums are the shards'
    /// added in order, which agrees with the whole batch's to rounding.
    func testBatchNormOverShardsAgreesWithTheWholeBatch() {
        for (shape, name) in [([8, 16, 3, 3], "BatchNorm2d"), ([8, 10], "BatchNorm1d")] {
            let input = Sample.tensor(shape, seed: 8)
            let weights = Sample.tensor(shape, seed: 9)
            let (whole, sharded) = (BatchNorm(shape[1]), BatchNorm(shape[1]))
            let expected = run(whole, input, weights: weights)
            let got = run(sharded, input, weights: weights, shards: 4)
            sharded.parameters.forEach { $0.combineShardGradients() }
            assertClose(got.0.scalars, expected.0.scalars, rtol: 1e-5, atol: 1e-6, "\(name) output")
            assertClose(got.1.scalars, expected.1.scalars, rtol: 1e-4, atol: 1e-5, "\(name) input gradient")
            for (a, b) in zip(sharded.parameters, whole.parameters) {
                assertClose(a.gradient.scalars, b.gradient.scalars, rtol: 1e-5, atol: 1e-5, "\(name) parameter")
            }
            XCTAssertEqual(sharded.runningMean.value.scalars.count, shape[1])
            assertClose(sharded.runningVariance.value.scalars, whole.runningVariance.value.scalars, rtol: 1e-6, atol: 1e-7, "\(name) running variance")
        }
    }

    /// The tree: ((p0 + p1) + (p2 + p3)) + p4, so 2 ranks holding 2 parts each end as one holding 4.
    func testPairwiseSumAddsNeighboursFirst() {
        let parts: [[Float]] = [[1e8], [1], [-1e8], [1], [0.5]]
        XCTAssertEqual(pairwiseSum(parts), [((1e8 + 1) + (-1e8 + 1)) + 0.5])
        XCTAssertEqual(pairwiseSum([pairwiseSum(Array(parts[0..<2])), pairwiseSum(Array(parts[2..<4]))]), pairwiseSum(Array(parts[0..<4])))
        XCTAssertEqual(pairwiseSum([[Double(3), 4]]), [3, 4])
    }
}
