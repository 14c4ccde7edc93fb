// Randomized SVD. Fixed rank: Halko, Martinsson & Tropp, "Finding structure with randomness"
// (SIAM Review 53(2), 2011), Algorithm 4.4 (randomized subspace iteration: power iterations with a
// re-orthonormalization after every product, so rounding cannot collapse the basis onto the top
// singular vector) followed by Algorithm 5.1 (direct SVD of the small projected matrix). Adaptive
// rank to an energy target: Yu, Gu & Li, "Efficient randomized algorithms for the fixed-precision
// low-rank matrix approximation" (SIAM J. Matrix Anal. Appl. 39(3), 2018), Algorithm randQB_EI.
//
//   A (m×n) · l = rank + oversampling sample vectors · q power iterations
//   Products with A dominate (2·m·n·l flops each, 2q + 2 of them) and run in Float; the QRs of m×l
//   and the SVD of the l×n matrix B are O((m + n)·l²) and run in Double like the rest of the module.
import Tensor

// MARK: - Products with A, in Float

/// A (m×n) kept in Float for the products that dominate the randomized methods: they go through
/// module Tensor's GEMM (Float: twice the SIMD width and half the memory traffic of Double), and
/// their results are widened to Double for the orthonormalizations and the small SVD. Rounding a
/// product to Float perturbs it by ≈ 6e-8 relative — far below the methods' own approximation
/// error (≥ 1e-4 relative in the tests).
struct FloatOperator {
    let a: Tensor
    var rows: Int { a.shape[0] }
    var columns: Int { a.shape[1] }

    /// A·X: (m×n)·(n×c) → m×c.
    func applied(to x: Matrix) -> Matrix {
        let c = x.columns
        var out = [Float](repeating: 0, count: rows * c)
        if c == 0 { return Matrix(rows: rows, columns: 0) }
        let xf = x.scalars.map { Float($0) }
        a.scalars.withUnsafeBufferPointer { pa in
            xf.withUnsafeBufferPointer { px in
                out.withUnsafeMutableBufferPointer { po in
                    gemm(m: rows, n: c, k: columns, a: pa.baseAddress!, lda: columns, b: px.baseAddress!, ldb: c,
                         transposeB: false, c: po.baseAddress!, ldc: c)
                }
            }
        }
        return Matrix(rows: rows, columns: c, scalars: out.map { Double($0) })
    }

    /// Xᵀ·A: (c×m)·(m×n) → c×n, with A read in its own row-major order (Aᵀ·X is its transpose).
    func projected(by x: Matrix) -> Matrix {
        let c = x.columns
        var out = [Float](repeating: 0, count: c * columns)
        if c == 0 { return Matrix(rows: 0, columns: columns) }
        let xt = x.transposed().scalars.map { Float($0) }                      // Xᵀ: c×m
        a.scalars.withUnsafeBufferPointer { pa in
            xt.withUnsafeBufferPointer { px in
                out.withUnsafeMutableBufferPointer { po in
                    gemm(m: c, n: columns, k: rows, a: px.baseAddress!, lda: rows, b: pa.baseAddress!, ldb: columns,
                         transposeB: false, c: po.baseAddress!, ldc: columns)
                }
            }
        }
        return Matrix(rows: c, columns: columns, scalars: out.map { Double($0) })
    }

    /// ‖A‖²_F, summed in Double.
    var squaredFrobeniusNorm: Double {
        var sum = 0.0
        for x in a.scalars { sum += Double(x) * Double(x) }
        return sum
    }
}

// MARK: - Range finder (HMT Alg. 4.4)

/// An m×l matrix Q with orthonormal columns whose range approximates that of A's top l singular
/// vectors: Q = orth(A·Ω), then q times Q̃ = orth(Aᵀ·Q), Q = orth(A·Q̃). With σ the singular values,
/// the error in the direction of σⱼ shrinks like (σ_{l+1}/σⱼ)^(2q+1) (HMT §4.5).
func randomizedRangeFinder(_ a: FloatOperator, samples l: Int, powerIterations q: Int,
                           using rng: inout some RandomNumberGenerator) -> Matrix {
    let omega = gaussianMatrix(rows: a.columns, columns: l, using: &rng)               // Ω: n×l
    var basis = orthonormalColumns(a.applied(to: omega))                                // orth(A·Ω): m×l
    for _ in 0..<q {
        let dual = orthonormalColumns(a.projected(by: basis).transposed())              // orth(Aᵀ·Q): n×l
        basis = orthonormalColumns(a.applied(to: dual))                                  // orth(A·Q̃): m×l
    }
    return basis
}

