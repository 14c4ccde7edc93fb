// Benchmarks: prints figures beside a peer measured in the same run; never fails a build.
runLinalgBenchmarks()
