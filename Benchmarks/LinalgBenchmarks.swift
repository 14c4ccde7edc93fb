// Linalg benchmarks: the dense SVD, the randomized SVD and PCA beside numpy/LAPACK and scikit-learn,
// measured in the same run on the same matrices (written to a temporary file that Python reads).
// Printed as medians and as ratios Swift / peer (below 1 means Swift is faster).
import Foundation
import Linalg
import Tensor

/// Matrix shapes: SmolLM2's q_proj and stacked K/V, TinyLlama's q_proj and K/V, and TinyLlama's K and
/// V of all 22 layers stacked (the study's "basis shared across layers").
private let linalgShapes: [(Int, Int)] = [(576, 576), (384, 576), (2048, 2048), (512, 2048), (11264, 2048)]
private let randomizedRank = 64

func runLinalgBenchmarks() {
    let runs = Int(ProcessInfo.processInfo.environment["LINALG_BENCH_RUNS"] ?? "") ?? 3
    let python = linalgPeerPython()
    print("== Linalg: dense SVD, randomized SVD (rank \(randomizedRank), oversampling 10, 4 power iterations), PCA")
    print("   median of \(runs) runs; peer \(python.map { "\($0.version)" } ?? "not installed")")
    print("   seconds (Swift ÷ peer)   exact SVD (U, Σ, Vᵀ)                     randomized SVD              PCA, all components")
    print("   shape         Swift   numpy f32          numpy f64          Swift   sklearn            Swift   sklearn")
    for (m, n) in linalgShapes {
        // A weight-like test matrix: Gaussian rows scaled by a decaying profile, so the spectrum
        // decays as real weights' do and the randomized methods have structure to find.
        var rng = Xoshiro256StarStar(seed: UInt64(m * 7919 + n))
        var a = gaussianTensor(shape: [m, n], using: &rng)
        for j in 0..<n {
            let scale = Float(1 / (1 + Double(j) / 32))
            for i in 0..<m { a.scalars[i * n + j] *= scale }
        }
        let exact = linalgMedian(runs) { _ = try? svd(a) }
        let randomized = linalgMedian(runs) {
            var r = Xoshiro256StarStar(seed: 1)
            _ = try? randomizedSVD(of: a, rank: randomizedRank, using: &r)
        }
        let pca = linalgMedian(runs) { _ = try? PCA.fit(a, solver: .exact) }
        let peer = python.flatMap { linalgPeerTimes($0.path, matrix: a, runs: runs) }
        func peerCell(_ swift: Double, _ other: Double?) -> String {
            guard let other else { return "     —           " }
            return String(format: "%7.3f (%5.2f×)", other, swift / other)
        }
        let label = "\(m)×\(n)".padding(toLength: 12, withPad: " ", startingAt: 0)
        print("   \(label) " + String(format: "%7.3f", exact) + "   " + peerCell(exact, peer?["svd"]) + "  "
              + peerCell(exact, peer?["svd64"]) + "  " + String(format: "%7.3f", randomized) + "   "
              + peerCell(randomized, peer?["randomized"]) + "  " + String(format: "%7.3f", pca) + "   "
              + peerCell(pca, peer?["pca"]))
    }
    if python != nil {
        print("   peers: np.linalg.svd(float32 and float64, full_matrices=False) — LAPACK gesdd, divide and conquer;")
        print("   sklearn.utils.extmath.randomized_svd(..., \(randomizedRank),")
        print("   n_oversamples=10, n_iter=4, power_iteration_normalizer='QR'); PCA(svd_solver='full') on float32 (the study);")
        print("   each at BLAS 1 and 2 threads (threadpoolctl), the faster reported. Swift computes in Double.")
    }
}

