// Linalg benchmarks: the dense SVD, the randomized SVD and PCA beside numpy/LAPACK and scikit-learn,
// measured in the same run on the same matrices (written to a temporary file that Python reads).
// Printed as medians and as ratios Swift / peer (below 1 means Swift is faster).
import Foundation
import Linalg
import Tensor

/// Matrix shapes: SmolLM2's q_proj and stacked K/V, TinyLlama's q_proj and K/V, and TinyLlama's K and
/// V of all 22 layers stacked (the study's "basis shared across layers").
/// LINALG_BENCH_SHAPES=576x576,2048x2048 picks some of them (for profiling one shape).
private let linalgShapes: [(Int, Int)] = chosenShapes([(576, 576), (384, 576), (2048, 2048), (512, 2048), (11264, 2048)])

private func chosenShapes(_ all: [(Int, Int)]) -> [(Int, Int)] {
    guard let list = ProcessInfo.processInfo.environment["LINALG_BENCH_SHAPES"] else { return all }
    let wanted = Set(list.split(separator: ",").map(String.init))
    return all.filter { wanted.contains("\($0.0)x\($0.1)") }
}
private let randomizedRank = 64

func runLinalgBenchmarks() {
    let runs = Int(ProcessInfo.processInfo.environment["LINALG_BENCH_RUNS"] ?? "") ?? 3
    let peerVersion = linalgPeerVersion()
    print("== Linalg: dense SVD, randomized SVD (rank \(randomizedRank), oversampling 10, 4 power iterations), PCA")
    print("   median of \(runs) runs; peer \(peerVersion ?? "not installed")")
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
        let exact = medianSeconds(runs: runs) { _ = try? svd(a) }
        let randomized = medianSeconds(runs: runs) {
            var r = Xoshiro256StarStar(seed: 1)
            _ = try? randomizedSVD(of: a, rank: randomizedRank, using: &r)
        }
        let pca = medianSeconds(runs: runs) { _ = try? PCA.fit(a, solver: .exact) }
        let peer = peerVersion == nil ? nil : linalgPeerTimes(matrix: a, runs: runs)
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
    if peerVersion != nil {
        print("   peers: np.linalg.svd(float32 and float64, full_matrices=False) — LAPACK gesdd, divide and conquer;")
        print("   sklearn.utils.extmath.randomized_svd(..., \(randomizedRank),")
        print("   n_oversamples=10, n_iter=4, power_iteration_normalizer='QR'); PCA(svd_solver='full') on float32 (the study);")
        print("   each at BLAS 1 and 2 threads (threadpoolctl), the faster reported. Swift computes in Double.")
    }
}

// MARK: - The Python peer

/// The peer's versions, if numpy, scipy and scikit-learn import.
private func linalgPeerVersion() -> String? {
    let script = "import numpy, scipy, sklearn, threadpoolctl; print(f'numpy {numpy.__version__}, scipy {scipy.__version__}, scikit-learn {sklearn.__version__}')"
    return runPython(script).map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
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
private func linalgPeerTimes(matrix a: Tensor, runs: Int) -> [String: Double]? {
    let file = NSTemporaryDirectory() + "linalg-bench-\(ProcessInfo.processInfo.processIdentifier).f32"
    defer { try? FileManager.default.removeItem(atPath: file) }
    let bytes = a.scalars.withUnsafeBufferPointer { Data(buffer: $0) }   // little-endian hosts
    guard (try? bytes.write(to: URL(fileURLWithPath: file))) != nil else { return nil }
    let arguments = [file, "\(a.shape[0])", "\(a.shape[1])", "\(runs)", "\(randomizedRank)"]
    guard let output = runPython(linalgPeerScript, arguments: arguments),
          let line = output.split(separator: "\n").last,
          let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Double]
    else { return nil }
    return object
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
    let peerVersion = linalgPeerVersion()
    print("== Linalg: symmetric eigendecomposition (all values and vectors, Double), M = W·C·Wᵀ")
    print("   median of \(runs) runs; peer \(peerVersion ?? "not installed")")
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
        let swift = medianSeconds(runs: runs) { _ = try? SymmetricEigen(m) }
        let peer = peerVersion == nil ? nil : eigenPeerTime(matrix: m, runs: runs)
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
    printEigenPhases()
    if peerVersion != nil {
        print("   peer: np.linalg.eigh(float64) — LAPACK dsyevd (tridiagonalization, divide and conquer), OpenBLAS;")
        print("   at BLAS 1 and 2 threads (threadpoolctl), the faster reported. Swift: tridiagonalization + QR iteration.")
    }
}

