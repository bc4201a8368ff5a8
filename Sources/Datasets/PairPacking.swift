import Dispatch
import Foundation
import HDF5

extension DatasetPacking {
    /// Packs the pairs of the folder `source` (A/B folders or side-by-side images, as `layout`
    /// says) into `output`: `inputs` and `targets` uint8 `[N, C, R, R]` (each side's channels: 3
    /// when any of its images has colour), the two images of a pair cropped alike and resized
    /// together, and `sources`, each pair's input file; whole or not at all.
    public static func packPairs(_ source: String, layout: PairSource, to output: String, options: Options,
                                 say: (String) -> Void) throws -> Summary {
        guard (1...4096).contains(options.resolution) else { throw DataError("--resolution \(options.resolution): expected 1 to 4096 pixels") }
        guard options.maximumCount.map({ $0 >= 1 }) ?? true else { throw DataError("--max-images \(options.maximumCount!): expected at least 1") }
        guard options.channels == nil, options.labels == nil, !options.randomHue else {
            throw DataError("--channels, --labels and --random-hue are for plain images; pairs keep each side's channels")
        }
        guard layout == .files || layout == .sideBySide else {
            throw DataError("--pairs \(layout.rawValue) derives pairs while training; pack the plain images (without --pairs)")
        }
        let folder = try PairedFolder(source, layout: layout)
        var sides: [(input: [UInt8], inputChannels: Int, target: [UInt8], targetChannels: Int)] = [], sources: [String] = [], skipped = 0
        var lastReport = DispatchTime.now()
        let wanted = min(folder.count, options.maximumCount ?? folder.count)
        for index in 0..<folder.count where sources.count < wanted {
            let images: [DecodedImage]
            do { images = try folder.decoded(index) } catch {
                guard options.skipBad else { throw DataError("\(error); --skip-bad-images leaves such pairs out") }
                skipped += 1
                say("skipped \(error)")
                continue
            }
            let (input, target) = try folder.pair(images, index: index)
            let name = folder.files[index].input
            let (square, squareTarget) = (try crop(input, options.crop, name: name), try crop(target, options.crop, name: name))
            sides.append((resized(square.planes(channels: square.channels), channels: square.channels, height: square.height, width: square.width,
                                  to: options.resolution), square.channels,
                          resized(squareTarget.planes(channels: squareTarget.channels), channels: squareTarget.channels,
                                  height: squareTarget.height, width: squareTarget.width, to: options.resolution), squareTarget.channels))
            sources.append(name)
            if Double(DispatchTime.now().uptimeNanoseconds - lastReport.uptimeNanoseconds) > 2e9 {
                say("packed \(sources.count) of \(wanted) pairs")
                lastReport = DispatchTime.now()
            }
        }
        guard !sources.isEmpty else { throw DataError("\(source): no readable pair to pack") }
        let (inputChannels, targetChannels) = (sides.map(\.inputChannels).max()!, sides.map(\.targetChannels).max()!)
        /// Gray planes repeated into three where the side has colour.
        func planes(_ values: [UInt8], channels: Int, wanted: Int) -> [UInt8] {
            channels == wanted ? values : Array(Array(repeating: values, count: wanted).joined())
        }
        let shape = { (channels: Int) in [sources.count, channels, options.resolution, options.resolution] }
        try HDF5File.writeAtomically(output) { file in
            for (name, channels, values) in [("inputs", inputChannels, sides.flatMap { planes($0.input, channels: $0.inputChannels, wanted: inputChannels) }),
                                             ("targets", targetChannels, sides.flatMap { planes($0.target, channels: $0.targetChannels, wanted: targetChannels) })] {
                try file.root.write(values, shape: shape(channels), to: name, chunkBytes: Dataset.streamedChunkBytes)
                    .setAttribute("layout", ImageLayout.nchw.rawValue)
            }
            let lines = Array(sources.joined(separator: "\n").utf8)
            try file.root.write(lines, shape: [lines.count], to: "sources")
            try file.root.setAttribute("source", source)
            try file.root.setAttribute("crop", options.crop.rawValue)
            try file.root.setAttribute("pairs", layout.rawValue)
        }
        return Summary(count: sources.count, channels: inputChannels + targetChannels, classes: 0, skipped: skipped)
    }
}
