import ArgumentParser
import Datasets

struct DatasetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dataset",
        abstract: "Pack a folder of images (or an IDX or HDF5 image file) into one HDF5 file at one resolution.",
        discussion: """
            Decodes every PNG and JPEG of SRC (each subfolder a class, named by the folder; images \
            directly in SRC unlabelled), makes each square (--crop center, or refuses a non-square one \
            by name), resizes it to RESOLUTION×RESOLUTION with an antialiased filter (area averaging to \
            shrink, bilinear to grow) and writes `images` uint8 [N, C, R, R], `labels` and `class_names` \
            for labelled data, and each image's source path, every dataset checksummed. Training reads \
            the file as it is: `launcher train --data OUT`.

              launcher dataset photos/ --out photos-64.h5 --resolution 64 --crop center
              launcher dataset /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz --out fashion-32.h5 --resolution 32
              launcher dataset /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz --labels \\
                  /usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz --random-hue --out colour-fashion-32.h5 --resolution 32

            With --pairs, SRC holds pairs for pix2pix: A/ (inputs) and B/ (targets) folders whose files pair \
            by name (--pairs files), or side-by-side images, input left and target right (--pairs \
            side-by-side). The two images of a pair are cropped alike and resized together into `inputs` and \
            `targets` uint8 [N, C, R, R], each side keeping its channels: `launcher train --preset pix2pix --data OUT`.

              launcher dataset facades/ --pairs side-by-side --out facades-128.h5 --resolution 128
            """
    )

    @Argument(help: ArgumentHelp("A folder of PNG and JPEG images, or an IDX or HDF5 image file.", valueName: "src"))
    var source: String

    @Option(help: ArgumentHelp("The HDF5 file to write (replaced whole, or not at all).", valueName: "file.h5"))
    var out: String

    @Option(help: ArgumentHelp("The side of the square images, in pixels.", valueName: "pixels"))
    var resolution: Int

    @Option(help: ArgumentHelp("How to make an image square: center (its largest centred square) or none (refuse a non-square one).",
                               valueName: "center|none"))
    var crop: DatasetPacking.Crop = .none

    @Option(help: ArgumentHelp("1 (gray, BT.601 luma) or 3 (colour); default: 3 when any image has colour, else 1.", valueName: "1|3"))
    var channels: Int?

    @Flag(help: "Leave out files that are not readable images, naming each, instead of stopping at the first.")
    var skipBadImages = false

    @Option(help: ArgumentHelp("An IDX label file (MNIST's *-labels-idx1-ubyte) giving an IDX or HDF5 source's images their classes.",
                               valueName: "file"))
    var labels: String?

    @Flag(help: ArgumentHelp("Paint each image's gray values with a hue of its own (HSV saturation 0.8, seeded by the image's index): "
                             + "a colour data set made from a gray one."))
    var randomHue = false

    @Option(help: ArgumentHelp("Pack only the first N readable images (in sorted path order, or the file's order): a small data set to try.",
                               valueName: "N"))
    var maxImages: Int?

    @Option(help: ArgumentHelp("Pack pairs rather than images: files (A/ and B/ folders paired by name) or side-by-side (input left, target right).",
                               valueName: "files|side-by-side"))
    var pairs: PairSource?

    func run() throws {
        var options = DatasetPacking.Options(resolution: resolution)
        (options.crop, options.channels, options.skipBad, options.maximumCount) = (crop, channels, skipBadImages, maxImages)
        (options.labels, options.randomHue) = (labels, randomHue)
        if let pairs {
            let summary = try DatasetPacking.packPairs(source, layout: pairs, to: out, options: options) { print($0) }
            print("wrote \(out): \(summary.count) pairs, \(resolution)×\(resolution)"
                  + (summary.skipped > 0 ? "; skipped \(summary.skipped) with an unreadable file" : ""))
            return
        }
        let summary = try DatasetPacking.pack(source, to: out, options: options) { print($0) }
        print("wrote \(out): \(summary.count) images, \(summary.channels) channel\(summary.channels == 1 ? "" : "s"), \(resolution)×\(resolution)"
              + (summary.classes > 0 ? ", \(summary.classes) classes" : ", unlabelled")
              + (summary.skipped > 0 ? "; skipped \(summary.skipped) unreadable file\(summary.skipped == 1 ? "" : "s")" : ""))
    }
}

extension DatasetPacking.Crop: ExpressibleByArgument {}
extension PairSource: ExpressibleByArgument {}
