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

    /// The network with the fixture's weights: `PatternWeights.setHashed`, whose order of seeds is
    /// the state dict's, which `testStateNamesAndShapesAreTorchvisions` checks is PyTorch's.
    static func network() -> FIDInception {
        let network = FIDInception()
        PatternWeights.setHashed(network)
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
