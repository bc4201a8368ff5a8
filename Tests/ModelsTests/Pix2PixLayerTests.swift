import Models
import TestSupport
import XCTest

/// pix2pix's pieces against finite differences and their definitions: the U-Net's skip
/// concatenation, dropout keyed by the noise, and the PatchGAN's loss over its map of logits.
final class Pix2PixLayerTests: XCTestCase {
    let check = GradientCheck()

    /// A level joins its LeakyReLU'd input to what comes back up, along the channels. (Tanh inside
    /// rather than the U-Net's ReLU: finite differences of 1e-2 cross a ReLU's kink at this size.)
    func testUNetBlockSkipConcatenation() {
        var random = Sample.stream
        let block = UNetBlock([LeakyReLU(slope: 0.2), Conv2d(2, 3, kernel: 4, stride: 2, padding: 1, random: &random),
                               Tanh(), ConvTranspose2d(3, 2, kernel: 4, stride: 2, padding: 1, random: &random)])
        let input = Sample.tensor([2, 2, 4, 4], seed: 40)
        let output = block(Variable(input)).value
        XCTAssertEqual(output.shape, [2, 4, 4, 4])
        let activated = input.scalars.map { $0 > 0 ? $0 : 0.2 * $0 }
        XCTAssertEqual(output.slice(0..<2, axis: 1).scalars, activated, "the skip is the activated input")
        check.check(input: input, parameters: block.parameters) { probe(block($0)) }
        let outermost = UNetBlock([Conv2d(2, 3, kernel: 4, stride: 2, padding: 1, random: &random),
                                   ConvTranspose2d(3, 1, kernel: 4, stride: 2, padding: 1, random: &random)], outermost: true)
        XCTAssertEqual(outermost(Variable(input)).value.shape, [2, 1, 4, 4], "the outermost level returns its model's output alone")
    }

    /// Row r keeps element i when draw i of the stream keyed `rowKeys[r]` is at least p, scaled by
    /// 1/(1 − p); gradients pass through the same mask; no keys, no dropout.
    func testDropoutMasksFromRowKeys() {
        let dropout = Dropout(probability: 0.5)
        let input = Sample.tensor([3, 2, 5, 5], seed: 41, awayFromZero: 0.1)
        XCTAssertEqual(dropout(Variable(input)).value, input)
        dropout.rowKeys = [7, 8, 7]
        let output = dropout(Variable(input)).value
        for row in 0..<3 {
            var random = RandomStream(key: dropout.rowKeys![row])
            for i in 0..<50 {
                let index = row * 50 + i
                XCTAssertEqual(output.scalars[index], random.uniform() >= 0.5 ? 2 * input.scalars[index] : 0)
            }
        }
        let kept = output.scalars.filter { $0 != 0 }.count
        XCTAssertTrue((50...100).contains(kept), "about half of 150 kept, got \(kept)")
        check.check(input: input) { probe(dropout($0)) }
    }

    /// The generator's noise keys its masks: one noise gives one output, another noise another,
    /// in training and evaluation alike.
    func testGeneratorNoiseKeysDropout() {
        var random = Sample.stream
        let generator = Pix2Pix.generator(resolution: 64, inputChannels: 1, outputChannels: 3, random: &random)
        let image = Sample.tensor([1, 64 * 64], seed: 42)
        func output(noise seed: UInt64) -> Tensor {
            generator(Variable(Tensor.concatenate([image, Sample.tensor([1, Pix2Pix.noiseSize], seed: seed)], axis: 1))).value
        }
        generator.setTraining(false)
        XCTAssertEqual(output(noise: 1), output(noise: 1))
        XCTAssertNotEqual(output(noise: 1), output(noise: 2))
    }

    /// The PatchGAN's losses average over every patch of every image: finite differences on a
    /// map of logits, and the mean of per-patch cross-entropies.
    func testPatchMapLoss() {
        let logits = Sample.tensor([2, 9], seed: 43)
        for objective in [AdversarialObjective.nonSaturating, .leastSquares, .hinge] {
            check.check(input: logits) { discriminatorLoss(objective, realLogits: $0, fakeLogits: $0 * -0.5) }
            check.check(input: logits) { generatorLoss(objective, fakeLogits: $0) }
        }
        let perPatch = logits.scalars.map { log(1 + exp(-$0)) }
        XCTAssertEqual(generatorLoss(.nonSaturating, fakeLogits: Variable(logits)).value.scalar, perPatch.reduce(0, +) / 18, accuracy: 1e-5)
    }

    /// The PatchGAN judges overlapping patches: R/8 − 2 per side.
    func testPatchGANMapSize() {
        var random = Sample.stream
        let discriminator = Pix2Pix.discriminator(channels: 4, random: &random)
        XCTAssertEqual(discriminator(Variable(Tensor(shape: [2, 4, 32, 32]))).value.shape, [2, 4])
    }
}
