// The dense singular value decomposition A = U·Σ·Vᵀ: Golub–Kahan–Reinsch (Householder
// bidiagonalization, then implicit-shift QR on the bidiagonal), preceded by a Householder QR when the
// matrix is tall (Chan, "An improved algorithm for computing the SVD", 1982 — LAPACK's dgesvd path
// for m ≥ 1.6·n). All of it in Double (see Matrix.swift); results rounded to Float.
//
//   m rows · n columns · k = min(m, n):  U (m×k), σ (k, decreasing, ≥ 0), Vᵀ (k×n)
//   Sign convention: in each column of U the entry of largest magnitude (the first, on a tie) is
//   positive — scikit-learn's svd_flip(u, v, u_based_decision=True). PCA uses Vᵀ's rows instead.
import Tensor

/// Which singular vectors to compute: the values alone are much cheaper, and PCA of a tall matrix
/// needs only Vᵀ.
package struct SingularVectors: OptionSet, Sendable {
    package let rawValue: Int
    package init(rawValue: Int) { self.rawValue = rawValue }
    package static let left = SingularVectors(rawValue: 1)
    package static let right = SingularVectors(rawValue: 2)
    package static let both: SingularVectors = [.left, .right]
    package static let none: SingularVectors = []
}

/// A tall matrix goes through QR first when m ≥ tallRatio·n: bidiagonalizing R (n×n) instead of A
/// saves more level-2 work than the GEMM-rich QR costs. LAPACK's crossover (dgesvd's MNTHR).
let tallRatio = 1.6

/// The SVD in Double, with `k = min(m, n)` singular triplets. `u` is m×k, `vt` is k×n; either is nil
/// when not requested. No sign convention applied yet.
package func singularValueDecomposition(_ a: Matrix, vectors: SingularVectors) throws(LinalgError)
    -> (u: Matrix?, s: [Double], vt: Matrix?) {
    if a.rows < a.columns {
        // Aᵀ = V·Σ·Uᵀ: decompose the transpose with the roles of the vectors swapped.
        var swapped: SingularVectors = []
        if vectors.contains(.left) { swapped.insert(.right) }
        if vectors.contains(.right) { swapped.insert(.left) }
        let t = try singularValueDecomposition(a.transposed(), vectors: swapped)
        return (t.vt?.transposed(), t.s, t.u?.transposed())
    }
    // m ≥ n from here.
    if Double(a.rows) >= tallRatio * Double(a.columns) {
        // A = Q·R, R = U_R·Σ·Vᵀ  ⇒  A = (Q·U_R)·Σ·Vᵀ.
        let factorization = householderQR(a)
        let inner = try squareishSVD(factorization.r, vectors: vectors)
        guard var uR = inner.u else { return (nil, inner.s, inner.vt) }
        // Q·[U_R; 0]: pad U_R (n×n) with zero rows to m×n and apply the reflectors.
        uR.scalars.append(contentsOf: repeatElement(0, count: (a.rows - uR.rows) * uR.columns))
        uR.rows = a.rows
        factorization.applyQ(to: &uR)
        return (uR, inner.s, inner.vt)
    }
    return try squareishSVD(a, vectors: vectors)
}

/// m ≥ n, not much taller than wide: bidiagonalize A = U_b·B·V_bᵀ, then diagonalize B with its
/// rotations applied to U_bᵀ and V_bᵀ, so U = U_b·U_B and Vᵀ = V_Bᵀ·V_bᵀ come out directly.
private func squareishSVD(_ a: Matrix, vectors: SingularVectors) throws(LinalgError)
    -> (u: Matrix?, s: [Double], vt: Matrix?) {
    let b = bidiagonalize(a)
    var d = b.d, e = b.e
    var ut: Matrix? = vectors.contains(.left) ? b.leftVectors.transposed() : nil     // n×m
    var vt: Matrix? = vectors.contains(.right) ? b.rightVectors.transposed() : nil   // n×n
    try bidiagonalSVD(d: &d, e: &e, ut: &ut, vt: &vt)
    return (ut?.transposed(), d, vt)
}

// MARK: - Sign convention

/// Flips each column of U (and the matching row of Vᵀ) so that its largest-magnitude entry, the
/// first on a tie, is positive (svd_flip with u_based_decision=True).
package func flipSignsByU(u: inout Matrix, vt: inout Matrix?) {
    let m = u.rows, k = u.columns
    for j in 0..<k {
        var best = 0
        for i in 1..<max(m, 1) where abs(u[i, j]) > abs(u[best, j]) { best = i }
        if u[best, j] < 0 {
            for i in 0..<m { u[i, j].negate() }
            if vt != nil { for c in 0..<vt!.columns { vt![j, c].negate() } }
        }
    }
}

/// Flips each row of Vᵀ (and the matching column of U) so that its largest-magnitude entry, the
/// first on a tie, is positive (svd_flip with u_based_decision=False — scikit-learn's PCA).
package func flipSignsByV(u: inout Matrix?, vt: inout Matrix) {
    let k = vt.rows, n = vt.columns
    for i in 0..<k {
        var best = 0
        for j in 1..<max(n, 1) where abs(vt[i, j]) > abs(vt[i, best]) { best = j }
        if vt[i, best] < 0 {
            for j in 0..<n { vt[i, j].negate() }
            if u != nil { for r in 0..<u!.rows { u![r, i].negate() } }
        }
    }
}

// MARK: - Public API

/// A (thin) singular value decomposition A ≈ U·diag(σ)·Vᵀ, or a truncated one from a randomized
/// method. Shapes: U (m×k), σ (k), Vᵀ (k×n).
public struct SVD: Sendable {
    /// Left singular vectors as columns (m×k), orthonormal.
    public let u: Tensor
    /// Singular values, non-negative and in decreasing order.
    public let singularValues: [Float]
    /// Right singular vectors as rows (k×n), orthonormal.
    public let vt: Tensor

    public var rank: Int { singularValues.count }
}

/// The thin SVD of an m×n matrix: k = min(m, n) triplets, in Double inside, rounded to Float. In
/// each column of U the largest-magnitude entry is positive.
public func svd(_ a: Tensor) throws(LinalgError) -> SVD {
    let result = try singularValueDecomposition(try Matrix(checking: a), vectors: .both)
    var u = result.u!, vt = result.vt
    flipSignsByU(u: &u, vt: &vt)
    return SVD(u: u.tensor, singularValues: result.s.map { Float($0) }, vt: vt!.tensor)
}

/// The singular values of an m×n matrix alone (min(m, n) of them, decreasing).
public func singularValues(of a: Tensor) throws(LinalgError) -> [Float] {
    try singularValueDecomposition(try Matrix(checking: a), vectors: .none).s.map { Float($0) }
}
