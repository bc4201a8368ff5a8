import Checkpoints
import Foundation
import Models
import TestSupport
import XCTest
@testable import Training

/// One whole adversarial step against PyTorch: D's phase (real and generated batches through D
/// separately, BatchNorm in training mode, Adam), then G's through D, non-saturating objective;
/// the losses, D's scores and the change of every weight, running statistic and counter of both
/// networks, from `Fixtures/step.json`, which `Fixtures/make_step_fixtures.py` wrote.
final class StepParityTests: XCTestCase {
    struct Case: Decodable {
        let real_shape: [Int]
        let latent: Int
        let lr_g: Float, lr_d: Float, beta1: Float
        let d_loss: Float, g_loss: Float, d_real: Float, d_fake: Float
        let generator: [String: SampledTensor]
        let discriminator: [String: SampledTensor]
    }

    static let fixtures: [String: Case] = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/step.json")
        var object = try! JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        object.removeValue(forKey: "torch_version")
        return try! JSONDecoder().decode([String: Case].self, from: JSONSerialization.data(withJSONObject: object))
    }()

    override func setUp() { Kernels.threads = 1 }

    func testDCGAN28StepMatchesPyTorch() throws { try checkStep(.dcgan28) }
    func testGrid2DStepMatchesPyTorch() throws { try checkStep(.grid2d) }

    private func checkStep(_ preset: Preset) throws {
        let reference = try XCTUnwrap(Self.fixtures[preset.rawValue])
        var random = RandomStream(seed: 0, purpose: "parity")
        let generator = preset.makeGenerator(random: &random)
        let discriminator = preset.makeDiscriminator(random: &random)
        PatternWeights.set(generator)
        PatternWeights.set(discriminator)
        let before = [generator, discriminator].map { $0.state.map { values(of: $0.entry) } }
        let step = AdversarialStep(generator: generator, discriminator: discriminator,
                                   generatorOptimizer: Adam(parameters: generator.parameters, learningRate: reference.lr_g, beta1: reference.beta1),
                                   discriminatorOptimizer: Adam(parameters: discriminator.parameters, learningRate: reference.lr_d, beta1: reference.beta1),
                                   objective: .nonSaturating)
        let batch = reference.real_shape[0]
        let metrics = try step.iterate(nextBatch: { PatternWeights.pattern(reference.real_shape, seed: 1000) }) { purpose, _ in
            PatternWeights.pattern([batch, reference.latent], seed: purpose == .discriminatorNoise ? 3000 : 4000)
        }
        let name = preset.rawValue
        XCTAssertEqual(metrics.discriminatorLoss!, reference.d_loss, accuracy: 1e-4 * reference.d_loss, "\(name): D's loss")
        XCTAssertEqual(metrics.generatorLoss, reference.g_loss, accuracy: 1e-4 * reference.g_loss, "\(name): G's loss")
        XCTAssertEqual(metrics.realScore!, reference.d_real, accuracy: 1e-5, "\(name): D(x)")
        XCTAssertEqual(metrics.fakeScore!, reference.d_fake, accuracy: 1e-5, "\(name): D(G(z))")

        for (network, initial, expected, learningRate) in [(generator, before[0], reference.generator, reference.lr_g),
                                                           (discriminator, before[1], reference.discriminator, reference.lr_d)] {
            let state = network.state
            let names = Set(state.map(\.name))
            XCTAssertEqual(names, Set(expected.keys), "\(name): state_dict names")
            for ((entryName, entry), old) in zip(state, initial) {
                let fixture = try XCTUnwrap(expected[entryName])
                if case .counter(let counter) = entry {
                    XCTAssertEqual(counter.value, fixture.value, "\(name): \(entryName), one forward per phase")
                    continue
                }
                // A bias feeding a training-mode BatchNorm has a true gradient of zero; both sides
                // hold rounding noise there, which Adam's first, sign-like step turns into ±lr.
                if entryName.hasSuffix(".bias"), let index = Int(entryName.split(separator: ".")[0]), names.contains("\(index + 1).running_mean") {
                    continue
                }
                let change = zip(values(of: entry), old).map { $0 - $1 }
                let isBuffer = if case .buffer = entry { true } else { false }
                fixture.assertMatches(change, rtol: 1e-2, atol: isBuffer ? 1e-4 : 0.1 * learningRate, "\(name): change of \(entryName)")
            }
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
