// Tensor kernels beside numpy (OpenBLAS) measured in the same run: GEMM and GEMV GFLOP/s, medians of
// several timed runs, printed with their ratio. Prints figures only; never fails.
import Foundation
import Tensor

/// One GEMM shape: C (m×n) = A (m×k) · Bᵀ with B stored (n, k), PyTorch's weight layout.
private struct GEMMShape {
    let m, n, k: Int
    var label: String { m == 1 ? "GEMV 1×\(n)×\(k)" : "GEMM \(m)×\(n)×\(k)" }
    var flops: Double { 2 * Double(m) * Double(n) * Double(k) }
}

private let gemmShapes = [GEMMShape(m: 512, n: 576, k: 576), GEMMShape(m: 512, n: 576, k: 1536),
                          GEMMShape(m: 2048, n: 2048, k: 2048), GEMMShape(m: 1, n: 576, k: 1536)]
private let timedRuns = 7
/// Each timed run repeats the product until it has done about this much work (≥ ~10 ms).
private let flopsPerRun = 2e9

/// Our GFLOP/s for one shape: the median of `timedRuns` runs after one warm-up.
private func measureOurs(_ shape: GEMMShape) -> Double {
    var state: UInt64 = 0x9E37_79B9_7F4A_7C15
    func next() -> Float {                                   // a quick LCG: inputs only need to be finite
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return Float(Int64(bitPattern: state >> 11) % 2_000_001 - 1_000_000) / 1_000_000
    }
    let a = (0..<(shape.m * shape.k)).map { _ in next() }
    let b = (0..<(shape.n * shape.k)).map { _ in next() }
    var c = [Float](repeating: 0, count: shape.m * shape.n)
    let repeats = max(1, Int(flopsPerRun / shape.flops))
    var seconds: [Double] = []
    let clock = ContinuousClock()
    a.withUnsafeBufferPointer { pa in
        b.withUnsafeBufferPointer { pb in
            c.withUnsafeMutableBufferPointer { pc in
                for run in 0...timedRuns {
                    let elapsed = clock.measure {
                        for _ in 0..<repeats {
                            gemm(m: shape.m, n: shape.n, k: shape.k, a: pa.baseAddress!, lda: shape.k,
                                 b: pb.baseAddress!, ldb: shape.k, transposeB: true, c: pc.baseAddress!, ldc: shape.n)
                        }
                    }
                    if run > 0 { seconds.append(Double(elapsed.components.attoseconds) * 1e-18 + Double(elapsed.components.seconds)) }
                }
            }
        }
    }
    return shape.flops * Double(repeats) / median(seconds) / 1e9
}

/// numpy's GFLOP/s for every shape (`a @ b.T`, float32), measured the same way, or nil if python3 or
/// numpy is missing.
private func measureNumpy(_ shapes: [GEMMShape]) -> (version: String, gflops: [Double])? {
    let script = """
    import sys, time
    try:
        import numpy as np
    except ImportError:
        print("missing"); sys.exit(0)
    print(np.__version__)
    rng = np.random.default_rng(0)
    for spec in sys.argv[1:]:
        m, n, k = map(int, spec.split("x"))
        a = rng.uniform(-1, 1, (m, k)).astype(np.float32)
        b = rng.uniform(-1, 1, (n, k)).astype(np.float32)
        flops = 2.0 * m * n * k
        repeats = max(1, int(\(flopsPerRun) / flops))
        times = []
        for run in range(\(timedRuns) + 1):
            start = time.perf_counter()
            for _ in range(repeats):
                c = a @ b.T
            if run > 0:
                times.append(time.perf_counter() - start)
        times.sort()
        print(flops * repeats / times[len(times) // 2] / 1e9)
    """
    guard let output = runPython(script, arguments: shapes.map { "\($0.m)x\($0.n)x\($0.k)" }) else { return nil }
    let lines = output.split(separator: "\n").map(String.init)
    guard let version = lines.first, version != "missing" else { return nil }
    let gflops = lines.dropFirst().compactMap(Double.init)
    return gflops.count == shapes.count ? (version, gflops) : nil
}

