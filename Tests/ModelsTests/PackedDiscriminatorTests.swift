import Models
import XCTest

/// The mlp2d discriminator's packed first layer starts with each unit reading one point of the pack.
final class PackedDiscriminatorTests: XCTestCase {
    func firstLayer(pack: Int) -> Maxout {
        var random = RandomStream(seed: 3, purpose: "discriminator")
        return MLP2D.discriminator(pack: pack, random: &random).layers[0] as! Maxout
    }

    func testEachUnitOfAPackedFirstLayerStartsOnOnePoint() {
        let pack = 4, layer = firstLayer(pack: pack)
        let weight = layer.weight.value, inputs = 2 * pack, bound = 1 / Float(2).squareRoot()
        XCTAssertEqual(weight.shape, [200 * 5, inputs])
        var unitsPerPoint = [Int](repeating: 0, count: pack)
        for unit in 0..<layer.units {
            let point = unit % pack
            unitsPerPoint[point] += 1
            for piece in 0..<layer.pieces {
                let row = Array(weight.scalars[(unit * layer.pieces + piece) * inputs..<(unit * layer.pieces + piece + 1) * inputs])
                for (column, value) in row.enumerated() {
                    if column / 2 == point {
                        XCTAssert(value != 0 && abs(value) < bound, "unit \(unit) piece \(piece) column \(column): \(value)")
                    } else {
                        XCTAssertEqual(value, 0, "unit \(unit) piece \(piece) reads column \(column) of another point")
                    }
                }
            }
        }
        XCTAssertEqual(unitsPerPoint, [50, 50, 50, 50])
        XCTAssert(layer.bias.value.scalars.allSatisfy { $0 != 0 && abs($0) < bound })
    }

    func testMovingOnePointChangesOnlyTheUnitsReadingIt() {
        let pack = 4, layer = firstLayer(pack: pack)
        var packed = Tensor(shape: [1, 2 * pack], generator: { Float($0) * 0.5 - 2 })
        let before = layer(Variable(packed)).value
        packed.scalars[4] += 1.5
        packed.scalars[5] -= 0.75
        let after = layer(Variable(packed)).value
        for unit in 0..<layer.units {
            if unit % pack == 2 { continue }
            XCTAssertEqual(after.scalars[unit], before.scalars[unit], "unit \(unit) reads point \(unit % pack), not point 2")
        }
        XCTAssertNotEqual(after.scalars.enumerated().filter { $0.offset % pack == 2 }.map(\.element),
                          before.scalars.enumerated().filter { $0.offset % pack == 2 }.map(\.element))
    }

    func testAnUnpackedFirstLayerKeepsPyTorchsInitialisation() {
        var random = RandomStream(seed: 3, purpose: "discriminator")
        let plain = Maxout(2, units: 200, pieces: 5, random: &random)
        XCTAssertEqual(firstLayer(pack: 1).weight.value, plain.weight.value)
        XCTAssertEqual(firstLayer(pack: 1).bias.value, plain.bias.value)
    }
}
