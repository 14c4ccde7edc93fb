// Golub–Kahan bidiagonalization A = U_b·B·V_bᵀ of an m×n matrix (m ≥ n) by alternating Householder
// reflectors from the left (zeroing a column below the diagonal) and the right (zeroing a row right
// of the superdiagonal). Golub & Kahan (1965); Golub & Van Loan §5.4.8. The fast form fuses each
// rank-one update with the next matrix–vector product so the trailing matrix is swept twice per
// step instead of four times — the "BLAS 2.5" operations of Howell, Demmel, Fulton, Hammarling &
// Marmol, "Cache efficient bidiagonalization using BLAS 2.5 operators" (ACM TOMS 34(3), 2008).
//
//   m rows · n columns · step k: Hₖ = I − τₖ·vₖ·vₖᵀ (rows k..<m), Gₖ = I − πₖ·uₖ·uₖᵀ (columns k+1..<n)
//   B = H_{n−1}⋯H₀ · A · G₀⋯G_{n−2}: diagonal d (n), superdiagonal e (n − 1).
import Tensor

/// The bidiagonal form and the reflectors that produced it: vₖ below the diagonal in column k,
/// uₖ right of the superdiagonal in row k (unit leading entries implied).
package struct Bidiagonalization {
    package var factors: Matrix
    package var d: [Double]
    package var e: [Double]
    package var tauLeft: [Double]
    package var tauRight: [Double]

    /// U_b = H₀⋯H_{n−1}·[I_n; 0]  (m×n, orthonormal columns).
    package var leftVectors: Matrix {
        HouseholderQR(factors: factors, tau: tauLeft).thinQ
    }

    /// V_b = G₀⋯G_{n−2}  (n×n, orthogonal).
    package var rightVectors: Matrix {
        productOfRowReflectors(factors, tau: tauRight)
    }
}

/// The product H₀⋯H_{r−1} (n×n) of reflectors stored in rows, r = tau.count ≤ n − 1: row k holds
/// uₖ in columns k+1..<n (unit leading entry implied), and Hₖ = I − τₖ·uₖ·uₖᵀ acts on indices
/// k+1..<n. So the product is diag(1, Q′), where Q′ is the Q of a QR-like factorization whose k-th
/// reflector is uₖ stored as a column (reflectors past r are the identity). Serves the right
/// vectors of the bidiagonalization and the Q of the tridiagonalization.
func productOfRowReflectors(_ factors: Matrix, tau: [Double]) -> Matrix {
    let n = factors.columns
    precondition(tau.count <= max(n - 1, 0), "\(tau.count) row reflectors in a matrix of \(n) columns")
    var v = Matrix(rows: n, columns: n)
    v[0, 0] = 1
    if n == 1 { return v }
    var strip = Matrix(rows: n - 1, columns: n - 1)
    for k in 0..<tau.count {
        for i in (k + 1)..<n { strip[i - 1, k] = factors[k, i] }
    }
    let padded = tau + [Double](repeating: 0, count: n - 1 - tau.count)
    let q = HouseholderQR(factors: strip, tau: padded).thinQ
    for i in 1..<n { for j in 1..<n { v[i, j] = q[i - 1, j - 1] } }
    return v
}

// MARK: - Reference

/// The textbook loop: each reflector is formed and applied to the whole trailing matrix at once.
package func bidiagonalizeReference(_ a: Matrix) -> Bidiagonalization {
    var f = a
    let m = f.rows, n = f.columns
    precondition(m >= n, "bidiagonalize an m×n matrix with m ≥ n (transpose it first)")
    var d = [Double](repeating: 0, count: n), e = [Double](repeating: 0, count: max(n - 1, 0))
    var tauLeft = d, tauRight = e
    f.scalars.withUnsafeMutableBufferPointer { buffer in
        let p = buffer.baseAddress!
        for k in 0..<n {
            // Hₖ from column k: A[k..<m, k] → d[k]·e₁; then A[k..<m, k+1..<n] −= τ·v·(vᵀ·A).
            let (beta, tau) = makeReflector(p + k * n + k, count: m - k, stride: n)
            d[k] = beta
            tauLeft[k] = tau
            for c in (k + 1)..<max(n, k + 1) {
                var w = 0.0
                for i in k..<m { w += p[i * n + k] * p[i * n + c] }
                for i in k..<m { p[i * n + c] -= tau * w * p[i * n + k] }
            }
            if k == n - 1 { break }
            // Gₖ from row k: A[k, k+1..<n] → e[k]·e₁; then A[k+1..<m, k+1..<n] −= π·(A·u)·uᵀ.
            let (gamma, pi) = makeReflector(p + k * n + k + 1, count: n - k - 1, stride: 1)
            e[k] = gamma
            tauRight[k] = pi
            for i in (k + 1)..<m {
                var z = 0.0
                for c in (k + 1)..<n { z += p[i * n + c] * p[k * n + c] }
                for c in (k + 1)..<n { p[i * n + c] -= pi * z * p[k * n + c] }
            }
        }
    }
    return Bidiagonalization(factors: f, d: d, e: e, tauLeft: tauLeft, tauRight: tauRight)
}

// MARK: - Fast (two fused sweeps per step)