/// The thin Q of a Householder QR: an orthonormal basis of the columns' span (when they are
/// independent; otherwise completed with arbitrary orthonormal directions).
func orthonormalColumns(_ y: Matrix) -> Matrix {
    householderQR(y).thinQ
}

// MARK: - Fixed rank (HMT Alg. 4.4 + 5.1)

/// The top `rank` singular triplets of A, approximately: Q from the range finder with
/// l = rank + oversampling samples, then B = Qᵀ·A (l×n) = Ũ·Σ·Vᵀ exactly, U = Q·Ũ, truncated to
/// `rank`. Unsigned; callers apply a sign convention.
func randomizedSVD(_ a: FloatOperator, rank: Int, oversampling: Int, powerIterations: Int,
                   using rng: inout some RandomNumberGenerator) throws(LinalgError)
    -> (u: Matrix, s: [Double], vt: Matrix) {
    let l = min(rank + oversampling, min(a.rows, a.columns))
    let q = randomizedRangeFinder(a, samples: l, powerIterations: powerIterations, using: &rng)
    let b = a.projected(by: q)                                                // B = Qᵀ·A: l×n
    let small = try singularValueDecomposition(b, vectors: .both)            // B = Ũ·Σ·Vᵀ
    let u = multiply(q, small.u!)                                             // U = Q·Ũ: m×l
    return (u.columns(0..<rank), Array(small.s[0..<rank]), small.vt!.topRows(rank))
}

// MARK: - Adaptive rank to an energy target (randQB_EI)

/// Grows Q (m×l) and B = Qᵀ·A (l×n) by blocks of `blockSize` until the energy left out,
/// E = ‖A‖²_F − ‖B‖²_F = ‖A − Q·B‖²_F, is at most (1 − t)·‖A‖²_F; then returns the SVD of Q·B cut to
/// the smallest rank whose Σσᵢ² reaches t·‖A‖²_F — or nil as soon as the basis would grow past
/// `rankLimit` (the caller then prefers the dense SVD). Each block (randQB_EI with power iterations):
///
///   Qᵢ = orth(A·Ωᵢ − Q·(B·Ωᵢ))                      sample what Q·B does not yet explain
///   q times: Q̂ᵢ = orth(Aᵀ·Qᵢ − Bᵀ·(Qᵀ·Qᵢ)),  Qᵢ = orth(A·Q̂ᵢ − Q·(B·Q̂ᵢ))
///   Qᵢ = orth(Qᵢ − Q·(Qᵀ·Qᵢ))                       re-orthogonalize against the basis so far
///   Bᵢ = Qᵢᵀ·A;  Q = [Q Qᵢ];  B = [B; Bᵢ];  E −= ‖Bᵢ‖²_F
///
/// Because Q·Qᵀ·A is a projection of A, σᵢ(Q·B) ≤ σᵢ(A) for every i: the rank returned is never
/// below the exact SVD's rank for the same target, only (slightly) above it — up to the Float
/// rounding of B (≈ 6e-8·σ₁), which could matter only for a target within that of a boundary.
func adaptiveRandomizedSVD(_ a: FloatOperator, energy t: Double, blockSize: Int, powerIterations: Int,
                           rankLimit: Int? = nil,
                           using rng: inout some RandomNumberGenerator) throws(LinalgError)
    -> (u: Matrix, s: [Double], vt: Matrix)? {
    let m = a.rows, n = a.columns, limit = min(m, n)
    let total = a.squaredFrobeniusNorm
    let target = (1 - t) * total
    var q = Matrix(rows: m, columns: 0)
    var b = Matrix(rows: 0, columns: n)
    var remaining = total
    while q.columns < limit && !(remaining <= target && q.columns > 0) {
        let width = min(blockSize, limit - q.columns)
        if let rankLimit, q.columns + width > rankLimit { return nil }
        let omega = gaussianMatrix(rows: n, columns: width, using: &rng)                 // Ωᵢ: n×b
        var qi = orthonormalColumns(subtract(a.applied(to: omega), multiply(q, multiply(b, omega))))
        for _ in 0..<powerIterations {
            let dual = orthonormalColumns(subtract(a.projected(by: qi).transposed(),
                                                   multiply(b, multiply(q, qi, transposeA: true), transposeA: true)))
            qi = orthonormalColumns(subtract(a.applied(to: dual), multiply(q, multiply(b, dual))))
        }
        qi = orthonormalColumns(subtract(qi, multiply(q, multiply(q, qi, transposeA: true))))
        let bi = a.projected(by: qi)                                                     // Bᵢ = Qᵢᵀ·A: b×n
        q = concatenateColumns(q, qi)
        b.scalars.append(contentsOf: bi.scalars)
        b.rows += bi.rows
        remaining -= bi.squaredFrobeniusNorm
    }
    let small = try singularValueDecomposition(b, vectors: .both)
    // Smallest r with σ₁² + … + σᵣ² ≥ t·‖A‖²_F (all of them if rounding keeps the sum just short).
    var captured = 0.0, rank = small.s.count
    for (i, sigma) in small.s.enumerated() {
        captured += sigma * sigma
        if captured >= t * total { rank = i + 1; break }
    }
    let u = multiply(q, small.u!)
    return (u.columns(0..<rank), Array(small.s[0..<rank]), small.vt!.topRows(rank))
}