/// Where `SymmetricEigen`'s time goes, phase by phase, on the PCA benchmark's Gram matrices (576, 2048).
private func printEigenPhases() {
    for n in [576, 2048] {
        var rng = Xoshiro256StarStar(seed: UInt64(n * 7919 + n))
        var x = gaussianMatrix(rows: n, columns: n, using: &rng)
        for i in 0..<n { for j in 0..<n { x[i, j] /= 1 + Double(j) / 32 } }
        var g = multiply(x, x, transposeA: true)
        for i in 0..<n { for j in 0..<i { g[i, j] = g[j, i] } }
        func seconds(_ body: () -> Void) -> Double {
            let start = DispatchTime.now().uptimeNanoseconds
            body()
            return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        }
        var t: Tridiagonalization? = nil
        var unblocked = 0.0, tri = 0.0
        for _ in 0..<2 {
            unblocked += seconds { _ = tridiagonalize(g, blockedAbove: Int.max) }
            tri += seconds { t = tridiagonalize(g) }
        }
        var q: Matrix? = nil
        let formQ = seconds { q = t!.q }
        var d = t!.d, e = t!.e
        var noVectors: Matrix? = nil
        let valuesOnly = seconds { try? tridiagonalEigen(d: &d, e: &e, vt: &noVectors) }
        d = t!.d; e = t!.e
        var ut: Matrix? = q!.transposed()
        let withVectors = seconds { try? tridiagonalEigen(d: &d, e: &e, vt: &ut) }
        var dc: (values: [Double], vectors: Matrix)? = nil
        let divideAndConquer = seconds { dc = try? tridiagonalEigenDivideAndConquer(d: t!.d, e: t!.e) }
        var z = dc!.vectors
        let backTransform = seconds { t!.applyQ(to: &z) }
        let whole = seconds { _ = try? SymmetricEigen(g) }
        let f = { (x: Double) in String(format: "%.3f", x) }
        print("   phases n = \(n): tridiagonalize \(f(tri)) s (unblocked \(f(unblocked)) s; sums of 2), form Q \(f(formQ)) s, QR values only \(f(valuesOnly)) s,"
              + " QR + rotations \(f(withVectors)) s; divide and conquer \(f(divideAndConquer)) s, Q·Z \(f(backTransform)) s;"
              + " whole \(f(whole)) s")
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
private func eigenPeerTime(matrix m: Matrix, runs: Int) -> Double? {
    let file = NSTemporaryDirectory() + "eigen-bench-\(ProcessInfo.processInfo.processIdentifier).f64"
    defer { try? FileManager.default.removeItem(atPath: file) }
    let bytes = m.scalars.withUnsafeBufferPointer { Data(buffer: $0) }   // little-endian hosts
    guard (try? bytes.write(to: URL(fileURLWithPath: file))) != nil else { return nil }
    guard let output = runPython(eigenPeerScript, arguments: [file, "\(m.rows)", "\(runs)"]),
          let line = output.split(separator: "\n").last,
          let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Double]
    else { return nil }
    return object["eigh"]
}

// MARK: - PCA solvers

/// The issue's PCA shapes: SmolLM2's q_proj, TinyLlama's q_proj, TinyLlama's K/V of 22 layers stacked.
private let pcaShapes: [(Int, Int)] = chosenShapes([(576, 576), (2048, 2048), (11264, 2048)])

/// `PCA.fit` (all components) by each dense route — the SVD (`.exact`), the Gram eigen-route
/// (`.covariance`) and what `.auto` picks — beside scikit-learn's `PCA(svd_solver='full')` on the
/// same float32 matrix (the weight-like one of `runLinalgBenchmarks`).
func runPCABenchmarks() {
    let runs = Int(ProcessInfo.processInfo.environment["LINALG_BENCH_RUNS"] ?? "") ?? 3
    let peerVersion = linalgPeerVersion()
    print("== Linalg: PCA, all components, median of \(runs) runs; peer \(peerVersion ?? "not installed")")
    print("   seconds (Swift ÷ sklearn)   .exact (SVD)       .covariance (Gram)   .auto              sklearn full")
    for (m, n) in pcaShapes {
        var rng = Xoshiro256StarStar(seed: UInt64(m * 7919 + n))
        var a = gaussianTensor(shape: [m, n], using: &rng)
        for j in 0..<n {
            let scale = Float(1 / (1 + Double(j) / 32))
            for i in 0..<m { a.scalars[i * n + j] *= scale }
        }
        let exact = medianSeconds(runs: runs) { _ = try? PCA.fit(a, solver: .exact) }
        let gram = medianSeconds(runs: runs) { _ = try? PCA.fit(a, solver: .covariance) }
        let auto = medianSeconds(runs: runs) { _ = try? PCA.fit(a, solver: .auto) }
        let peer = peerVersion == nil ? nil : pcaPeerTime(matrix: a, runs: runs)
        func cell(_ swift: Double) -> String {
            guard let peer else { return String(format: "%7.3f (  —  )", swift) }
            return String(format: "%7.3f (%5.2f×)", swift, swift / peer)
        }
        // The routes' counts at the study's thresholds, and the worst ratio difference.
        var agreement = "counts differ"
        if let e = try? PCA.fit(a, solver: .exact), let g = try? PCA.fit(a, solver: .covariance) {
            let thresholds = [0.1, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 0.99]
            let same = thresholds.allSatisfy { t in
                (try? e.componentCount(forVariance: t)) == (try? g.componentCount(forVariance: t))
                    && (try? e.componentCount(forVariance: t, rule: .exceeds)) == (try? g.componentCount(forVariance: t, rule: .exceeds))
            }
            let worst = zip(e.explainedVarianceRatio, g.explainedVarianceRatio).map { abs(Double($0) - Double($1)) }.max() ?? 0
            agreement = (same ? "counts equal at 0.1…0.99" : "COUNTS DIFFER") + String(format: ", max |Δratio| %.1e", worst)
        }
        let label = "\(m)×\(n)".padding(toLength: 12, withPad: " ", startingAt: 0)
        defer { print("                " + agreement) }
        print("   \(label)               \(cell(exact))    \(cell(gram))      \(cell(auto))    "
              + (peer.map { String(format: "%7.3f", $0) } ?? "   —"))
    }
    print("   peer: PCA(svd_solver='full').fit(a) on float32 (LAPACK sgesdd), BLAS 1 and 2 threads, the faster.")
}

private let pcaPeerScript = """
import sys, json, time
import numpy as np
from threadpoolctl import threadpool_limits
from sklearn.decomposition import PCA
path, m, n, runs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
a = np.fromfile(path, dtype='<f4').reshape(m, n)
best = None
for threads in (1, 2):
    with threadpool_limits(limits=threads):
        times = []
        for _ in range(runs):
            t = time.perf_counter(); PCA(svd_solver='full').fit(a); times.append(time.perf_counter() - t)
        med = sorted(times)[len(times) // 2]
        best = med if best is None else min(best, med)
print(json.dumps({"pca": best}))
"""

/// scikit-learn's median seconds for a full PCA of one matrix, or nil if the run failed.
private func pcaPeerTime(matrix a: Tensor, runs: Int) -> Double? {
    let file = NSTemporaryDirectory() + "pca-bench-\(ProcessInfo.processInfo.processIdentifier).f32"
    defer { try? FileManager.default.removeItem(atPath: file) }
    let bytes = a.scalars.withUnsafeBufferPointer { Data(buffer: $0) }   // little-endian hosts
    guard (try? bytes.write(to: URL(fileURLWithPath: file))) != nil else { return nil }
    let arguments = [file, "\(a.shape[0])", "\(a.shape[1])", "\(runs)"]
    guard let output = runPython(pcaPeerScript, arguments: arguments),
          let line = output.split(separator: "\n").last,
          let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Double]
    else { return nil }
    return object["pca"]
}