/// Same contract as `bidiagonalizeReference`, equal to it up to rounding. Step k, with vₖ, τₖ and
/// w = vₖᵀ·A[k..<m, k+1..<n] already known from the previous step's second sweep:
///
///   row k:   A[k, k+1..] −= τ·w;  Gₖ (uₖ, πₖ) from that row
///   sweep 1: for i > k:  rowᵢ −= τ·vᵢ·w;  zᵢ = π·(rowᵢ · uₖ)                 (left update ⊕ A·u)
///   column k+1 (cheap): A[i, k+1] −= zᵢ;  Hₖ₊₁ (vₖ₊₁, τₖ₊₁) from it
///   sweep 2: for i > k:  rowᵢ[k+2..] −= zᵢ·uₖ[1..];  w′ += vₖ₊₁,ᵢ·rowᵢ[k+2..]  (right update ⊕ vᵀ·A)
///
/// Each sweep streams the trailing matrix through memory once. While the trailing block is large
/// (`sweepParallelMinimum`), its rows are cut into a fixed number of pieces that the threads take in turn:
/// sweep 1 is independent per row, and sweep 2's w′ is summed per piece, then the pieces in order —
/// the same bits on any number of threads.
package func bidiagonalize(_ a: Matrix) -> Bidiagonalization {
    var f = a
    let m = f.rows, n = f.columns
    precondition(m >= n, "bidiagonalize an m×n matrix with m ≥ n (transpose it first)")
    var d = [Double](repeating: 0, count: n), e = [Double](repeating: 0, count: max(n - 1, 0))
    var tauLeft = d, tauRight = e
    var w = [Double](repeating: 0, count: n)
    var z = [Double](repeating: 0, count: m)
    var partial = [Double](repeating: 0, count: sweepRowPieces * n)       // w′ of each piece of rows
    f.scalars.withUnsafeMutableBufferPointer { buffer in
        let p = buffer.baseAddress!
        w.withUnsafeMutableBufferPointer { wb in
            z.withUnsafeMutableBufferPointer { zb in
                partial.withUnsafeMutableBufferPointer { pb in
                    let w = wb.baseAddress!, z = zb.baseAddress!
                    let shared = SharedPointer(p), zShared = SharedPointer(z), wShared = SharedPointer(w)
                    let partials = SharedPointer(pb.baseAddress!)
                    // H₀ and w = v₀ᵀ·A[0..<m, 1..<n].
                    var (beta, tau) = makeReflector(p, count: m, stride: n)
                    for i in 0..<m { axpy(p[i * n], p + i * n + 1, w, n - 1) }
                    for k in 0..<n {
                        d[k] = beta
                        tauLeft[k] = tau
                        if k == n - 1 { break }
                        let width = n - k - 1                         // trailing columns k+1..<n
                        let u = p + k * n + k + 1                     // row k → uₖ
                        // Row k gets its left update (v₀ = 1), then yields Gₖ.
                        for c in 0..<width { w[c] *= tau }
                        for c in 0..<width { u[c] -= w[c] }
                        let (gamma, pi) = makeReflector(u, count: width, stride: 1)
                        e[k] = gamma
                        tauRight[k] = pi
                        let rows = m - k - 1                          // trailing rows k+1..<m
                        let pieces = rows * width >= sweepParallelMinimum ? sweepRowPieces : 1
                        let perPiece = (rows + pieces - 1) / pieces
                        // Sweep 1: left update of rows k+1..<m and zᵢ = π·(rowᵢ · u).
                        let sweep1: @Sendable (Int) -> Void = { piece in
                            let p = shared.base, z = zShared.base, u = p + k * n + k + 1
                            for i in (k + 1 + piece * perPiece)..<min(m, k + 1 + (piece + 1) * perPiece) {
                                let row = p + i * n + k + 1
                                axpy(-p[i * n + k], wShared.base, row, width)     // −τ·vᵢ·w (τ folded into w)
                                z[i] = pi * dot(row, u, width)
                            }
                        }
                        if pieces > 1 { parallelFor(pieces, sweep1) } else { sweep1(0) }
                        // Column k+1 gets its right update (u₀ = 1), then yields Hₖ₊₁.
                        for i in (k + 1)..<m { p[i * n + k + 1] -= z[i] }
                        (beta, tau) = makeReflector(p + (k + 1) * n + k + 1, count: m - k - 1, stride: n)
                        // Sweep 2: right update of columns k+2..<n and w′ = vₖ₊₁ᵀ·A[k+1..<m, k+2..<n],
                        // summed per piece of rows into its own partial (one piece: straight into w).
                        let rest = width - 1
                        let sweep2: @Sendable (Int) -> Void = { piece in
                            let p = shared.base, z = zShared.base, u = p + k * n + k + 1
                            let sum = pieces > 1 ? partials.base + piece * n : wShared.base
                            for c in 0..<rest { sum[c] = 0 }
                            for i in (k + 1 + piece * perPiece)..<min(m, k + 1 + (piece + 1) * perPiece) {
                                let row = p + i * n + k + 2
                                axpy(-z[i], u + 1, row, rest)                     // uₖ[1...]
                                axpy(p[i * n + k + 1], row, sum, rest)            // vₖ₊₁,ᵢ·rowᵢ
                            }
                        }
                        if pieces > 1 {
                            parallelFor(pieces, sweep2)
                            for c in 0..<rest { w[c] = 0 }
                            for piece in 0..<pieces { axpy(1, partials.base + piece * n, w, rest) }
                        } else {
                            sweep2(0)
                        }
                    }
                }
            }
        }
    }
    return Bidiagonalization(factors: f, d: d, e: e, tauLeft: tauLeft, tauRight: tauRight)
}

/// Pieces of rows a sweep is cut into while the trailing block has at least `sweepParallelMinimum`
/// entries (below, one piece on the caller's thread: a hand-off costs ~1 µs, a sweep of 128² ~10 µs).
package let sweepRowPieces = 4
package let sweepParallelMinimum = 1 << 15