private func subtract(_ x: Matrix, _ y: Matrix) -> Matrix {
    var out = x
    for i in out.scalars.indices { out.scalars[i] -= y.scalars[i] }
    return out
}

private func concatenateColumns(_ x: Matrix, _ y: Matrix) -> Matrix {
    var out = Matrix(rows: x.rows, columns: x.columns + y.columns)
    for i in 0..<x.rows {
        for j in 0..<x.columns { out[i, j] = x[i, j] }
        for j in 0..<y.columns { out[i, x.columns + j] = y[i, j] }
    }
    return out
}

// MARK: - Public API

/// The top `rank` singular triplets of `a` by randomized subspace iteration (HMT 2011, Alg. 4.4 and
/// 5.1): `rank + oversampling` Gaussian samples (capped at min(m, n)), `powerIterations`
/// re-orthonormalized power iterations. Same sign convention as `svd(_:)`. Deterministic for a
/// given generator state.
public func randomizedSVD(of a: Tensor, rank: Int, oversampling: Int = 10, powerIterations: Int = 4,
                          using rng: inout some RandomNumberGenerator) throws(LinalgError) -> SVD {
    try checkMatrix(a)
    let matrix = FloatOperator(a: a)
    let limit = min(matrix.rows, matrix.columns)
    guard (1...limit).contains(rank) else { throw .invalidRank(requested: rank, maximum: limit) }
    guard oversampling >= 0 else { throw .invalidParameter(name: "oversampling", value: oversampling, expected: "≥ 0") }
    guard powerIterations >= 0 else {
        throw .invalidParameter(name: "powerIterations", value: powerIterations, expected: "≥ 0")
    }
    let result = try randomizedSVD(matrix, rank: rank, oversampling: oversampling,
                                   powerIterations: powerIterations, using: &rng)
    return signedSVD(result)
}

/// The SVD of a randomized approximation Q·B of `a` grown until it holds a fraction `energy` of
/// ‖a‖²_F (Yu, Gu & Li 2018, randQB_EI), cut to the smallest rank whose Σσᵢ² reaches that fraction.
/// The rank is never below the exact SVD's for the same fraction. `energy` in (0, 1].
public func randomizedSVD(of a: Tensor, energy: Double, blockSize: Int = 16, powerIterations: Int = 2,
                          using rng: inout some RandomNumberGenerator) throws(LinalgError) -> SVD {
    try checkMatrix(a)
    let matrix = FloatOperator(a: a)
    guard energy > 0 && energy <= 1 else { throw .invalidThreshold(energy) }
    guard blockSize >= 1 else { throw .invalidParameter(name: "blockSize", value: blockSize, expected: "≥ 1") }
    guard powerIterations >= 0 else {
        throw .invalidParameter(name: "powerIterations", value: powerIterations, expected: "≥ 0")
    }
    let result = try adaptiveRandomizedSVD(matrix, energy: energy, blockSize: blockSize,
                                           powerIterations: powerIterations, using: &rng)
    return signedSVD(result!)
}

private func signedSVD(_ result: (u: Matrix, s: [Double], vt: Matrix)) -> SVD {
    var u = result.u
    var vt: Matrix? = result.vt
    flipSignsByU(u: &u, vt: &vt)
    return SVD(u: u.tensor, singularValues: result.s.map { Float($0) }, vt: vt!.tensor)
}
