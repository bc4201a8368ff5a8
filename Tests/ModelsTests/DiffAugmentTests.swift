import Models
import TestSupport
import XCTest

/// DiffAugment's transforms: each against finite differences (draws fixed), and what each does
/// to a known image.
final class DiffAugmentTests: XCTestCase {
    let check = GradientCheck()
    let draws = Sample.tensor([3, DiffAugment.drawsPerSample], seed: 11)

    func testEachTransformAgainstFiniteDifferences() {
        for transforms: Set<DiffAugment.Transform> in [[.color], [.translation], [.cutout], [.mirror], [.color, .translation, .cutout]] {
            let augment = DiffAugment(transforms)
            for channels in [1, 3] {
                check.check(input: Sample.tensor([3, channels, 8, 6], seed: 2)) { probe(augment($0, draws: draws, real: true)) }
            }
        }
    }

    /// The same draws give the same augmentation; mirror is for real images only.
    func testKnownImages() {
        let image = Tensor(shape: [1, 1, 8, 8]) { Float($0) }
        // Φ(±4) rounds the uniforms to about 0 and 1: no brightness change is hidden in the others.
        func draws(_ values: [Float]) -> Tensor { Tensor(shape: [1, DiffAugment.drawsPerSample], scalars: values) }
        let low: Float = -8, high: Float = 8
        let flipped = DiffAugment([.mirror])(Variable(image), draws: draws([0, 0, 0, 0, 0, 0, 0, low]), real: true).value
        XCTAssertEqual(Array(flipped.scalars[0..<8]), [7, 6, 5, 4, 3, 2, 1, 0])
        XCTAssertEqual(DiffAugment([.mirror])(Variable(image), draws: draws([0, 0, 0, 0, 0, 0, 0, low]), real: false).value.scalars, image.scalars)
        // The largest shift, one pixel (1/8 of 8) down and right: row 0 reads row 1 and column 1.
        let shifted = DiffAugment([.translation])(Variable(image), draws: draws([0, 0, 0, high, high, 0, 0, 0]), real: true).value
        XCTAssertEqual(Array(shifted.scalars[0..<8]), [9, 10, 11, 12, 13, 14, 15, 0])
        XCTAssertEqual(Array(shifted.scalars[56..<64]), [Float](repeating: 0, count: 8))
        // A 4×4 square at the top left (offset 0: rows and columns -2..<2, clamped).
        let cut = DiffAugment([.cutout])(Variable(image), draws: draws([0, 0, 0, 0, 0, low, low, 0]), real: true).value
        XCTAssertEqual(Array(cut.scalars[0..<4]), [0, 0, 2, 3])
        XCTAssertEqual(cut.scalars.filter { $0 == 0 }.count, 4)
        // Brightness −0.5, saturation 0 (gray stays gray), contrast 0.5 around the mean 31.5.
        let colored = DiffAugment([.color])(Variable(image), draws: draws([low, low, low, 0, 0, 0, 0, 0]), real: true).value
        assertClose(colored.scalars, image.scalars.map { ($0 - 0.5 - 31) * 0.5 + 31 }, rtol: 1e-5, atol: 1e-4, "color")
    }
}
