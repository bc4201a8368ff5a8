import Foundation
import Models

/// Where an image-to-image run's (input, target) pairs come from: given as files, or derived
/// from plain images for tasks whose input is computed from the target.
public enum PairSource: String, Codable, CaseIterable, Sendable {
    /// `A/` (inputs) and `B/` (targets) folders whose files pair by name, or an HDF5 file with
    /// `inputs` and `targets` (`launcher dataset --pairs files` writes one).
    case files
    /// pix2pix's `AB` images: each file the input on its left half and the target on its right.
    case sideBySide = "side-by-side"
    /// Colourisation: the input is the target's luma (ITU-R BT.601: 0.299 R + 0.587 G + 0.114 B).
    case gray
    /// Completion: the input is the target with its bottom half set to 0 (mid-gray).
    case maskedBottom = "masked-bottom"
    /// Completion: the input is the target with its central square of half the side set to 0.
    case maskedCenter = "masked-center"
    /// Deblurring: the input is the target through a Gaussian of σ = 2 pixels (13 taps each way,
    /// edges repeated).
    case blur
    /// 4x super-resolution: the input is the target's 4×4 block means, each repeated over its block.
    case downscale4 = "downscale-4"

    /// Whether the input is computed from the target rather than read.
    public var isDerived: Bool { self != .files && self != .sideBySide }

    /// The input's channels for targets of `channels` channels, for derived pairs.
    public func derivedInputChannels(targetChannels channels: Int) -> Int { self == .gray ? 1 : channels }

    /// The pairs of a batch of data `[N, C, H, W]`: for given pairs the first `inputChannels`
    /// channels are the input and the rest the target; for derived ones the batch is the target
    /// and the input is computed from it.
    public func split(_ batch: Tensor, inputChannels: Int) -> (input: Tensor, target: Tensor) {
        let channels = batch.shape[1]
        switch self {
        case .files, .sideBySide:
            return (batch.slice(0..<inputChannels, axis: 1), batch.slice(inputChannels..<channels, axis: 1))
        case .gray, .maskedBottom, .maskedCenter, .blur, .downscale4:
            return (derivedInput(of: batch), batch)
        }
    }

    /// The input derived from targets `[N, C, H, W]`.
    func derivedInput(of target: Tensor) -> Tensor {
        let (count, channels, height, width) = (target.shape[0], target.shape[1], target.shape[2], target.shape[3])
        let plane = height * width
        switch self {
        case .files, .sideBySide:
            preconditionFailure("\(rawValue) pairs are read, not derived")
        case .gray:
            precondition(channels == 3, "gray inputs are made from colour targets")
            return Tensor(shape: [count, 1, height, width]) { index in
                let (image, pixel) = index.quotientAndRemainder(dividingBy: plane)
                let base = image * 3 * plane + pixel
                return 0.299 * target.scalars[base] + 0.587 * target.scalars[base + plane] + 0.114 * target.scalars[base + 2 * plane]
            }
        case .maskedBottom, .maskedCenter:
            let rows = self == .maskedBottom ? height / 2..<height : height / 4..<height - height / 4
            let columns = self == .maskedBottom ? 0..<width : width / 4..<width - width / 4
            var masked = target
            for image in 0..<count * channels {
                for y in rows { for x in columns { masked.scalars[image * plane + y * width + x] = 0 } }
            }
            return masked
        case .blur:
            return Self.blurred(target, kernel: Self.gaussian(sigma: 2, radius: 6))
        case .downscale4:
            var blocks = target
            for image in 0..<count * channels {
                for blockY in stride(from: 0, to: height, by: 4) {
                    for blockX in stride(from: 0, to: width, by: 4) {
                        let pixels = (blockY..<min(blockY + 4, height)).flatMap { y in (blockX..<min(blockX + 4, width)).map { image * plane + y * width + $0 } }
                        let mean = pixels.reduce(Float(0)) { $0 + target.scalars[$1] } / Float(pixels.count)
                        for pixel in pixels { blocks.scalars[pixel] = mean }
                    }
                }
            }
            return blocks
        }
    }

    /// A normalised Gaussian of `2·radius + 1` taps.
    static func gaussian(sigma: Float, radius: Int) -> [Float] {
        let taps = (-radius...radius).map { exp(-Float($0 * $0) / (2 * sigma * sigma)) }
        let total = taps.reduce(0, +)
        return taps.map { $0 / total }
    }

    /// Each plane of `images` `[N, C, H, W]` convolved with `kernel` along the rows, then along the
    /// columns, coordinates beyond an edge clamped to it.
    static func blurred(_ images: Tensor, kernel: [Float]) -> Tensor {
        let (height, width) = (images.shape[2], images.shape[3])
        let radius = kernel.count / 2, plane = height * width
        var across = images, result = images
        for image in 0..<images.count / plane {
            let base = image * plane
            for y in 0..<height {
                for x in 0..<width {
                    across.scalars[base + y * width + x] = kernel.indices.reduce(0) { sum, k in
                        sum + kernel[k] * images.scalars[base + y * width + min(max(x + k - radius, 0), width - 1)]
                    }
                }
            }
            for y in 0..<height {
                for x in 0..<width {
                    result.scalars[base + y * width + x] = kernel.indices.reduce(0) { sum, k in
                        sum + kernel[k] * across.scalars[base + min(max(y + k - radius, 0), height - 1) * width + x]
                    }
                }
            }
        }
        return result
    }
}

extension PairSource {
    /// The data at `path` as this source reads it: pairs from files, or plain images to derive them from.
    public func load(_ path: String, skipBad: Bool = false, say: (String) -> Void = { _ in }) throws -> Dataset {
        switch self {
        case .files, .sideBySide: try Dataset.pairs(at: path, layout: self, skipBad: skipBad, say: say)
        case .gray, .maskedBottom, .maskedCenter, .blur, .downscale4: try Dataset.images(at: path, skipBad: skipBad, say: say)
        }
    }

    /// The samples of data of `count` kept out of training for evaluation: the last tenth, at
    /// least 1 and at most 1,000: a fixed split, so that every run and `evaluate` hold out the same.
    public static func heldOut(count: Int) -> Range<Int> {
        count - min(1000, max(1, count / 10))..<count
    }
}
