/// Where Debian's `dataset-fashion-mnist` installs Fashion-MNIST: the one place its paths are written.
public enum FashionMNIST {
    public static let directory = "/usr/share/datasets/fashion-mnist"
    /// The 60,000 training images, the default `--data` of the image presets.
    public static let trainingImages = files().trainingImages
    /// The 10,000 test images, against which samples, completions and reconstructions are measured.
    public static let testImages = files().testImages

    /// The four IDX files, gzipped, in `directory`.
    public static func files(in directory: String = directory)
        -> (trainingImages: String, trainingLabels: String, testImages: String, testLabels: String) {
        ("\(directory)/train-images-idx3-ubyte.gz", "\(directory)/train-labels-idx1-ubyte.gz",
         "\(directory)/t10k-images-idx3-ubyte.gz", "\(directory)/t10k-labels-idx1-ubyte.gz")
    }
}
