// The fast GEMM against its triple-loop twin over every m, n, k in 0…17 (both B layouts, some with
// padded leading dimensions) and a few model-sized shapes; the twin itself against numpy.
import Testing
import Tensor
import TestSupport
import Synchronization

/// Two summation orders of k products each differ by at most 2·k·u·Σ|a||b| (u = 2⁻²⁴, the unit
/// roundoff; Higham, "Accuracy and Stability of Numerical Algorithms", §3.1). The bound is rigorous.
private func gemmTolerance(k: Int) -> Double { 2 * Double(max(k, 1)) * 0x1p-24 }

/// Random A, B, with NaN in the padding past each row (the kernels must not read it), and C full of
/// NaN (the kernels must overwrite it) except a sentinel in C's padding (which must survive).
private struct Problem {
    let m, n, k, lda, ldb, ldc: Int
    let transposeB: Bool
    var a, b: [Float]

    init(m: Int, n: Int, k: Int, transposeB: Bool, padding: Int, rng: inout Xoshiro256StarStar) {
        self.m = m; self.n = n; self.k = k; self.transposeB = transposeB
        lda = k + padding; ldc = n + padding
        ldb = (transposeB ? k : n) + padding
        let bRows = transposeB ? n : k, bColumns = transposeB ? k : n
        a = Problem.matrix(rows: m, columns: k, ld: lda, rng: &rng)
        b = Problem.matrix(rows: bRows, columns: bColumns, ld: ldb, rng: &rng)
    }

    static func matrix(rows: Int, columns: Int, ld: Int, rng: inout Xoshiro256StarStar) -> [Float] {
        var x = [Float](repeating: .nan, count: max(1, rows * ld))
        for i in 0..<rows { for j in 0..<columns { x[i * ld + j] = Float.random(in: -1..<1, using: &rng) } }
        return x
    }

    func run(_ kernel: (Int, Int, Int, UnsafePointer<Float>, Int, UnsafePointer<Float>, Int, Bool,
                        UnsafeMutablePointer<Float>, Int) -> Void) -> [Float] {
        var c = [Float](repeating: .nan, count: max(1, m * ldc))
        for i in 0..<m { for j in n..<ldc { c[i * ldc + j] = 12345 } }
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                c.withUnsafeMutableBufferPointer { pc in
                    kernel(m, n, k, pa.baseAddress!, lda, pb.baseAddress!, ldb, transposeB, pc.baseAddress!, ldc)
                }
            }
        }
        return c
    }

    /// Σ_p |A[i,p]|·|B[p,j]|, the scale of the rounding error of entry (i, j).
    func magnitude(_ i: Int, _ j: Int) -> Double {
        var sum = 0.0
        for p in 0..<k {
            let bValue = transposeB ? b[j * ldb + p] : b[p * ldb + j]
            sum += Double(abs(a[i * lda + p])) * Double(abs(bValue))
        }
        return sum
    }

    /// The first entry where fast and reference differ by more than the tolerance, or nil.
    func firstMismatch() -> String? {
        let expected = run { gemmReference(m: $0, n: $1, k: $2, a: $3, lda: $4, b: $5, ldb: $6, transposeB: $7, c: $8, ldc: $9) }
        let got = run { gemm(m: $0, n: $1, k: $2, a: $3, lda: $4, b: $5, ldb: $6, transposeB: $7, c: $8, ldc: $9) }
        let tolerance = gemmTolerance(k: k)
        for i in 0..<m {
            for j in 0..<ldc {
                let g = got[i * ldc + j], e = expected[i * ldc + j]
                if j >= n {
                    if g != 12345 { return "padding of C overwritten at (\(i), \(j))" }
                    continue
                }
                if !(abs(Double(g) - Double(e)) <= tolerance * magnitude(i, j)) {
                    return "m \(m) n \(n) k \(k) transposeB \(transposeB) lda \(lda) ldb \(ldb) ldc \(ldc): " +
                        "C[\(i), \(j)] = \(g), reference \(e)"
                }
            }
        }
        return nil
    }
}

@Test(arguments: [true, false])
func gemmMatchesReferenceForEverySmallShape(transposeB: Bool) {
    var rng = Xoshiro256StarStar(seed: transposeB ? 1 : 2)
    var failures: [String] = []
    for m in 0...17 {
        for n in 0...17 {
            for k in 0...17 {
                let padding = (m + n + k) % 3 == 0 ? 3 : 0      // a third of the shapes with padded rows
                let problem = Problem(m: m, n: n, k: k, transposeB: transposeB, padding: padding, rng: &rng)
                if let failure = problem.firstMismatch() { failures.append(failure) }
            }
        }
    }
    #expect(failures.isEmpty, "\(failures.count) shapes failed, first: \(failures.prefix(3))")
}

