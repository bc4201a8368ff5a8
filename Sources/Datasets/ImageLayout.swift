import HDF5

/// Where the channels of an image array are: `[N, H, W]` (one channel), `[N, C, H, W]` as
/// PyTorch holds images, or `[N, H, W, C]` as image files and NumPy hold them.
enum ImageLayout: String {
    case nhw = "NHW", nchw = "NCHW", nhwc = "NHWC"

    /// The layout `dataset` names in its `layout` attribute, or, without one, the layout its
    /// `shape` allows when only one reading is possible; `name` names it in errors.
    init(of dataset: HDF5Dataset, shape: [Int], in name: String) throws {
        if dataset.hasAttribute("layout") {
            let text = try dataset.stringAttribute("layout")
            guard let layout = ImageLayout(rawValue: text.uppercased()) else {
                throw DataError("\(name): layout \"\(text)\"; expected NHW, NCHW or NHWC")
            }
            guard shape.count == (layout == .nhw ? 3 : 4) else { throw DataError("\(name): layout \(layout.rawValue) for shape \(shape)") }
            self = layout
            return
        }
        switch shape.count {
        case 3: self = .nhw
        case 4:
            let (first, last) = ([1, 3].contains(shape[1]), [1, 3].contains(shape[3]))
            guard first != last else {
                throw DataError("\(name) has shape \(shape): channels could be " + (first ? "dimension 1 or 3" : "neither dimension 1 nor 3")
                                + "; give the dataset a layout attribute, NCHW or NHWC (`launcher dataset` writes one)")
            }
            self = first ? .nchw : .nhwc
        default:
            throw DataError("\(name) has shape \(shape); images need [N, H, W], [N, C, H, W] or [N, H, W, C]")
        }
    }

    /// One sample's shape `[C, H, W]`.
    func sampleShape(of shape: [Int]) -> [Int] {
        switch self {
        case .nhw: [1, shape[1], shape[2]]
        case .nchw: Array(shape[1...])
        case .nhwc: [shape[3], shape[1], shape[2]]
        }
    }

    /// `values` of `shape` in this layout, as planes `[N, C, H, W]`.
    func planar<Element>(_ values: [Element], shape: [Int]) -> [Element] {
        guard self == .nhwc else { return values }
        let (count, height, width, channels) = (shape[0], shape[1], shape[2], shape[3])
        let pixels = height * width
        var planes = values
        for sample in 0..<count {
            let base = sample * pixels * channels
            for pixel in 0..<pixels {
                for channel in 0..<channels { planes[base + channel * pixels + pixel] = values[base + pixel * channels + channel] }
            }
        }
        return planes
    }
}
