// swift-tools-version: 6.0
// surgery — a pure-Swift numerics reference for training-free PCA surgery on Llama-family models.
// No package dependencies and no C targets. See README.md for the build flags published numbers used.
import PackageDescription

// Kernel targets are optimized even in debug builds: the GEMM runs ~400× slower at -Onone.
let optimizedEvenInDebug: [SwiftSetting] = [.unsafeFlags(["-O"], .when(configuration: .debug))]

let package = Package(
    name: "surgery",
    products: [
        .executable(name: "surgery", targets: ["SurgeryCLI"]),
        .library(name: "SurgeryKit", targets: ["Tensor", "Linalg", "Llama", "Surgery"]),
    ],
    targets: [
        .target(name: "Tensor", exclude: ["README.md"], swiftSettings: optimizedEvenInDebug),
        .target(name: "Linalg", dependencies: ["Tensor"], exclude: ["README.md"], swiftSettings: optimizedEvenInDebug),
        .target(name: "Llama", dependencies: ["Tensor"], exclude: ["README.md", "File/README.md", "Text/README.md", "Export/README.md"], swiftSettings: optimizedEvenInDebug),
        .target(name: "Surgery", dependencies: ["Tensor", "Linalg", "Llama"], exclude: ["README.md"], swiftSettings: optimizedEvenInDebug),
        .executableTarget(name: "SurgeryCLI", dependencies: ["Tensor", "Linalg", "Llama", "Surgery"]),
        .executableTarget(name: "Benchmarks", dependencies: ["Tensor", "Linalg", "Llama", "Surgery", "TestSupport"],
                          path: "Benchmarks"),
        .executableTarget(name: "fuzz", dependencies: ["Llama", "Tensor"], path: "Tools/fuzz", exclude: ["README.md"]),
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "TensorTests", dependencies: ["Tensor", "TestSupport"]),
        .testTarget(name: "LinalgTests", dependencies: ["Linalg", "Llama", "Tensor", "TestSupport"]),
        .testTarget(name: "LlamaTests", dependencies: ["Llama", "Tensor", "TestSupport", "fuzz"]),
        .testTarget(name: "SurgeryTests", dependencies: ["Surgery", "Llama", "Linalg", "Tensor", "TestSupport"]),
        .testTarget(name: "SurgeryCLITests", dependencies: ["SurgeryCLI", "TestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
