// Benchmarks: prints figures beside a peer measured in the same run; never fails a build.
// Usage: swift run -c release -Xcc -march=native Benchmarks [tensor] [linalg] [eigen] [pca] [forward] [latent] [surgery] … (no argument: all)
// One line per area; each area's file defines its run function.
import Foundation

let areas = CommandLine.arguments.dropFirst()
if areas.first == "latent-peak", let rank = areas.dropFirst().first.flatMap({ Int($0) }) {   // a child of the latent area
    runLatentPeak(rank: rank)
    exit(0)
}
func wanted(_ area: String) -> Bool { areas.isEmpty || areas.contains(area) }

if wanted("tensor") { runTensorBenchmarks() }
if wanted("linalg") { runLinalgBenchmarks() }
if wanted("eigen") { runSymmetricEigenBenchmarks() }
if wanted("pca") { runPCABenchmarks() }
if wanted("forward") { runForwardBenchmarks() }
if wanted("latent") { runLatentBenchmarks() }
if wanted("surgery") { runSurgeryBenchmarks() }