/// Median wall time in seconds of `runs` calls.
private func linalgMedian(_ runs: Int, _ body: () -> Void) -> Double {
    var times: [Double] = []
    for _ in 0..<max(runs, 1) {
        let start = DispatchTime.now().uptimeNanoseconds
        body()
        times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
    return times.sorted()[times.count / 2]
}

// MARK: - The Python peer

/// The reference venv's python if present, else python3 from PATH — if numpy, scipy and
/// scikit-learn import.
private func linalgPeerPython() -> (path: String, version: String)? {
    let venv = NSHomeDirectory() + "/.cache/surgery/reference-venv/bin/python"
    let candidates = FileManager.default.isExecutableFile(atPath: venv) ? [venv, "/usr/bin/env"] : ["/usr/bin/env"]
    for path in candidates {
        let arguments = (path == "/usr/bin/env" ? ["python3"] : []) + ["-c",
            "import numpy, scipy, sklearn, threadpoolctl; print(f'numpy {numpy.__version__}, scipy {scipy.__version__}, scikit-learn {sklearn.__version__}')"]
        if let output = linalgRun(path, arguments), !output.isEmpty {
            return (path, output.trimmingCharacters(in: .whitespacesAndNewlines))
        }
    }
    return nil
}

private let linalgPeerScript = """
import sys, json, time
import numpy as np
from threadpoolctl import threadpool_limits
from sklearn.decomposition import PCA
from sklearn.utils.extmath import randomized_svd
path, m, n, runs, rank = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
a = np.fromfile(path, dtype='<f4').reshape(m, n)
def median(f):
    best = None
    for threads in (1, 2):
        with threadpool_limits(limits=threads):
            times = []
            for _ in range(runs):
                t = time.perf_counter(); f(); times.append(time.perf_counter() - t)
            med = sorted(times)[len(times) // 2]
            best = med if best is None else min(best, med)
    return best
a64 = a.astype(np.float64)
out = {
  "svd": median(lambda: np.linalg.svd(a, full_matrices=False)),
  "svd64": median(lambda: np.linalg.svd(a64, full_matrices=False)),
  "randomized": median(lambda: randomized_svd(a, rank, n_oversamples=10, n_iter=4,
                                              power_iteration_normalizer='QR', random_state=0)),
  "pca": median(lambda: PCA(svd_solver='full').fit(a)),
}
print(json.dumps(out))
"""

/// The peer's median times for one matrix, or nil if the run failed.
private func linalgPeerTimes(_ python: String, matrix a: Tensor, runs: Int) -> [String: Double]? {
    let file = NSTemporaryDirectory() + "linalg-bench-\(ProcessInfo.processInfo.processIdentifier).f32"
    defer { try? FileManager.default.removeItem(atPath: file) }
    let bytes = a.scalars.withUnsafeBufferPointer { Data(buffer: $0) }   // little-endian hosts
    guard (try? bytes.write(to: URL(fileURLWithPath: file))) != nil else { return nil }
    let arguments = (python == "/usr/bin/env" ? ["python3"] : [])
        + ["-c", linalgPeerScript, file, "\(a.shape[0])", "\(a.shape[1])", "\(runs)", "\(randomizedRank)"]
    guard let output = linalgRun(python, arguments),
          let line = output.split(separator: "\n").last,
          let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Double]
    else { return nil }
    return object
}

/// Runs a process and returns its standard output, or nil if it failed.
private func linalgRun(_ path: String, _ arguments: [String]) -> String? {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = FileHandle.nullDevice
    do { try process.run() } catch { return nil }
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { return nil }
    return String(decoding: data, as: UTF8.self)
}

// MARK: - Symmetric eigendecomposition

/// Sizes of the Gram matrices the surgery decomposes: SmolLM2's stacked K/V rows (384) and model
/// dimension (576).
private let eigenSizes = [384, 576]

