import Models
import TestSupport
import XCTest

/// The layers the FID Inception adds (window pooling, bilinear resizing, rectangular kernels)
/// against finite differences and known values, in the plain and oneDNN's blocked layout.
final class InceptionLayerTests: XCTestCase {
    let check = GradientCheck()

    func testWindowPoolingKnownValues() {
        let x = Variable(Tensor(shape: [1, 1, 3, 3], scalars: [1, 2, 3, 4, 9, 6, 7, 8, 5]))
        XCTAssertEqual(MaxPool2d(kernel: 3, stride: 2)(x).value.scalars, [9])
        XCTAssertEqual(MaxPool2d(kernel: 3, stride: 1, padding: 1)(x).value.scalars, [9, 9, 9, 9, 9, 9, 9, 9, 9])
        // Corners average their 4 pixels inside the image, edges 6, the centre 9: padding is not counted.
        let mean = AvgPool2dOverImage(kernel: 3, stride: 1, padding: 1)(x).value.scalars
        assertClose(mean, [4, 25.0 / 6, 5, 31.0 / 6, 5, 33.0 / 6, 7, 39.0 / 6, 7], rtol: 1e-6, atol: 1e-6, "mean over the image")
    }

    func testWindowPoolingGradientsInBothLayouts() {
        for channels in [2, 16] {
            // Within any window (flat indices less than 97 apart), values at least 0.05 apart in a
            // scrambled order: no maximum lies within the finite difference's step (0.01) of another
            // value, where the difference would straddle the kink.
            let input = Tensor(shape: [2, channels, 7, 6]) { Float(($0 * 37) % 97) * 0.05 - 2.4 }
            for layer in [MaxPool2d(kernel: 3, stride: 2), MaxPool2d(kernel: 3, stride: 1, padding: 1),
                          AvgPool2dOverImage(kernel: 3, stride: 1, padding: 1), AvgPool2dOverImage(kernel: 3, stride: 2)] as [Layer] {
                check.check(input: input) { probe(layer($0)) }
                if channels == 16 {
                    let blocked = input.converted(to: .channelBlocks(width: 16))
                    XCTAssertEqual(layer(Variable(blocked)).value.converted(to: .plain).scalars, layer(Variable(input)).value.scalars,
                                   "\(type(of: layer)) blocked")
                    check.check(input: blocked) { probe(layer($0).converted(to: .plain)) }
                }
            }
        }
    }

    func testBilinearResizeKnownValuesAndGradient() {
        // Doubling [0, 1] along a row: PyTorch's align_corners=False gives 0, 0.25, 0.75, 1.
        let row = Variable(Tensor(shape: [1, 1, 1, 2], scalars: [0, 1]))
        XCTAssertEqual(BilinearResize(height: 1, width: 4)(row).value.scalars, [0, 0.25, 0.75, 1])
        // Halving takes the mean of each pair.
        let pairs = Variable(Tensor(shape: [1, 1, 1, 4], scalars: [1, 3, 5, 9]))
        XCTAssertEqual(BilinearResize(height: 1, width: 2)(pairs).value.scalars, [2, 7])
        for (height, width) in [(9, 11), (3, 2)] {
            check.check(input: Sample.tensor([2, 3, 5, 4], seed: 32)) { probe(BilinearResize(height: height, width: width)($0)) }
        }
    }

    func testRectangularKernelsAgainstFiniteDifferencesAndTheirShapes() {
        for (kernel, padding) in [(Window(1, 7), Window(0, 3)), (Window(7, 1), Window(3, 0)), (Window(1, 3), Window(0, 1)), (Window(3, 2), Window(1, 0))] {
            var random = Sample.stream
            let layer = Conv2d(2, 3, kernel: kernel, stride: 1, padding: padding, bias: false, random: &random)
            XCTAssertEqual(layer.weight.value.shape, [3, 2, kernel.height, kernel.width])
            let input = Sample.tensor([2, 2, 6, 8], seed: 33)
            XCTAssertEqual(layer(Variable(input)).value.shape,
                           [2, 3, 6 + 2 * padding.height - kernel.height + 1, 8 + 2 * padding.width - kernel.width + 1], "\(kernel)")
            check.check(input: input, parameters: layer.parameters) { probe(layer($0)) }
        }
    }
}
