// Benchmarks: prints figures beside a peer measured in the same run; never fails a build.
// Usage: swift run -c release -Xcc -march=native Benchmarks [tensor] [linalg] [eigen] [pca] [forward] [latent] [surgery] [decode] [big] …
// (no argument: all but big and tridiagonal, which run only when asked), or Benchmarks make-7b-shaped OUT_DIR.
// One line per area; each area's file defines its run function.
import Foundation

let areas = CommandLine.arguments.dropFirst()
if areas.first == "latent-peak", let rank = areas.dropFirst().first.flatMap({ Int($0) }) {   // a child of the latent area
    runLatentPeak(rank: rank)
    exit(0)
}
if areas.first == "decode-child", let path = areas.dropFirst().first {   // a child of the decode area
    runDecodeChild(path: path)
    exit(0)
}
if areas.first == "make-7b-shaped" {                                    // Tools/make-7b-shaped-model.sh
    guard areas.count == 2, let out = areas.last else {
        print("usage: Benchmarks make-7b-shaped OUT_DIR")
        exit(2)
    }
    exit(makeSevenBShapedModel(at: out) ? 0 : 1)
}
func wanted(_ area: String) -> Bool { areas.isEmpty || areas.contains(area) }

if wanted("tensor") { runTensorBenchmarks(); runStoredLinearBenchmarks() }
if wanted("linalg") { runLinalgBenchmarks() }
if wanted("eigen") { runSymmetricEigenBenchmarks() }
if wanted("pca") { runPCABenchmarks() }
if areas.contains("tridiagonal") { runTridiagonalBenchmarks() }
if wanted("forward") { runForwardBenchmarks() }
if wanted("latent") { runLatentBenchmarks() }
if wanted("surgery") { runSurgeryBenchmarks() }
if wanted("decode") { runDecodeBenchmarks() }
if areas.contains("big") { runBigBenchmarks() }
