import Checkpoints
import Foundation
import Models
import TestSupport
import XCTest
@testable import Training

/// One whole training step against PyTorch, each phase with Adam, the non-saturating objective
/// and BatchNorm in training mode: dcgan28's and grid2d's D then G phases from one forward pass of G, alphagan28's three
/// phases, completion28's conditional D then G (λ·L1 and the mode-seeking term); the losses, D's
/// scores and the change of every weight, running statistic and counter of every network, from
/// `Fixtures/step.json`, which `Fixtures/make_step_fixtures.py` wrote.
final class StepParityTests: XCTestCase {
    struct Case: Decodable {
        let real_shape: [Int]
        let latent: Int
        let lr_g: Float, lr_d: Float, beta1: Float
        /// Adam's ε where it is not PyTorch's default (the fixture script says why).
        let eps: Float?
        let d_loss: Float, g_loss: Float, d_real: Float, d_fake: Float
        /// alphagan28's and completion28's: the L1 weight, its unweighted L1, C's loss, the mode-seeking weight.
        let weight: Float?, recon_l1: Float?, c_loss: Float?, mode_seeking: Float?
        let networks: [String: [String: SampledTensor]]
    }

    static let fixtures: [String: Case] = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/step.json")
        var object = try! JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        object.removeValue(forKey: "torch_version")
        return try! JSONDecoder().decode([String: Case].self, from: JSONSerialization.data(withJSONObject: object))
    }()

    override func setUp() { Kernels.threads = 1 }

    func testDCGAN28StepMatchesPyTorch() throws { try checkAdversarialStep(.dcgan28) }
    func testGrid2DStepMatchesPyTorch() throws { try checkAdversarialStep(.grid2d) }

    private func checkAdversarialStep(_ preset: Preset) throws {
        let reference = try XCTUnwrap(Self.fixtures[preset.rawValue])
        var random = RandomStream(seed: 0, purpose: "parity")
        let generator = preset.makeGenerator(random: &random)
        let discriminator = preset.makeDiscriminator(random: &random)
        let networks = ["generator": generator, "discriminator": discriminator]
        let before = patterned(networks)
        let step = AdversarialStep(generator: generator, discriminator: discriminator,
                                   generatorOptimizer: adam(generator, reference.lr_g, reference), discriminatorOptimizer: adam(discriminator, reference.lr_d, reference),
                                   objective: .nonSaturating)
        let batch = reference.real_shape[0]
        // One noise draw: G's phase goes on from the samples D's phase judged.
        let metrics = try step.iterate(nextBatch: { PatternWeights.pattern(reference.real_shape, seed: 1000) }) { purpose, _ in
            XCTAssertEqual(purpose, .discriminatorNoise)
            return PatternWeights.pattern([batch, reference.latent], seed: 3000)
        }
        try check(metrics, reference, preset.rawValue)
        try checkChanges(networks, from: before, reference, learningRates: ["generator": reference.lr_g, "discriminator": reference.lr_d], preset.rawValue)
    }

    /// E and G's phase, D's and C's, on a batch of 4 with λ 30.
    func testAlphaGAN28StepMatchesPyTorch() throws {
        let reference = try XCTUnwrap(Self.fixtures["alphagan28"])
        var random = RandomStream(seed: 0, purpose: "parity")
        let networks: [String: Layer] = ["encoder": AlphaGAN28.encoder(random: &random), "generator": DCGAN28.generator(random: &random),
                                         "discriminator": DCGAN28.discriminator(random: &random), "code_discriminator": AlphaGAN28.codeDiscriminator(random: &random)]
        let before = patterned(networks)
        let (lrG, lrD) = (reference.lr_g, reference.lr_d)
        let step = AlphaGANStep(encoder: networks["encoder"]!, generator: networks["generator"]!, discriminator: networks["discriminator"]!,
                                codeDiscriminator: networks["code_discriminator"]!,
                                optimizers: (adam(networks["encoder"]!, lrG, reference), adam(networks["generator"]!, lrG, reference),
                                             adam(networks["discriminator"]!, lrD, reference), adam(networks["code_discriminator"]!, lrD, reference)),
                                objective: .nonSaturating, reconstructionWeight: try XCTUnwrap(reference.weight))
        let metrics = try step.iterate(nextBatch: { PatternWeights.pattern(reference.real_shape, seed: 1000) }) { _, _ in
            PatternWeights.pattern([reference.real_shape[0], reference.latent], seed: 4000)
        }
        try check(metrics, reference, "alphagan28")
        XCTAssertEqual(try XCTUnwrap(metrics.codeDiscriminatorLoss), try XCTUnwrap(reference.c_loss), accuracy: 1e-4 * reference.c_loss!, "C's loss")
        try checkChanges(networks, from: before, reference,
                         learningRates: ["encoder": lrG, "generator": lrG, "discriminator": lrD, "code_discriminator": lrD], "alphagan28")
    }

    /// l1+adversarial with λ 100 and the mode-seeking term at weight 1, on a batch of 4 (two pairs).
    func testCompletion28StepMatchesPyTorch() throws {
        let reference = try XCTUnwrap(Self.fixtures["completion28"])
        var random = RandomStream(seed: 0, purpose: "parity")
        let networks: [String: Layer] = ["generator": Completion28.generator(random: &random), "discriminator": Completion28.discriminator(random: &random)]
        let before = patterned(networks)
        let step = ConditionalStep(task: .completion, generator: networks["generator"]!, discriminator: networks["discriminator"]!,
                                   generatorOptimizer: adam(networks["generator"]!, reference.lr_g, reference),
                                   discriminatorOptimizer: adam(networks["discriminator"]!, reference.lr_d, reference),
                                   loss: .l1Adversarial, objective: .nonSaturating, reconstructionWeight: try XCTUnwrap(reference.weight),
                                   modeSeekingWeight: try XCTUnwrap(reference.mode_seeking))
        let metrics = try step.iterate(nextBatch: { PatternWeights.pattern(reference.real_shape, seed: 1000) }) { _, _ in
            PatternWeights.pattern([reference.real_shape[0], reference.latent], seed: 4000)
        }
        try check(metrics, reference, "completion28")
        try checkChanges(networks, from: before, reference, learningRates: ["generator": reference.lr_g, "discriminator": reference.lr_d], "completion28")
    }

    private func adam(_ network: Layer, _ learningRate: Float, _ reference: Case) -> Adam {
        Adam(parameters: network.parameters, learningRate: learningRate, beta1: reference.beta1, epsilon: reference.eps ?? 1e-8)
    }

    /// Sets every network's weights from the pattern; returns their state's values before the step.
    private func patterned(_ networks: [String: Layer]) -> [String: [[Float]]] {
        networks.mapValues { network in
            PatternWeights.set(network)
            return network.state.map { $0.entry.tensor?.scalars ?? [] }
        }
    }

    private func check(_ metrics: StepMetrics, _ reference: Case, _ name: String) throws {
        XCTAssertEqual(try XCTUnwrap(metrics.discriminatorLoss), reference.d_loss, accuracy: 1e-4 * reference.d_loss, "\(name): D's loss")
        XCTAssertEqual(metrics.generatorLoss, reference.g_loss, accuracy: 1e-4 * abs(reference.g_loss), "\(name): G's loss")
        XCTAssertEqual(try XCTUnwrap(metrics.realScore), reference.d_real, accuracy: 1e-5, "\(name): D(x)")
        XCTAssertEqual(try XCTUnwrap(metrics.fakeScore), reference.d_fake, accuracy: 1e-5, "\(name): D(G(z))")
        if let l1 = reference.recon_l1 {
            XCTAssertEqual(try XCTUnwrap(metrics.reconstruction), l1, accuracy: 1e-4 * l1, "\(name): the L1 term")
        }
    }

    /// Every state entry of every network moved as PyTorch's did.
    private func checkChanges(_ networks: [String: Layer], from before: [String: [[Float]]], _ reference: Case,
                              learningRates: [String: Float], _ name: String) throws {
        XCTAssertEqual(Set(networks.keys), Set(reference.networks.keys), "\(name): networks")
        for (networkName, network) in networks.sorted(by: { $0.key < $1.key }) {
            let expected = try XCTUnwrap(reference.networks[networkName]), learningRate = try XCTUnwrap(learningRates[networkName])
            let state = network.state
            let names = Set(state.map(\.name))
            XCTAssertEqual(names, Set(expected.keys), "\(name): \(networkName)'s state_dict names")
            for ((entryName, entry), old) in zip(state, before[networkName]!) {
                let fixture = try XCTUnwrap(expected[entryName], "\(name): \(networkName).\(entryName)")
                if case .counter(let counter) = entry {
                    XCTAssertEqual(counter.value, fixture.value, "\(name): \(networkName).\(entryName), one forward per use")
                    continue
                }
                // A bias feeding a training-mode BatchNorm has a true gradient of zero; both sides
                // hold rounding noise there, which Adam's first, sign-like step turns into ±lr.
                if entryName.hasSuffix(".bias"), feedsBatchNorm(entryName, names) { continue }
                let change = zip(entry.tensor!.scalars, old).map { $0 - $1 }
                let isBuffer = if case .buffer = entry { true } else { false }
                fixture.assertMatches(change, rtol: 1e-2, atol: isBuffer ? 1e-4 : 0.1 * learningRate, "\(name): change of \(networkName).\(entryName)")
            }
        }
    }

    /// Whether the layer of `bias` ("decoder.0.bias") is followed by a BatchNorm in the same Sequential.
    private func feedsBatchNorm(_ bias: String, _ names: Set<String>) -> Bool {
        var parts = bias.split(separator: ".").map(String.init)
        parts.removeLast()
        guard let index = Int(parts.removeLast()) else { return false }
        return names.contains((parts + ["\(index + 1)", "running_mean"]).joined(separator: "."))
    }
}