func runTensorBenchmarks() {
    print("== Tensor: C = A·Bᵀ (B stored (n, k)), Float; median of \(timedRuns) runs; \(activeProcessorCount) processors")
    let ours = gemmShapes.map(measureOurs)
    let numpy = measureNumpy(gemmShapes)
    if let numpy { print("numpy \(numpy.version) (OpenBLAS), same run") } else { print("numpy: not installed") }
    print("shape".padding(toLength: 22, withPad: " ", startingAt: 0) + "  ours GFLOP/s  numpy GFLOP/s  ours/numpy")
    for (i, shape) in gemmShapes.enumerated() {
        var line = shape.label.padding(toLength: 22, withPad: " ", startingAt: 0)
        line += format(ours[i]).leftPadded(14)
        if let numpy {
            line += format(numpy.gflops[i]).leftPadded(15) + format(ours[i] / numpy.gflops[i], digits: 2).leftPadded(12)
        }
        print(line)
    }
}

// MARK: - Stored bf16 weights, few rows of x

/// y = x·Wᵀ with W (4096 × 4096, a 7B's q) stored as bf16 and read in the kernels (`linear`), for the
/// rows of x a decode step or a short prompt has; beside PyTorch's bf16 `linear` (x rounded to bf16
/// too: it has no Float-by-bf16 product) on 2 threads. Up to 8 rows our kernel decodes W in
/// registers; from 9 it decodes W to Float a chunk at a time and runs the packed GEMM.
func runStoredLinearBenchmarks() {
    let n = 4096, k = 4096, rowCounts = [1, 4, 8, 9, 12, 16, 32]
    var rng = Xoshiro256StarStar(seed: 3)
    let w = WeightMatrix(rounding: Tensor(shape: [n, k], scalars: (0..<(n * k)).map { _ in Float(rng.nextUnitDouble()) - 0.5 }),
                         to: .bfloat16)
    print("== Tensor: y = x·Wᵀ, W 4096×4096 stored bf16; GFLOP/s, median of \(timedRuns) runs")
    var ours: [Double] = []
    for m in rowCounts {
        let x = (0..<(m * k)).map { _ in Float(rng.nextUnitDouble()) - 0.5 }
        var y = [Float](repeating: 0, count: m * n)
        let seconds = x.withUnsafeBufferPointer { px in
            y.withUnsafeMutableBufferPointer { py in
                medianSeconds(runs: timedRuns) { linear(m: m, x: px.baseAddress!, weight: w, y: py.baseAddress!) }
            }
        }
        ours.append(2 * Double(m * n * k) / seconds / 1e9)
    }
    let script = """
    import sys, time, statistics, torch
    torch.set_num_threads(2)
    w = torch.rand(4096, 4096).sub(0.5).to(torch.bfloat16)
    for m in map(int, sys.argv[1:]):
        x = torch.rand(m, 4096).sub(0.5).to(torch.bfloat16)
        torch.nn.functional.linear(x, w)
        times = []
        for _ in range(\(timedRuns)):
            t = time.perf_counter(); torch.nn.functional.linear(x, w); times.append(time.perf_counter() - t)
        print(2 * m * 4096 * 4096 / statistics.median(times) / 1e9)
    """
    let torch = runPython(script, arguments: rowCounts.map(String.init))?.split(separator: "\n").compactMap { Double($0) }
    let peer = torch?.count == rowCounts.count ? torch : nil
    print("rows of x   ours GFLOP/s  PyTorch bf16 GFLOP/s  ours/PyTorch")
    for (i, m) in rowCounts.enumerated() {
        var line = "\(m)".leftPadded(9) + format(ours[i]).leftPadded(15)
        if let peer { line += format(peer[i]).leftPadded(22) + format(ours[i] / peer[i], digits: 2).leftPadded(14) }
        print(line)
    }
    if peer == nil { print("PyTorch: not installed (or failed); no ratio") }
}

private extension String {
    func leftPadded(_ width: Int) -> String { String(repeating: " ", count: max(0, width - count)) + self }
}
