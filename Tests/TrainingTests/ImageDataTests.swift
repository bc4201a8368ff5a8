import Checkpoints
import Foundation
import HDF5
import TestSupport
import XCTest
@testable import Datasets

/// Your own images in: folders of PNG and JPEG files (torchvision's ImageFolder layout), HDF5
/// image arrays in either channel layout, and `launcher dataset`, which packs and resizes them.
final class ImageDataTests: XCTestCase {
    var scratch: ScratchDirectory!
    override func setUpWithError() throws { scratch = try ScratchDirectory() }
    override func tearDown() { scratch.remove() }

    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    struct ResizeFixture: Decodable {
        struct Size: Decodable { let width: Int, height: Int }
        struct Resized: Decodable { let size: Int, pixels: [UInt8] }
        let source: Size
        let shrunk: Resized, grown: Resized
        /// Pillow's decoding of the JPEG fixtures, RGB `[H, W, 3]`.
        let jpeg: [String: [UInt8]]
    }

    static let resize = try! JSONDecoder().decode(ResizeFixture.self, from: Data(contentsOf: fixtures.appendingPathComponent("resize.json")))

    /// The fixture script's pattern: 0-255, smooth in both directions, different per channel.
    static func pattern(width: Int, height: Int, channel: Int = 0) -> [UInt8] {
        (0..<height).flatMap { y in (0..<width).map { x in UInt8(127.5 + 127.5 * sin(0.37 * Double(x) + 0.23 * Double(y) + 1.1 * Double(channel))) } }
    }

    /// A picture of the pattern, `channels` 1 or 3, as a PNG file at `path`.
    @discardableResult
    func writePNG(_ path: String, width: Int, height: Int, channels: Int) throws -> Picture {
        var picture = Picture(width: width, height: height, channels: channels)
        let planes = (0..<channels).map { Self.pattern(width: width, height: height, channel: $0) }
        picture.pixels = (0..<width * height).flatMap { pixel in planes.map { $0[pixel] } }
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try picture.writePNG(to: path)
        return picture
    }

    /// Class a: a colour PNG and a colour JPEG; class b: a gray JPEG, a gray PNG and, with
    /// `corrupt`, a file that is not an image.
    func makeFolder(corrupt: Bool) throws -> String {
        let folder = scratch.file("photos")
        try writePNG("\(folder)/a/1.png", width: 12, height: 12, channels: 3)
        try FileManager.default.copyItem(atPath: Self.fixtures.appendingPathComponent("images/colour.jpg").path, toPath: "\(folder)/a/2.jpg")
        try FileManager.default.createDirectory(atPath: "\(folder)/b", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: Self.fixtures.appendingPathComponent("images/gray.jpg").path, toPath: "\(folder)/b/1.JPEG")
        try writePNG("\(folder)/b/2.png", width: 12, height: 12, channels: 1)
        // A PNG cut short: its signature, then nothing whole.
        if corrupt { try Data(try Picture(width: 12, height: 12).pngBytes().prefix(40)).write(to: URL(fileURLWithPath: "\(folder)/b/3.png")) }
        return folder
    }

    func testAFolderOfPNGAndJPEGFilesLoadsWithItsClassesAndNamesAFileThatIsNoImage() throws {
        let folder = try makeFolder(corrupt: true)
        XCTAssertThrowsError(try Dataset.images(at: folder)) { error in
            XCTAssertTrue("\(error)".hasPrefix("\(folder)/b/3.png: not a readable PNG"), "\(error)")
            XCTAssertTrue("\(error)".contains("--skip-bad-images"), "\(error)")
        }
        var said: [String] = []
        let dataset = try Dataset.images(at: folder, skipBad: true) { said.append($0) }
        XCTAssertTrue(said.contains { $0.contains("skipped 1 unreadable file of 5") && $0.contains("b/3.png") }, "\(said)")
        XCTAssertEqual(dataset.count, 4)
        XCTAssertEqual(dataset.sampleShape, [3, 12, 12], "gray images join colour ones as three channels")
        XCTAssertEqual(dataset.labels, [0, 0, 1, 1])
        XCTAssertEqual(dataset.classNames, ["a", "b"])

        func pixels(_ index: Int) throws -> [Int] { try dataset.batch([index]).scalars.map { Int((($0 + 1) * 127.5).rounded()) } }
        // The colour PNG's planes are the pattern's three channels, exactly.
        XCTAssertEqual(try pixels(0), (0..<3).flatMap { Self.pattern(width: 12, height: 12, channel: $0).map(Int.init) })
        // The gray PNG is its plane three times.
        let gray = Self.pattern(width: 12, height: 12).map(Int.init)
        XCTAssertEqual(try pixels(3), gray + gray + gray)
        // The JPEGs decode as Pillow decodes them (libjpeg-turbo both), to a level or two.
        for (index, name) in [(1, "colour.jpg"), (2, "gray.jpg")] {
            let reference = try XCTUnwrap(Self.resize.jpeg[name])
            let planes = (0..<3).flatMap { channel in (0..<144).map { Int(reference[$0 * 3 + channel]) } }
            XCTAssertLessThanOrEqual(try zip(pixels(index), planes).map { abs($0 - $1) }.max()!, 2, name)
        }
    }