/// `SymmetricEigen` (values and vectors, Double) beside `np.linalg.eigh` (LAPACK dsyevd, float64) on
/// the same positive semi-definite Gram matrix M = W·C·Wᵀ, like the real use: W weight-like
/// (Gaussian, columns decaying as 1/(1 + j/32)), C an input covariance G·Gᵀ/(2n).
func runSymmetricEigenBenchmarks() {
    let runs = Int(ProcessInfo.processInfo.environment["LINALG_BENCH_RUNS"] ?? "") ?? 9
    let python = linalgPeerPython()
    print("== Linalg: symmetric eigendecomposition (all values and vectors, Double), M = W·C·Wᵀ")
    print("   median of \(runs) runs; peer \(python.map { "\($0.version)" } ?? "not installed")")
    print("   n       Swift (ms)   numpy eigh (ms)   Swift ÷ numpy")
    for n in eigenSizes {
        var rng = Xoshiro256StarStar(seed: UInt64(n))
        var w = gaussianMatrix(rows: n, columns: n, using: &rng)
        for i in 0..<n { for j in 0..<n { w[i, j] /= 1 + Double(j) / 32 } }
        let g = gaussianMatrix(rows: n, columns: 2 * n, using: &rng)
        var c = multiply(g, g, transposeB: true)
        for i in 0..<(n * n) { c.scalars[i] /= Double(2 * n) }
        var m = multiply(multiply(w, c), w, transposeB: true)
        for i in 0..<n { for j in 0..<i { m[i, j] = m[j, i] } }       // exactly symmetric

        for _ in 0..<3 { _ = try? SymmetricEigen(m) }        // warm-up (the first calls also fault in fresh pages)
        let swift = linalgMedian(runs) { _ = try? SymmetricEigen(m) }
        let peer = python.flatMap { eigenPeerTime($0.path, matrix: m, runs: runs) }
        let peerCell = peer.map { String(format: "%15.1f   %13.2f×", $0 * 1e3, swift / $0) } ?? "              —"
        print("   \(String(n).padding(toLength: 6, withPad: " ", startingAt: 0))" + String(format: "%11.1f", swift * 1e3)
              + "   " + peerCell)
        if n == eigenSizes[0] {
            let start = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<30 { _ = try? SymmetricEigen(m) }
            let total = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            print("   30 decompositions at n = \(n), one after another: " + String(format: "%.2f s", total))
        }
    }
    if python != nil {
        print("   peer: np.linalg.eigh(float64) — LAPACK dsyevd (tridiagonalization, divide and conquer), OpenBLAS;")
        print("   at BLAS 1 and 2 threads (threadpoolctl), the faster reported. Swift: tridiagonalization + QR iteration.")
    }
}

private let eigenPeerScript = """
import sys, json, time
import numpy as np
from threadpoolctl import threadpool_limits
path, n, runs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
m = np.fromfile(path, dtype='<f8').reshape(n, n)
best = None
for threads in (1, 2):
    with threadpool_limits(limits=threads):
        np.linalg.eigh(m)
        times = []
        for _ in range(runs):
            t = time.perf_counter(); np.linalg.eigh(m); times.append(time.perf_counter() - t)
        med = sorted(times)[len(times) // 2]
        best = med if best is None else min(best, med)
print(json.dumps({"eigh": best}))
"""

/// The peer's median seconds for `np.linalg.eigh` of one matrix, or nil if the run failed.
private func eigenPeerTime(_ python: String, matrix m: Matrix, runs: Int) -> Double? {
    let file = NSTemporaryDirectory() + "eigen-bench-\(ProcessInfo.processInfo.processIdentifier).f64"
    defer { try? FileManager.default.removeItem(atPath: file) }
    let bytes = m.scalars.withUnsafeBufferPointer { Data(buffer: $0) }   // little-endian hosts
    guard (try? bytes.write(to: URL(fileURLWithPath: file))) != nil else { return nil }
    let arguments = (python == "/usr/bin/env" ? ["python3"] : []) + ["-c", eigenPeerScript, file, "\(m.rows)", "\(runs)"]
    guard let output = linalgRun(python, arguments),
          let line = output.split(separator: "\n").last,
          let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Double]
    else { return nil }
    return object["eigh"]
}