@Test(arguments: [
    (512, 576, 576), (33, 1536, 576), (1, 576, 1536), (1, 1536, 576), (2, 577, 300), (3, 100, 1000),
    (4, 65, 17), (5, 700, 129), (7, 40, 600), (37, 300, 263), (64, 64, 64), (100, 33, 1024),
    (7, 4100, 600),                                   // more than one chunk of packed B
], [true, false])
func gemmMatchesReferenceForLargeShapes(shape: (Int, Int, Int), transposeB: Bool) {
    var rng = Xoshiro256StarStar(seed: UInt64(shape.0 * 1_000_003 + shape.1 * 1009 + shape.2))
    let padding = shape.0 % 2 == 1 ? 5 : 0
    let problem = Problem(m: shape.0, n: shape.1, k: shape.2, transposeB: transposeB, padding: padding, rng: &rng)
    let failure = problem.firstMismatch()
    #expect(failure == nil, "\(failure ?? "")")
}

@Test func matmulTensorAPIsAgreeAndHandleEmptyShapes() {
    var rng = Xoshiro256StarStar(seed: 3)
    let a = Tensor(shape: [9, 20], scalars: .random(180, using: &rng))
    let b = Tensor(shape: [20, 11], scalars: .random(220, using: &rng))
    let viaTranspose = matmulTransposed(a, b.transposed())
    let direct = matmul(a, b)
    #expect(direct.shape == [9, 11] && viaTranspose.shape == [9, 11])
    #expect(zip(direct.scalars, viaTranspose.scalars).allSatisfy { abs($0 - $1) <= 1e-5 })
    #expect(matmul(Tensor(zeros: [0, 3]), Tensor(zeros: [3, 4])).shape == [0, 4])
    #expect(matmul(Tensor(zeros: [2, 0]), Tensor(zeros: [0, 4])) == Tensor(zeros: [2, 4]))
}

/// B handed to the GEMM in decoded pieces (`gemm(…decodingB:…)`, what stored weights use) gives the
/// same packed panels and summation order as B in memory: equal bit for bit. Shapes with partial
/// panels of rows and columns, one and several depth blocks (kc = 256), several chunks of packed B.
@Test(arguments: [(5, 1, 1), (6, 32, 256), (7, 33, 257), (13, 70, 576), (37, 300, 263), (64, 4100, 600)])
func gemmWithDecodedBEqualsGEMMOnItsFloats(shape: (Int, Int, Int)) {
    let (m, n, k) = shape
    var rng = Xoshiro256StarStar(seed: UInt64(m * 10_007 + n * 101 + k))
    let a = (0..<(m * k)).map { _ in Float.random(in: -1..<1, using: &rng) }
    let b = (0..<(n * k)).map { _ in Float.random(in: -1..<1, using: &rng) }
    var inMemory = [Float](repeating: .nan, count: m * n), decoded = inMemory
    let pieces = Mutex<[String]>([])
    a.withUnsafeBufferPointer { pa in
        b.withUnsafeBufferPointer { pb in
            inMemory.withUnsafeMutableBufferPointer { pc in
                gemm(m: m, n: n, k: k, a: pa.baseAddress!, lda: k, b: pb.baseAddress!, ldb: k, transposeB: true,
                     c: pc.baseAddress!, ldc: n)
            }
            let bIn = SharedPointer(readOnly: pb.baseAddress!)
            decoded.withUnsafeMutableBufferPointer { pc in
                gemm(m: m, n: n, k: k, a: pa.baseAddress!, lda: k, decodingB: { j0, rows, p0, kb, dst in
                    pieces.withLock { $0.append("\(j0) \(rows) \(p0) \(kb)") }
                    for r in 0..<rows { (dst + r * kb).update(from: bIn.base + (j0 + r) * k + p0, count: kb) }
                }, c: pc.baseAddress!, ldc: n)
            }
        }
    }
    #expect(decoded == inMemory)
    // Every piece asked for once: rows within a panel of 32, depth within one block of 256.
    let asked = pieces.withLock { $0 }
    let expected = (0..<((n + 31) / 32)).flatMap { panel in
        stride(from: 0, to: k, by: 256).map { p0 in "\(panel * 32) \(min(32, n - panel * 32)) \(p0) \(min(256, k - p0))" }
    }
    #expect(asked.sorted() == expected.sorted())
}
