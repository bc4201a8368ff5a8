import Foundation
import Models
import TestSupport
import XCTest

/// The FID Inception-v3 against pytorch-fid's own network on the same weights (made by a formula
/// both sides compute, `PatternWeights.hashed`, in the order of the state names the fixture lists):
/// pool3 features of gray 28×28, colour 32×32 and colour 64×64 images, from
/// `Fixtures/inception.json`, which `Fixtures/make_inception_fixtures.py` wrote.
final class InceptionParityTests: XCTestCase {
    struct Case: Decodable {
        let input: [Int]
        let blocks: [SampledTensor]
    }

    static let fixture: (state: [(name: String, shape: [Int])], cases: [String: Case]) = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/inception.json")
        let data = try! Data(contentsOf: url)
        let object = try! JSONSerialization.jsonObject(with: data) as! [String: Any]
        let state = (object["state"] as! [[Any]]).map { ($0[0] as! String, ($0[1] as! [NSNumber]).map(\.intValue)) }
        var cases: [String: Case] = [:]
        for name in ["gray28", "colour32", "colour64"] {
            cases[name] = try! JSONDecoder().decode(Case.self, from: JSONSerialization.data(withJSONObject: object[name]!))
        }
        return (state, cases)
    }()

    /// The network with the fixture's weights: each state entry from `hashed`, seeded by its index
    /// in PyTorch's state dict, as the script's `hashed_weights`.
    static func network() -> FIDInception {
        let network = FIDInception()
        let entries = Dictionary(uniqueKeysWithValues: network.state.map { ($0.name, $0.entry) })
        for (index, (name, shape)) in fixture.state.enumerated() where !name.hasSuffix("num_batches_tracked") {
            let fanIn = shape.dropFirst().reduce(1, *)
            let value: Tensor
            if shape.count >= 2 {
                value = PatternWeights.hashed(shape, seed: index, scale: 1 / Double(fanIn).squareRoot())
            } else if name.hasSuffix("running_var") {
                value = PatternWeights.hashed(shape, seed: index, scale: 0.0075, shift: 0.15)
            } else if name.hasSuffix("running_mean") {
                value = PatternWeights.hashed(shape, seed: index, scale: 0.05)
            } else if name.hasSuffix("weight") {
                value = PatternWeights.hashed(shape, seed: index, scale: 0.1, shift: 1)
            } else {
                value = PatternWeights.hashed(shape, seed: index, scale: 0.1)
            }
            entries[name]?.tensor = value
        }
        return network
    }

    func testStateNamesAndShapesAreTorchvisions() {
        let ours = FIDInception().state.map { ($0.name, $0.entry.tensor?.shape ?? []) }
        XCTAssertEqual(ours.map(\.0), Self.fixture.state.map(\.name), "the state dict's names, in its order")
        XCTAssertEqual(ours.map(\.1), Self.fixture.state.map(\.shape), "and shapes")
    }

    func testPool3FeaturesMatchPytorchFID() throws {
        let network = Self.network()
        for name in ["gray28", "colour32", "colour64"] {
            let reference = try XCTUnwrap(Self.fixture.cases[name])
            var input = PatternWeights.pattern(reference.input, seed: 1000, scale: 0.5, shift: 0.5)
            if reference.input[1] == 1 { input = Tensor.concatenate([input, input, input], axis: 1) }
            let features = network(Variable(input)).value
            XCTAssertEqual(features.shape, [reference.input[0], 2048], name)
            reference.blocks[3].assertMatches(features.scalars, rtol: 2e-3, atol: 2e-3, "\(name): pool3")
        }
    }
}