// MARK: - Tridiagonalization alone

/// Profiling aid for the Gram eigen-route, on the PCA benchmark's matrix X (n×n) and its Gram matrix:
/// TRIDIAGONAL_WHAT = tridiagonalize (default), eigen (`SymmetricEigen`), pca (`PCA.fit`, `.auto`),
/// gemm (X·X), gram (`gramMatrix`, GFLOP/s counted as for the full product), or phases (one line per
/// call: Gram, then the eigen stages one by one, then the whole PCA). Sizes from TRIDIAGONAL_SIZES
/// (default 576,2048), LINALG_BENCH_RUNS calls each (median, wall and process CPU time),
/// LINALG_THREADS to limit the threads. No peer: use the `eigen` and `pca` areas for ratios.
func runTridiagonalBenchmarks() {
    let environment = ProcessInfo.processInfo.environment
    let runs = Int(environment["LINALG_BENCH_RUNS"] ?? "") ?? 5
    let sizes = (environment["TRIDIAGONAL_SIZES"] ?? "576,2048").split(separator: ",").compactMap { Int($0) }
    if let threads = environment["LINALG_THREADS"].flatMap({ Int($0) }) { limitThreads(to: threads) }
    print("== Linalg: tridiagonalization alone, median of \(runs) calls, \(threadCount) threads")
    for n in sizes {
        var rng = Xoshiro256StarStar(seed: UInt64(n * 7919 + n))
        var x = gaussianMatrix(rows: n, columns: n, using: &rng)
        for i in 0..<n { for j in 0..<n { x[i, j] /= 1 + Double(j) / 32 } }
        var g = multiply(x, x, transposeA: true)
        for i in 0..<n { for j in 0..<i { g[i, j] = g[j, i] } }
        let what = environment["TRIDIAGONAL_WHAT"] ?? "tridiagonalize"
        var data = gaussianTensor(shape: [n, n], using: &rng)
        for j in 0..<n {
            let scale = Float(1 / (1 + Double(j) / 32))
            for i in 0..<n { data.scalars[i * n + j] *= scale }
        }
        let body: () -> Void = switch what {
        case "eigen": { _ = try? SymmetricEigen(g) }
        case "pca": { _ = try? PCA.fit(data, solver: .auto) }
        case "gemm": { _ = multiply(x, x) }
        case "gram": { _ = gramMatrix(x, ofColumns: true) }
        default: { _ = tridiagonalize(g) }
        }
        if what == "phases" {
            func time(_ body: () -> Void) -> String {
                String(format: "%.3f", medianSeconds(runs: 1, body))
            }
            for _ in 0..<runs {
                var gram = Matrix(rows: 0, columns: 0), t: Tridiagonalization? = nil
                var dc: (values: [Double], vectors: Matrix)? = nil
                var u = Matrix(rows: 0, columns: 0)
                let xd = Matrix(rows: n, columns: n, scalars: data.scalars.map { Double($0) })
                let tg = time { gram = gramMatrix(xd, ofColumns: true) }
                let tc = time { _ = try? SymmetricEigen(gram) }
                let tt = time { t = tridiagonalize(gram) }
                let td = time { dc = try? tridiagonalEigenDivideAndConquer(d: t!.d, e: t!.e) }
                u = dc!.vectors
                let tq = time { t!.applyQ(to: &u) }
                let ts = time { _ = sortedAndOriented(values: dc!.values, columnsOf: u) }
                let tp = time { _ = try? PCA.fit(data, solver: .auto) }
                print("   n = \(n): gram \(tg), eigen \(tc) = tridiagonalize \(tt) + D&C \(td) + Q·Z \(tq) + sort \(ts); PCA \(tp) s")
            }
            continue
        }
        body()
        var cpu: [Double] = []
        let seconds = medianSeconds(runs: runs) {
            var start = timespec(), end = timespec()
            clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &start)
            body()
            clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &end)
            cpu.append(Double(end.tv_sec - start.tv_sec) + Double(end.tv_nsec - start.tv_nsec) / 1e9)
        }
        let cpuSeconds = median(cpu)
        print("   \(what) n = \(n): " + String(format: "%.4f s (CPU %.4f s)", seconds, cpuSeconds)
              + (what == "gemm" || what == "gram" ? String(format: " (%.1f GFLOP/s, %.1f per CPU-second)", 2 * pow(Double(n), 3) / seconds / 1e9, 2 * pow(Double(n), 3) / cpuSeconds / 1e9) : ""))
    }
}