    /// A JPEG cut short inside its header is named as truncated, not as an image of no pixels.
    func testAJPEGCutShortIsNamedAsTruncated() throws {
        let path = scratch.file("cut.jpg")
        try FileManager.default.createDirectory(atPath: scratch.file(""), withIntermediateDirectories: true)
        let whole = try Data(contentsOf: Self.fixtures.appendingPathComponent("images/colour.jpg"))
        try whole.prefix(40).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try ImageDecoding.decode(contentsOf: path)) { error in
            XCTAssertTrue("\(error)".hasPrefix("\(path): "), "\(error)")
            XCTAssertTrue("\(error)".contains("truncated or damaged") || "\(error)".contains("not a readable JPEG"), "\(error)")
            XCTAssertFalse("\(error)".contains("images may have at most"), "\(error)")
        }
    }

    func testImagesOfDifferentSizesOrBesideClassFoldersAreRefusedByName() throws {
        let folder = scratch.file("mixed")
        try writePNG("\(folder)/one.png", width: 12, height: 12, channels: 1)
        try writePNG("\(folder)/two.png", width: 10, height: 12, channels: 1)
        XCTAssertThrowsError(try Dataset.images(at: folder)) { error in
            XCTAssertTrue("\(error)".hasPrefix("\(folder)/two.png is 10×12, \(folder)/one.png 12×12"), "\(error)")
            XCTAssertTrue("\(error)".contains("launcher dataset"), "\(error)")
        }
        try writePNG("\(folder)/class/three.png", width: 12, height: 12, channels: 1)
        XCTAssertThrowsError(try Dataset.images(at: folder)) { XCTAssertTrue("\($0)".contains("beside class folders"), "\($0)") }
        XCTAssertThrowsError(try Dataset.images(at: scratch.file("absent"))) { XCTAssertEqual("\($0)", "\(self.scratch.file("absent")): no such file") }
    }

    /// Area averaging to shrink and bilinear interpolation to grow, against OpenCV's INTER_AREA and
    /// INTER_LINEAR (`Fixtures/make_image_fixtures.py`), to one level of 255 (OpenCV rounds in fixed point).
    func testResizingMatchesOpenCV() {
        let source = Self.resize.source
        let plane = Self.pattern(width: source.width, height: source.height)
        for reference in [Self.resize.shrunk, Self.resize.grown] {
            let resized = Resampling.resize(plane[...], height: source.height, width: source.width, to: reference.size)
            let worst = zip(resized, reference.pixels).map { abs(Int($0) - Int($1)) }.max()!
            XCTAssertLessThanOrEqual(worst, 1, "to \(reference.size)×\(reference.size)")
        }
        // Area weights: each output pixel's weights sum to 1 and cover its share of the input.
        for taps in Resampling.weights(from: 23, to: 8) {
            XCTAssertEqual(taps.reduce(0) { $0 + $1.weight }, 1, accuracy: 1e-12)
        }
    }

    func testDatasetPacksAFolderThatTrainingReadsBack() throws {
        let folder = try makeFolder(corrupt: false)
        try writePNG("\(folder)/b/wide.png", width: 23, height: 17, channels: 1)
        let output = scratch.file("photos.h5")
        var options = DatasetPacking.Options(resolution: 8)
        XCTAssertThrowsError(try DatasetPacking.pack(folder, to: output, options: options) { _ in }) { error in
            XCTAssertEqual("\(error)", "\(folder)/b/wide.png is 23×17, not square; --crop center takes its largest centred square")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: output), "nothing written over a failed pack")
        options.crop = .center
        let summary = try DatasetPacking.pack(folder, to: output, options: options) { _ in }
        XCTAssertEqual(summary.count, 5)
        XCTAssertEqual(summary.channels, 3)
        XCTAssertEqual(summary.classes, 2)

        let root = try HDF5File.open(output).root
        XCTAssertEqual(try root.shape(of: "images"), [5, 3, 8, 8])
        XCTAssertEqual(try root.dataset("images").stringAttribute("layout"), "NCHW")
        XCTAssertEqual(try root.stringAttribute("class_names"), "a\nb")
        let sources = String(decoding: try root.read("sources", as: UInt8.self).values, as: UTF8.self).split(separator: "\n")
        XCTAssertEqual(sources.last.map(String.init), "\(folder)/b/wide.png")

        let dataset = try Dataset.images(at: output)
        XCTAssertEqual(dataset.sampleShape, [3, 8, 8])
        XCTAssertEqual(dataset.labels, [0, 0, 1, 1, 1])
        XCTAssertEqual(dataset.classNames, ["a", "b"])
        // The wide image: its centred 17×17 square, shrunk by area averaging.
        let square = (0..<17).flatMap { y in Self.pattern(width: 23, height: 17)[y * 23 + 3..<y * 23 + 20] }
        let expected = Resampling.resize(square[...], height: 17, width: 17, to: 8).map(Int.init)
        XCTAssertEqual(Array(try dataset.batch([4]).scalars.prefix(64)).map { Int((($0 + 1) * 127.5).rounded()) }, expected)
    }

    /// `[N, H, W, C]` and `[N, C, H, W]` give the same batches, the layout named or read from the
    /// shape; a shape that allows both, labels of the wrong count or beyond the classes are refused.
    func testBothHDF5LayoutsLoadTheSameBatchesAndBadLabelsAreRefused() throws {
        let (count, channels, height, width) = (2, 3, 4, 5)
        let planar = (0..<count * channels * height * width).map { UInt8($0 % 251) }
        let interleaved = (0..<count).flatMap { n in
            (0..<height * width).flatMap { pixel in (0..<channels).map { planar[(n * channels + $0) * height * width + pixel] } }
        }
        func write(_ name: String, _ values: [UInt8], _ shape: [Int], layout: String?, labels: [Int64]? = nil, classes: String? = nil) throws -> String {
            let path = scratch.file(name)
            try HDF5File.writeAtomically(path) { file in
                let images = try file.root.write(values, shape: shape, to: "images")
                if let layout { try images.setAttribute("layout", layout) }
                if let labels { try file.root.write(labels, shape: [labels.count], to: "labels") }
                if let classes { try file.root.setAttribute("class_names", classes) }
            }
            return path
        }
        let nchw = try Dataset.images(at: write("nchw.h5", planar, [count, channels, height, width], layout: "NCHW"))
        let nhwc = try Dataset.images(at: write("nhwc.h5", interleaved, [count, height, width, channels], layout: "NHWC"))
        let inferred = try Dataset.images(at: write("inferred.h5", interleaved, [count, height, width, channels], layout: nil))
        XCTAssertEqual(nchw.sampleShape, [3, 4, 5])
        let size = channels * height * width
        XCTAssertEqual(try nchw.batch([1, 0, 1]).scalars, (planar[size...] + planar[..<size] + planar[size...]).map { Float($0) / 127.5 - 1 },
                       "rows read in the order asked, repeats included")
        XCTAssertEqual(try nhwc.batch(0..<count), try nchw.batch(0..<count))
        XCTAssertEqual(try inferred.batch(0..<count), try nchw.batch(0..<count))

        let ambiguous = try write("ambiguous.h5", Array(planar.prefix(2 * 3 * 4 * 3)), [2, 3, 4, 3], layout: nil)
        XCTAssertThrowsError(try Dataset.images(at: ambiguous)) { error in
            XCTAssertTrue("\(error)".hasPrefix("\(ambiguous):/images has shape [2, 3, 4, 3]: channels could be dimension 1 or 3"), "\(error)")
        }
        let miscounted = try write("miscounted.h5", planar, [count, channels, height, width], layout: "NCHW", labels: [0])
        XCTAssertThrowsError(try Dataset.images(at: miscounted)) { XCTAssertEqual("\($0)", "\(miscounted):/labels has shape [1]; expected [2], one per image") }
        let beyond = try write("beyond.h5", planar, [count, channels, height, width], layout: "NCHW", labels: [0, 2], classes: "cat\ndog")
        XCTAssertThrowsError(try Dataset.images(at: beyond)) { XCTAssertEqual("\($0)", "\(beyond):/labels holds class 2, but class_names names 2 classes") }
    }

    /// A folder of 28×28 gray PNGs trains dcgan28 on 2 ranks, as users run it.
    func testAFolderTrainsOnTwoRanks() throws {
        let folder = scratch.file("digits")
        for index in 0..<8 { try writePNG("\(folder)/\(index).png", width: 28, height: 28, channels: 1) }
        let result = try Subprocess.mpirun(ranks: 2, "launcher", ["train", "--preset", "dcgan28", "--data", folder, "--steps", "2",
                                                                 "--batch-size", "4", "--tensorboard", "false", "--run-dir", scratch.file("run")])
        XCTAssertEqual(result.status, 0, result.combinedOutput)
        XCTAssertTrue(result.standardOutput.contains("training dcgan28 on \(folder) (8 samples)"), result.standardOutput)
        XCTAssertTrue(FileManager.default.fileExists(atPath: scratch.file("run/checkpoint-00000002.h5")))
    }

    /// dcgan takes its shape from a folder of 16×16 colour images, records it, trains on 2 ranks,
    /// samples; `evaluate` without an evaluator for its shape says how to make one; `bench` times it at any shape.
    func testDCGANTakesItsShapeFromTheData() throws {
        let folder = scratch.file("colour")
        for index in 0..<8 { try writePNG("\(folder)/\(index).png", width: 16, height: 16, channels: 3) }
        let run = scratch.file("run")
        let result = try Subprocess.mpirun(ranks: 2, "launcher", ["train", "--preset", "dcgan", "--data", folder, "--steps", "2",
                                                                 "--batch-size", "4", "--tensorboard", "false", "--run-dir", run])
        XCTAssertEqual(result.status, 0, result.combinedOutput)
        let checkpoint = "\(run)/checkpoint-00000002.h5"
        let configuration = try CheckpointFile(path: checkpoint).configuration
        XCTAssertEqual(configuration.resolution, 16)
        XCTAssertEqual(configuration.channels, 3)
        XCTAssertEqual(try HDF5File.open(checkpoint).root.group("generator").childNames().first, "main.0.weight", "the example's names")

        let launcher = try Subprocess.product("launcher")
        let sampled = try Subprocess.run(launcher, ["sample", checkpoint, "--count", "4", "--out", scratch.file("samples.h5")])
        XCTAssertEqual(sampled.status, 0, sampled.combinedOutput)
        XCTAssertEqual(try HDF5File.open(scratch.file("samples.h5")).root.shape(of: "samples"), [4, 3, 16, 16])
        let evaluated = try Subprocess.run(launcher, ["evaluate", checkpoint])
        XCTAssertNotEqual(evaluated.status, 0)
        XCTAssertTrue(evaluated.standardError.contains("images of 3×16×16 are measured in the features of an evaluator network for that shape: "
                                                       + "train one on labelled images of 3×16×16 with `launcher evaluator train --data"),
                      evaluated.standardError)

        let wrongSize = try Subprocess.run(launcher, ["train", "--preset", "dcgan", "--data", folder, "--resolution", "32", "--steps", "1",
                                                      "--run-dir", scratch.file("wrong")])
        XCTAssertNotEqual(wrongSize.status, 0)
        XCTAssertTrue(wrongSize.standardError.contains("--resolution 32, but \(folder) has 16"), wrongSize.standardError)
        let notForFixedShapes = try Subprocess.run(launcher, ["train", "--preset", "dcgan28", "--resolution", "32", "--run-dir", scratch.file("fixed")])
        XCTAssertTrue(notForFixedShapes.standardError.contains("--resolution and --channels are for dcgan"), notForFixedShapes.standardError)

        let bench = try Subprocess.run(launcher, ["bench", "--preset", "dcgan", "--resolution", "32", "--channels", "1", "--batch-size", "2",
                                                  "--iterations", "1", "--warmup", "0", "--json"])
        XCTAssertEqual(bench.status, 0, bench.combinedOutput)
        XCTAssertTrue(bench.standardOutput.contains("\"preset\":\"dcgan\""), bench.standardOutput)
    }

    /// sngan on a folder of PNG and JPEG files (colour and gray, two classes, one corrupt) that
    /// `dataset` packs at 32×32×3, naming the corrupt file: 2 ranks train 2 steps of 2 D updates
    /// each with the paper's hinge loss and Adam, and store spectral normalization as PyTorch does.
    func testSNGANTrainsOnAPackedFolderOnTwoRanks() throws {
        let folder = try makeFolder(corrupt: true)
        let (launcher, data, run) = (try Subprocess.product("launcher"), scratch.file("photos.h5"), scratch.file("run"))
        let packed = try Subprocess.run(launcher, ["dataset", folder, "--out", data, "--resolution", "32", "--channels", "3", "--skip-bad-images"])
        XCTAssertEqual(packed.status, 0, packed.combinedOutput)
        XCTAssertTrue(packed.combinedOutput.contains("skipped \(folder)/b/3.png"), packed.combinedOutput)
        let result = try Subprocess.mpirun(ranks: 2, "launcher", ["train", "--preset", "sngan", "--data", data, "--steps", "2", "--d-steps", "2",
                                                                 "--batch-size", "4", "--tensorboard", "false", "--run-dir", run])
        XCTAssertEqual(result.status, 0, result.combinedOutput)
        let checkpoint = "\(run)/checkpoint-00000002.h5"
        let configuration = try CheckpointFile(path: checkpoint).configuration
        XCTAssertEqual([configuration.resolution, configuration.channels], [32, 3])
        XCTAssertEqual(configuration.objective, .hinge)
        XCTAssertEqual([configuration.beta1, configuration.beta2], [0, 0.9])
        let discriminator = try HDF5File.open(checkpoint).root.group("discriminator").childNames()
        for name in ["blocks.0.0.conv2d1.weight_orig", "blocks.0.0.conv2d1.weight_u", "blocks.0.0.conv2d1.weight_v", "linear1.bias"] {
            XCTAssertTrue(discriminator.contains(name), "\(name) in \(discriminator.prefix(8))")
        }
        XCTAssertFalse(discriminator.contains("linear1.weight"), "the normalised weight is not state, as in PyTorch")

        let wrongSide = try Subprocess.run(launcher, ["train", "--preset", "sngan", "--data", data, "--resolution", "16", "--run-dir", scratch.file("x")])
        XCTAssertNotEqual(wrongSide.status, 0)
        XCTAssertTrue(wrongSide.standardError.contains("--resolution 16: sngan builds its networks for sides 32, 64 or 128"), wrongSide.standardError)
    }

    /// The colour demo data: Fashion-MNIST's test images with their labels, each painted with a
    /// hue of its own, at 32×32; labels that do not fit the images, or on a folder, are refused.
    func testDatasetPaintsGrayImagesWithAHueEachAndKeepsTheirLabels() throws {
        let launcher = try Subprocess.product("launcher")
        let (images, labels) = (FashionMNIST.testImages, FashionMNIST.files().testLabels)
        let out = scratch.file("colour.h5")
        let packed = try Subprocess.run(launcher, ["dataset", images, "--labels", labels, "--random-hue", "--max-images", "20",
                                                   "--out", out, "--resolution", "32"])
        XCTAssertEqual(packed.status, 0, packed.combinedOutput)
        let dataset = try Dataset.images(at: out)
        XCTAssertEqual(dataset.sampleShape, [3, 32, 32])
        XCTAssertEqual(dataset.labels, Array(try Labels.idx(at: labels).prefix(20)))
        XCTAssertEqual(dataset.classNames, (0...9).map(String.init))
        // One colour per image: where the gray value is bright, the channels stand in one ratio.
        let pixels = try dataset.batch([0, 1]).scalars.map { ($0 + 1) * 127.5 }
        var ratios: [[Float]] = []
        for image in 0..<2 {
            let planes = (0..<3).map { channel in Array(pixels[(image * 3 + channel) * 1024..<(image * 3 + channel + 1) * 1024]) }
            let bright = (0..<1024).filter { pixel in planes.map { $0[pixel] }.max()! > 200 }
            XCTAssertFalse(bright.isEmpty)
            let brightest = bright.map { pixel in planes.map { $0[pixel] }.max()! }
            let ratio = planes.map { plane in zip(bright, brightest).map { plane[$0] / $1 }.reduce(0, +) / Float(bright.count) }
            for (pixel, brightest) in zip(bright, brightest).prefix(20) {
                for channel in 0..<3 { XCTAssertEqual(planes[channel][pixel] / brightest, ratio[channel], accuracy: 0.05, "image \(image)") }
            }
            ratios.append(ratio)
        }
        XCTAssertNotEqual(ratios[0].map { ($0 * 10).rounded() }, ratios[1].map { ($0 * 10).rounded() }, "two images, two hues")

        let mismatched = try Subprocess.run(launcher, ["dataset", images, "--labels", FashionMNIST.files().trainingLabels, "--out", out, "--resolution", "32"])
        XCTAssertNotEqual(mismatched.status, 0)
        XCTAssertTrue(mismatched.standardError.contains("60000 labels for the 10000 images"), mismatched.standardError)
        let folder = try makeFolder(corrupt: false)
        let onFolder = try Subprocess.run(launcher, ["dataset", folder, "--labels", labels, "--out", out, "--resolution", "32"])
        XCTAssertTrue(onFolder.standardError.contains("are its subfolders"), onFolder.standardError)
    }
}
