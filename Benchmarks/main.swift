// Benchmarks: prints figures beside a peer measured in the same run; never fails a build.
// One line per area; each area's file defines its run function.
runTensorBenchmarks()
