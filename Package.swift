// swift-tools-version:6.0
import PackageDescription

/// OpenMPI, OpenBLAS and HDF5 are found with pkg-config; each system-library
/// target names the Debian package that provides it, so a missing library
/// tells the user what to install.
let package = Package(
    name: "LearnedLoss",
    products: [
        .executable(name: "launcher", targets: ["launcher"]),
        .library(name: "Distributed", targets: ["Distributed"]),
        .library(name: "Models", targets: ["Models"]),
        .library(name: "HDF5", targets: ["HDF5"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
    ],
    targets: [
        .systemLibrary(name: "CMPI", pkgConfig: "ompi-c", providers: [.apt(["libopenmpi-dev", "openmpi-bin"])]),
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CAllocator"),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CTurboJPEG", pkgConfig: "libturbojpeg", providers: [.apt(["libturbojpeg0-dev"])]),
        // Debian ships no pkg-config file for oneDNN; the module map links libdnnl by name.
        .systemLibrary(name: "CDNNL", providers: [.apt(["libdnnl-dev"])]),
        .systemLibrary(name: "CHDF5", pkgConfig: "hdf5", providers: [.apt(["libhdf5-dev"])]),

        .target(name: "Distributed", dependencies: ["CMPI"]),
        .target(name: "HDF5", dependencies: ["CHDF5"]),
        .target(name: "Models", dependencies: ["CBLAS", "CDNNL", "CAllocator"]),
        // Data in and images out: IDX and HDF5 image files, the 2-D mixtures, sampling and batch splits.
        .target(name: "Datasets", dependencies: ["Models", "HDF5", "CZlib", "CPNG", "CTurboJPEG"]),
        // The checkpoint format and what it stores: the run's configuration, the networks' and
        // optimizers' state, the sampler's position; the run directory that holds them.
        .target(name: "Checkpoints", dependencies: ["Datasets", "Models", "HDF5"]),
        // TensorBoard event files: TFRecord framing around hand-encoded Event messages; no dependencies.
        .target(name: "TensorBoard"),
        // What is measured of a generator: the metrics, the evaluator network, and one measurement
        // per kind of preset (images, mode coverage, completions, colourings), split over the ranks.
        .target(name: "Metrics", dependencies: ["Checkpoints", "Datasets", "Distributed", "Models", "HDF5"]),
        .target(name: "Training", dependencies: ["Checkpoints", "Datasets", "Distributed", "Metrics", "Models", "HDF5", "TensorBoard", "Yams"]),
        // `launcher evaluate` and `evaluator`: a checkpoint measured, results written; the evaluator trained.
        .target(name: "Evaluation", dependencies: ["Checkpoints", "Training", "Datasets", "Distributed", "Metrics", "Models", "HDF5"]),
        // `launcher report`: a run directory drawn on one HTML page.
        .target(name: "Reports", dependencies: ["Checkpoints", "Datasets", "Training"]),
        // `launcher doctor` and `launcher bench`: what the machine can do, and how fast a preset trains on it.
        .target(name: "Diagnostics", dependencies: ["Checkpoints", "Datasets", "Distributed", "HDF5", "Models", "Training"]),
        .executableTarget(name: "launcher", dependencies: [
            "Checkpoints", "Datasets", "Diagnostics", "Distributed", "Evaluation", "Metrics", "Models", "Reports", "Training",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // Run by the multi-process tests under mpirun: one line of results per rank.
        .executableTarget(name: "mpi-probe", dependencies: ["Distributed"]),

        .target(name: "TestSupport", dependencies: ["Models"], path: "Tests/TestSupport"),
        .testTarget(name: "DistributedTests", dependencies: ["Distributed", "TestSupport"]),
        .testTarget(name: "HDF5Tests", dependencies: ["CHDF5", "HDF5", "TestSupport"]),
        .testTarget(name: "TensorBoardTests", dependencies: ["TensorBoard", "TestSupport"]),
        // Fixtures are read from the source tree; the script that writes them is not part of the build.
        .testTarget(name: "ModelsTests", dependencies: ["Models", "TestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "TrainingTests", dependencies: ["Training", "Checkpoints", "Datasets", "Evaluation", "Metrics", "Models", "HDF5", "Reports", "TestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "EvaluationTests", dependencies: ["Evaluation", "Metrics", "Checkpoints", "Training", "Datasets", "Models", "HDF5", "TestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "DiagnosticsTests", dependencies: ["Diagnostics", "Checkpoints", "Distributed", "Models", "Training", "TestSupport"]),
    ]
)
