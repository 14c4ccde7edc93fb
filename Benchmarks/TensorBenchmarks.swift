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

private extension String {
    func leftPadded(_ width: Int) -> String { String(repeating: " ", count: max(0, width - count)) + self }
}
