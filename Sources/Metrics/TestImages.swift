import Checkpoints
import Datasets
import Foundation
import Models

/// Fashion-MNIST's test images as Debian installs them: what completions, colourings and
/// reconstructions are made of and measured against.
public enum TestImages {
    /// The test set, for `purpose` ("completions") named in the message when it is missing.
    public static func fashionMNIST(for purpose: String) throws -> Dataset {
        let path = FashionMNIST.testImages
        guard FileManager.default.fileExists(atPath: path) else {
            throw ConfigurationError("\(path): missing; \(purpose) are of Fashion-MNIST's test images (apt-get install dataset-fashion-mnist)")
        }
        let images = try Dataset.images(at: path)
        try images.require(sampleShape: DCGAN28.imageShape, for: path)
        return images
    }

    /// G(E(x)) for images `[N, 1, 28, 28]`, both networks in evaluation mode, in chunks.
    public static func reconstruct(_ images: Tensor, encoder: Layer, generator: Layer) -> Tensor {
        images.mappingRows(inChunksOf: 256) { generator(encoder(Variable($0))).value }
    }
}
