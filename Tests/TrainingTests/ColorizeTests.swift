import Checkpoints
import Datasets
import HDF5
import Models
import TestSupport
import XCTest
@testable import Evaluation
@testable import Metrics
@testable import Training

/// colorize28's data, its measure of tint, its pictures, and the generator's moving average.
final class ColorizeTests: XCTestCase {
    /// Two 2×2 gray images as a Dataset, values in [−1, 1].
    func grayImages() throws -> Dataset {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let path = scratch.file("gray.h5")
        let gray = Tensor(shape: [3, 1, 2, 2], scalars: [-1, 0, 0.5, 1, 1, 1, -1, -1, 0.2, 0.4, 0.6, 0.8])
        try HDF5File.create(path).root.write(gray.scalars, shape: gray.shape, to: "images")
        return try Dataset.images(at: path)
    }

    func testTintedImagesArePaintedWithTheirTintAndTheGrayComesBack() throws {
        let gray = try grayImages()
        let tinted = try gray.tinted()
        XCTAssertEqual(tinted.sampleShape, [3, 2, 2])
        let colour = try tinted.batch(0..<3)
        for image in 0..<3 {
            let rgb = Tint.ofImage(image).rgb
            for channel in 0..<3 {
                for pixel in 0..<4 {
                    let g = (try gray.batch([image]).scalars[pixel] + 1) / 2
                    XCTAssertEqual(colour.scalars[(image * 3 + channel) * 4 + pixel], 2 * g * rgb[channel] - 1, accuracy: 1e-6)
                }
            }
        }
        XCTAssertThrowsError(try tinted.tinted()) { XCTAssertTrue("\($0)".contains("colouring needs single-channel images"), "\($0)") }
    }

    func testTintsAreAFairCoinKeyedByTheImageAlone() {
        let tints = (0..<10_000).map(Tint.ofImage)
        XCTAssertEqual(tints, (0..<10_000).map(Tint.ofImage), "the same tints every time")
        XCTAssertFalse(tints.contains(.yellow), "no image is yellow")
        let red = Double(tints.filter { $0 == .red }.count) / 10_000
        XCTAssertEqual(red, 0.5, accuracy: 0.02, "red and green with probability 1/2 (4 standard deviations: 0.02)")
    }

    func testNearestTintIsByChromaticity() {
        XCTAssertEqual(Tint.nearest(to: [0.3, 0.045, 0.045]), .red, "a dark red is red")
        XCTAssertEqual(Tint.nearest(to: [0.15, 1, 0.15]), .green)
        XCTAssertEqual(Tint.nearest(to: Tint.yellow.rgb.map { $0 * 0.5 }), .yellow)
        let average = zip(Tint.red.rgb, Tint.green.rgb).map { ($0 + $1) / 2 }
        XCTAssertEqual(Tint.nearest(to: average), .yellow, "the average of red and green is yellow")
    }

    /// A colouring's tint is its garment's: bright gray pixels painted red on a background painted
    /// green is red; painted with the average of the tints it is yellow.
    func testTintOfAColouringIsItsGarmentsMeanColour() {
        let gray = Tensor(shape: [1, 2, 2], scalars: [1, 1, -1, -1])
        func colouring(garment: Tint, background: Tint) -> Tensor {
            var scalars: [Float] = []
            for channel in 0..<3 {
                let (inside, outside) = (garment.rgb[channel], background.rgb[channel] * 0.1)
                scalars += [inside, inside, outside, outside].map { 2 * $0 - 1 }
            }
            return Tensor(shape: [3, 2, 2], scalars: scalars)
        }
        XCTAssertEqual(ColorizationMetrics.tint(of: colouring(garment: .red, background: .green), gray: gray), .red)
        XCTAssertEqual(ColorizationMetrics.tint(of: colouring(garment: .green, background: .red), gray: gray), .green)
        XCTAssertEqual(ColorizationMetrics.tint(of: colouring(garment: .yellow, background: .red), gray: gray), .yellow)
    }

    func testGrayOfAColourImageIsItsBrightestChannel() throws {
        let tinted = try grayImages().tinted()
        let colour = try tinted.batch(0..<3)
        for image in 0..<3 {
            for pixel in 0..<4 {
                let channels = (0..<3).map { colour.scalars[(image * 3 + $0) * 4 + pixel] }
                XCTAssertEqual(channels.max()!, try grayImages().batch([image]).scalars[pixel], accuracy: 1e-6)
            }
        }
    }

    func testColourGridInterleavesChannels() {
        // One 1×2 image: a red pixel and a green one.
        let image = Tensor(shape: [1, 3, 1, 2], scalars: [1, -1, -1, 1, -1, -1])
        let grid = Picture.grid(of: image, columns: 1)
        XCTAssertEqual(grid.channels, 3)
        XCTAssertEqual(grid.shape, [5, 6, 3])
        let at = { (x: Int, y: Int) in Array(grid.pixels[(y * grid.width + x) * 3..<(y * grid.width + x) * 3 + 3]) }
        XCTAssertEqual(at(2, 2), [255, 0, 0])
        XCTAssertEqual(at(3, 2), [0, 255, 0])
        XCTAssertEqual(at(0, 0), [0, 0, 0], "the border is black")
    }

    /// The average follows TensorFlow's warm-up, then decay · average + (1 − decay) · trained, for
    /// parameters and BatchNorm's statistics alike; counters are copied.
    func testGeneratorAverageUpdatesEveryEntry() {
        var random = RandomStream(seed: 3, purpose: "average")
        let generator = Sequential([Linear(2, 3, random: &random), BatchNorm(3)])
        let average = GeneratorAverage(of: generator, in: Sequential([Linear(2, 3, random: &random), BatchNorm(3)]), decay: 0.9)
        XCTAssertEqual(average.decay(afterStep: 0), 0.1, accuracy: 1e-7)
        XCTAssertEqual(average.decay(afterStep: 1000), 0.9, "the warm-up ends below the decay")
        let before = average.network.state.map { entry -> [Float] in
            if case .parameter(let p) = entry.entry { return p.value.scalars }
            if case .buffer(let b) = entry.entry { return b.value.scalars }
            return []
        }
        XCTAssertEqual(before.first, { if case .parameter(let p) = generator.state[0].entry { return p.value.scalars }; return [] }(),
                       "the average starts at the generator")
        // Move every trained value by +1 and count a batch, then fold in after step 1000 (decay 0.9).
        for (_, entry) in generator.state {
            switch entry {
            case .parameter(let p): p.value = p.value.map { $0 + 1 }
            case .buffer(let b): b.value = b.value.map { $0 + 1 }
            case .counter(let c): c.value = 7
            }
        }
        average.update(from: generator, step: 1000)
        for ((name, entry), old) in zip(average.network.state, before) {
            switch entry {
            case .parameter(let p): assertClose(p.value.scalars, old.map { $0 + 0.1 }, rtol: 1e-5, name)
            case .buffer(let b): assertClose(b.value.scalars, old.map { $0 + 0.1 }, rtol: 1e-5, name)
            case .counter(let c): XCTAssertEqual(c.value, 7, name)
            }
        }
    }
}
