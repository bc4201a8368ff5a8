import Checkpoints
import Datasets
import Foundation
import HDF5
import Models

/// The files `launcher sample` and `launcher reconstruct` write: HDF5 for analysis, PNG to look at.
public enum SampleFiles {
    /// Writes samples made from generator inputs `input` to `path`: an HDF5 file with float32
    /// datasets `samples`, `generator_input` (`input` itself), `inputs` (the images a
    /// conditional generator was given, where the preset keeps them) and `targets` (their true
    /// outputs, where it has them), or a PNG picture.
    public static func write(_ samples: Tensor, input: Tensor, targets: Tensor? = nil, configuration: TrainingConfiguration, to path: String) throws {
        let (preset, definition) = (configuration.preset, configuration.definition)
        switch (path as NSString).pathExtension.lowercased() {
        case "h5", "hdf5":
            try HDF5File.writeAtomically(path) { file in
                let dataset = try file.root.write(samples.scalars, shape: samples.shape, to: "samples")
                try dataset.setAttribute("preset", preset.rawValue)
                try dataset.setAttribute("range", preset.takesImages ? "[-1, 1]" : "data space")
                // The generator's own input, so that another implementation can be fed the same.
                try file.root.write(input.scalars, shape: input.shape, to: "generator_input")
                if let inputs = definition.conditionImages(of: input) {
                    try file.root.write(inputs.scalars, shape: inputs.shape, to: "inputs").setAttribute("range", "[-1, 1]")
                }
                if let targets {
                    try file.root.write(targets.scalars, shape: targets.shape, to: "targets").setAttribute("range", "[-1, 1]")
                }
            }
        case "png":
            try definition.picture(of: samples, input: input, targets: targets, columns: definition.pictureColumns).writePNG(to: path)
        default:
            throw ConfigurationError("--out \(path): expected a file ending in .h5 or .png")
        }
    }

    /// Writes test images beside their reconstructions: an HDF5 file with datasets `images` and
    /// `reconstructions`, or a PNG of pairs, eight pairs to a row.
    public static func writeReconstructions(_ images: Tensor, _ reconstructions: Tensor, to path: String) throws {
        switch (path as NSString).pathExtension.lowercased() {
        case "h5", "hdf5":
            try HDF5File.writeAtomically(path) { file in
                try file.root.write(images.scalars, shape: images.shape, to: "images")
                try file.root.write(reconstructions.scalars, shape: reconstructions.shape, to: "reconstructions")
                try file.root.setAttribute("range", "[-1, 1]")
            }
        case "png":
            let pairs = (0..<images.shape[0]).flatMap { i in
                [images.slice(i..<i + 1, axis: 0), reconstructions.slice(i..<i + 1, axis: 0)]
            }
            try Picture.grid(of: Tensor.concatenate(pairs, axis: 0), columns: 16).writePNG(to: path)
        default:
            throw ConfigurationError("--out \(path): expected a file ending in .h5 or .png")
        }
    }
}
