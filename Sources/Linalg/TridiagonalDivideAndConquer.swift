// The eigendecomposition T = Z·Λ·Zᵀ of a symmetric tridiagonal matrix by Cuppen's divide and
// conquer (J. J. M. Cuppen, "A divide and conquer method for the symmetric tridiagonal
// eigenproblem", Numer. Math. 36, 1981), with the deflation of Dongarra & Sorensen (1987) and the
// eigenvectors of Gu & Eisenstat ("A divide-and-conquer algorithm for the symmetric tridiagonal
// eigenproblem", SIAM J. Matrix Anal. Appl. 16, 1995) — the algorithm of LAPACK dstedc/dlaed0–4,
// written from the papers and Golub & Van Loan §8.4.4. Its twin is the implicit-shift QR
// (`tridiagonalEigen`), which solves the leaves and is the reference in the tests.
//
//   n · T (n×n): diagonal d (n), off-diagonal e (n − 1) · Z (n×n, orthogonal), column j ↔ values[j]
//
// Split T in the middle, m = n/2, β = e[m−1], ρ = |β|, u = (e_{m−1}; sign(β)·e₀):
//
//   T = diag(T₁ − ρ·e_{m−1}e_{m−1}ᵀ, T₂ − ρ·e₀e₀ᵀ) + ρ·u·uᵀ                      (T₁ m×m, T₂ (n−m)×(n−m))
//     = Q·(D + ρ·z·zᵀ)·Qᵀ,   Q = diag(Q₁, Q₂), D = diag(Λ₁, Λ₂), z = Qᵀu
//
// with the halves solved recursively (T₁′ = Q₁Λ₁Q₁ᵀ, T₂′ = Q₂Λ₂Q₂ᵀ): z is Q₁'s last row beside
// sign(β)·Q₂'s first. The rank-one update D + ρzzᵀ = W·Λ·Wᵀ (`mergeRankOne`) costs O(n²) except for
// the product Z = Q·W — one matrix product per merge, which is where the time goes, and which
// deflation shrinks. Against the QR iteration's ≈ 6n³ flops of rotations: ≈ (8/3)·n³ in products
// without deflation (halved again by Q's block structure), far less on a decaying spectrum.
import Tensor

/// Blocks of at most this size are solved by the QR iteration (LAPACK's SMLSIZ is 25).
let divideAndConquerLeafSize = 32

// MARK: - Entry point

/// Eigenvalues (unordered) and eigenvectors of T = tridiag(e, d, e): T = Z·diag(values)·Zᵀ with Z
/// orthogonal, column j the eigenvector of values[j]. Equal to `tridiagonalEigen` (QR, starting
/// from Vᵀ = I) up to rounding and to the choice of vectors within clusters.
/// T is first scaled by a power of two (exact) so that its largest entry is in [1, 2), and split
/// where an off-diagonal entry is negligible (|eₖ| ≤ ε·(|dₖ| + |dₖ₊₁|), the QR's test), each block
/// solved alone. Throws `didNotConverge` when a leaf's QR or a secular equation does not converge.
package func tridiagonalEigenDivideAndConquer(d: [Double], e: [Double]) throws(LinalgError)
    -> (values: [Double], vectors: Matrix) {
    let n = d.count
    precondition(e.count == max(n - 1, 0), "a tridiagonal of \(n) needs \(n - 1) off-diagonal entries")
    var norm = 0.0
    for x in d { norm = max(norm, abs(x)) }
    for x in e { norm = max(norm, abs(x)) }
    if norm == 0 { return (d, Matrix.identity(n)) }
    let scale = Double(sign: .plus, exponent: -norm.exponent, significand: 1)     // 2^−⌊log₂ norm⌋
    let ds = d.map { $0 * scale }, es = e.map { $0 * scale }

    var values = [Double](repeating: 0, count: n)
    var vectors = Matrix(rows: n, columns: n)
    var lo = 0
    for hi in 0..<n where hi == n - 1 || abs(es[hi]) <= Double.ulpOfOne * (abs(ds[hi]) + abs(ds[hi + 1])) {
        // The unreduced block lo...hi.
        let block = try divideAndConquer(Array(ds[lo...hi]), Array(es[lo..<hi]))
        let size = hi - lo + 1
        for j in 0..<size {
            values[lo + j] = block.values[j] / scale
            for i in 0..<size { vectors[lo + i, lo + j] = block.vectors[i, j] }
        }
        lo = hi + 1
    }
    return (values, vectors)
}

// MARK: - Divide

/// One unreduced block: the QR iteration at the leaves, else split, recurse, merge.
private func divideAndConquer(_ d: [Double], _ e: [Double]) throws(LinalgError) -> (values: [Double], vectors: Matrix) {
    let n = d.count
    if n <= divideAndConquerLeafSize {
        var values = d, off = e
        var vt: Matrix? = Matrix.identity(n)
        try tridiagonalEigen(d: &values, e: &off, vt: &vt)
        return (values, vt!.transposed())
    }
    let m = n / 2
    let beta = e[m - 1], rho = abs(beta), sign: Double = beta < 0 ? -1 : 1
    var d1 = Array(d[0..<m]), d2 = Array(d[m...])
    d1[m - 1] -= rho                                           // T₁ − ρ·e_{m−1}e_{m−1}ᵀ
    d2[0] -= rho                                               // T₂ − ρ·e₀e₀ᵀ
    let top = try divideAndConquer(d1, Array(e[0..<(m - 1)]))
    let bottom = try divideAndConquer(d2, Array(e[m...]))

    // Q = diag(Q₁, Q₂) (n×n), D = Λ₁ ⊕ Λ₂, z = Qᵀu = (row m−1 of Q₁; sign·row 0 of Q₂).
    var q = Matrix(rows: n, columns: n)
    for i in 0..<m { for j in 0..<m { q[i, j] = top.vectors[i, j] } }
    for i in 0..<(n - m) { for j in 0..<(n - m) { q[m + i, m + j] = bottom.vectors[i, j] } }
    var z = [Double](repeating: 0, count: n)
    for j in 0..<m { z[j] = top.vectors[m - 1, j] }
    for j in 0..<(n - m) { z[m + j] = sign * bottom.vectors[0, j] }
    return try mergeRankOne(q: &q, split: m, d: top.values + bottom.values, z: z, rho: rho)
}

// MARK: - Conquer: the rank-one update

/// Eigenpairs of Q·(D + ρ·z·zᵀ)·Qᵀ, ρ ≥ 0, Q (n×n) orthogonal with rows 0..<split of columns
/// split..<n zero and rows split..<n of columns 0..<split zero (diag(Q₁, Q₂)). Returns the values
/// and Q·W, W the eigenvectors of D + ρzzᵀ. Three steps:
///
/// 1. Deflation (Dongarra & Sorensen). With ‖z‖ = 1 (ρ absorbs the norm) and D sorted ascending,
///    tol = 8ε·max(max|dᵢ|, ρ) (‖D + ρzzᵀ‖ ≤ max|dᵢ| + ρ):
///    - ρ·|zᵢ| ≤ tol: (dᵢ, qᵢ) is already an eigenpair to within tol; zᵢ is dropped.
///    - dᵢ, dⱼ close: the rotation G = [c s; −s c], c = zⱼ/τ, s = −zᵢ/τ, τ = √(zᵢ² + zⱼ²), maps
///      (zᵢ, zⱼ) to (0, τ) and leaves the off-diagonal entry c·s·(dⱼ − dᵢ); when that is ≤ tol it is
///      dropped, and (c²dᵢ + s²dⱼ, c·qᵢ + s·qⱼ) deflates. Q's columns i, j are rotated alike.
/// 2. The secular equation of the k survivors (dᵢ strictly increasing, zᵢ ≠ 0):
///    f(λ) = 1/ρ + Σⱼ zⱼ²/(dⱼ − λ) = 0 has one root in each (dᵢ, dᵢ₊₁) and the last in
///    (d_{k−1}, d_{k−1} + ρ) (`secularRoot`). Each root is kept as (origin o, τ) with λ = d_o + τ, so
///    that dⱼ − λ = (dⱼ − d_o) − τ is accurate even for λ next to a pole.
/// 3. Vectors (Gu & Eisenstat). The roots are exact eigenvalues of D + ρ·ẑẑᵀ for the ẑ with
///      ρ·ẑᵢ² = ∏ⱼ (λⱼ − dᵢ) / ∏_{j≠i} (dⱼ − dᵢ)      (from det(D + ρẑẑᵀ − λI) = ∏(λⱼ − λ) at λ = dᵢ)
///    and that matrix's eigenvectors, wⱼ ∝ (D − λⱼI)⁻¹·ẑ, are orthogonal to working precision
///    whatever the roots' errors: W[i, j] = ẑᵢ/(dᵢ − λⱼ), each column normalised (ρ drops out).
private func mergeRankOne(q: inout Matrix, split m: Int, d: [Double], z zIn: [Double], rho rhoIn: Double)
    throws(LinalgError) -> (values: [Double], vectors: Matrix) {
    let n = d.count
    // Sorted ascending (stable); position p ↔ column order[p] of Q.
    let order = (0..<n).sorted { d[$0] < d[$1] || (d[$0] == d[$1] && $0 < $1) }
    var ds = order.map { d[$0] }, zs = order.map { zIn[$0] }
    var zNorm = 0.0
    for x in zs { zNorm += x * x }
    zNorm = zNorm.squareRoot()
    let rho = rhoIn * zNorm * zNorm
    if zNorm > 0 { for p in 0..<n { zs[p] /= zNorm } }
    // Which rows each column of Q may be non-zero in: 1 = rows 0..<m, 3 = rows m..<n, 2 = both.
    var rowsOf = order.map { $0 < m ? 1 : 3 }

    // 1. Deflation, in ascending order of d.
    var maxD = 0.0
    for x in ds { maxD = max(maxD, abs(x)) }
    let tol = 8 * Double.ulpOfOne * max(maxD, rho)
    var kept: [Int] = [], deflated: [Int] = []
    var previous: Int? = nil                 // the last position not yet decided
    for j in 0..<n {
        if rho * abs(zs[j]) <= tol { deflated.append(j); continue }
        if let p = previous {
            let tau = hypot(zs[p], zs[j])
            let c = zs[j] / tau, s = -zs[p] / tau
            if abs((ds[j] - ds[p]) * c * s) <= tol {
                zs[j] = tau
                zs[p] = 0
                rotateColumns(&q, order[p], order[j], c: c, s: s)
                let dp = ds[p] * c * c + ds[j] * s * s
                ds[j] = ds[p] * s * s + ds[j] * c * c          // between dₚ and dⱼ: order is kept
                ds[p] = dp
                if rowsOf[p] != rowsOf[j] { rowsOf[p] = 2; rowsOf[j] = 2 }
                deflated.append(p)
                previous = j
                continue
            }
            kept.append(p)
        }
        previous = j
    }
    if let p = previous { kept.append(p) }

    let k = kept.count
    var values = [Double](repeating: 0, count: n)
    var vectors = Matrix(rows: n, columns: n)
    // Deflated pairs: (dₚ, column of Q) as they are, after the kept roots.
    for (slot, p) in deflated.enumerated() {
        values[k + slot] = ds[p]
        for i in 0..<n { vectors[i, k + slot] = q[i, order[p]] }
    }
    if k == 0 { return (values, vectors) }

    // 2. The secular equation: root j as (origin, τ); delta[j·k + i] = dᵢ − λⱼ.
    let dk = kept.map { ds[$0] }, zk = kept.map { zs[$0] }
    var delta = [Double](repeating: 0, count: k * k)
    var origins = [Int](repeating: 0, count: k), taus = [Double](repeating: 0, count: k)
    delta.withUnsafeMutableBufferPointer { deltaBuffer in
        origins.withUnsafeMutableBufferPointer { ob in
            taus.withUnsafeMutableBufferPointer { tb in
                let sharedDelta = SharedPointer(deltaBuffer.baseAddress!)
                let sharedOrigins = SharedPointer(ob.baseAddress!), sharedTaus = SharedPointer(tb.baseAddress!)
                let solve: @Sendable (Int) -> Void = { j in
                    // origin −1 marks a root that did not converge.
                    guard let root = secularRoot(j, d: dk, z: zk, rho: rho) else { sharedOrigins.base[j] = -1; return }
                    sharedOrigins.base[j] = root.origin
                    sharedTaus.base[j] = root.tau
                    let row = sharedDelta.base + j * k
                    for i in 0..<k { row[i] = (dk[i] - dk[root.origin]) - root.tau }
                }
                if k >= 64 { parallelFor(k, solve) } else { for j in 0..<k { solve(j) } }
            }
        }
    }
    if origins.contains(-1) { throw .didNotConverge(steps: k) }
    for j in 0..<k { values[j] = dk[origins[j]] + taus[j] }

    // 3. ẑ (Gu–Eisenstat), then W[i, j] = ẑᵢ/(dᵢ − λⱼ) with unit columns.
    var zHat = [Double](repeating: 0, count: k)
    for i in 0..<k {
        var product = -delta[i * k + i]                        // λᵢ − dᵢ > 0
        for j in 0..<k where j != i { product *= delta[j * k + i] / (dk[i] - dk[j]) }
        zHat[i] = (zk[i] < 0 ? -1 : 1) * max(product, 0).squareRoot()
    }
    var w = Matrix(rows: k, columns: k)
    for j in 0..<k {
        var sum = 0.0
        for i in 0..<k {
            let x = zHat[i] / delta[j * k + i]
            w[i, j] = x
            sum += x * x
        }
        let inverse = 1 / sum.squareRoot()
        for i in 0..<k { w[i, j] *= inverse }
    }

    // Z = Q_kept·W, by the rows where Q's kept columns can be non-zero: rows 0..<m meet only the
    // columns of kind 1 and 2, rows m..<n only those of kind 2 and 3.
    for (rows, kinds) in [(0..<m, [1, 2]), (m..<n, [2, 3])] {
        let picked = (0..<k).filter { kinds.contains(rowsOf[kept[$0]]) }
        if picked.isEmpty || rows.isEmpty { continue }
        var qPart = Matrix(rows: rows.count, columns: picked.count)
        var wPart = Matrix(rows: picked.count, columns: k)
        for (c, i) in picked.enumerated() {
            let column = order[kept[i]]
            for r in rows { qPart[r - rows.lowerBound, c] = q[r, column] }
            for j in 0..<k { wPart[c, j] = w[i, j] }
        }
        qPart.scalars.withUnsafeBufferPointer { pq in
            wPart.scalars.withUnsafeBufferPointer { pw in
                vectors.scalars.withUnsafeMutableBufferPointer { pv in
                    // (rows × picked)·(picked × k) → columns 0..<k of those rows of Z.
                    gemm(transposeA: false, transposeB: false, m: rows.count, n: k, k: picked.count, alpha: 1,
                         a: pq.baseAddress!, lda: picked.count, b: pw.baseAddress!, ldb: k,
                         beta: 0, c: pv.baseAddress! + rows.lowerBound * n, ldc: n)
                }
            }
        }
    }
    return (values, vectors)
}

/// Columns i, j of Q ← (c·qᵢ + s·qⱼ, c·qⱼ − s·qᵢ): Q ← Q·Gᵀ for the deflating rotation G.
private func rotateColumns(_ q: inout Matrix, _ i: Int, _ j: Int, c: Double, s: Double) {
    let n = q.columns
    for r in 0..<q.rows {
        let x = q.scalars[r * n + i], y = q.scalars[r * n + j]
        q.scalars[r * n + i] = c * x + s * y
        q.scalars[r * n + j] = c * y - s * x
    }
}

private func hypot(_ x: Double, _ y: Double) -> Double {
    let scale = max(abs(x), abs(y))
    if scale == 0 { return 0 }
    let xs = x / scale, ys = y / scale
    return scale * (xs * xs + ys * ys).squareRoot()
}

// MARK: - The secular equation

/// Root j of f(λ) = 1/ρ + Σᵢ zᵢ²/(dᵢ − λ) (d strictly increasing, all zᵢ ≠ 0, ‖z‖ = 1, ρ > 0), as
/// λ = d_o + τ with o the nearer pole: o = j when f((dⱼ + dⱼ₊₁)/2) ≥ 0 (the root is left of the
/// middle), else j + 1; the last root has only d_{k−1} to its left and lies below d_{k−1} + ρ.
///
/// Iteration (the "middle way" of R.-C. Li, as dlaed4): at τ, with Δᵢ = (dᵢ − d_o) − τ, split the sum
/// into ψ (poles i ≤ j, left of the root) and φ (poles i > j) and replace each by the one-pole
/// function that matches its value and slope at τ, ψ ≈ a + ψ′Δⱼ²/(Δⱼ − η), φ ≈ b + φ′Δⱼ₊₁²/(Δⱼ₊₁ − η).
/// The model's root in η solves  C·η² − A·η + B = 0  with
///   A = (Δⱼ + Δⱼ₊₁)·f − Δⱼ·Δⱼ₊₁·(ψ′ + φ′),   B = Δⱼ·Δⱼ₊₁·f,   C = f − Δⱼ·ψ′ − Δⱼ₊₁·φ′
/// (for the last root, one pole: Δⱼ − η = −ψ′Δⱼ²/(f − Δⱼψ′)). Steps leaving the bracket, kept by the
/// sign of f (increasing between its poles), are replaced by bisection. Stops when |f| is within its
/// own rounding, ε·(8·(1/ρ + φ − ψ) + |τ|·(ψ′ + φ′)), or the bracket has no interior point left.
/// nil after 200 steps (not seen: the model converges quadratically, bisection linearly).
private func secularRoot(_ j: Int, d: [Double], z: [Double], rho: Double) -> (origin: Int, tau: Double)? {
    let k = d.count
    let last = j == k - 1
    let inverseRho = 1 / rho
    // f at τ relative to the origin, with ψ, φ and their slopes.
    func evaluate(_ origin: Int, _ tau: Double) -> (f: Double, psi: Double, dpsi: Double, phi: Double, dphi: Double) {
        var psi = 0.0, dpsi = 0.0, phi = 0.0, dphi = 0.0
        let base = d[origin]
        for i in 0...j {
            let t = z[i] / ((d[i] - base) - tau)
            psi += z[i] * t
            dpsi += t * t
        }
        for i in (j + 1)..<max(k, j + 1) {
            let t = z[i] / ((d[i] - base) - tau)
            phi += z[i] * t
            dphi += t * t
        }
        return (inverseRho + psi + phi, psi, dpsi, phi, dphi)
    }
    var origin = j
    var lo: Double, hi: Double
    if last {
        lo = 0
        hi = rho
    } else {
        let gap = d[j + 1] - d[j]
        if evaluate(j, 0.5 * gap).f >= 0 {
            lo = 0; hi = 0.5 * gap
        } else {
            origin = j + 1
            lo = -0.5 * gap; hi = 0
            // The middle itself may be the root's bracket end: f(mid) < 0 puts the root right of it.
        }
    }
    var tau = 0.5 * (lo + hi)
    for _ in 0..<200 {
        let (f, psi, dpsi, phi, dphi) = evaluate(origin, tau)
        let roundingOfF = Double.ulpOfOne * (8 * (inverseRho + phi - psi) + abs(tau) * (dpsi + dphi))
        if abs(f) <= roundingOfF { return (origin, tau) }
        if f < 0 { lo = tau } else { hi = tau }
        let middle = 0.5 * (lo + hi)
        if !(middle > lo && middle < hi) { return (origin, tau) }
        let deltaJ = (d[j] - d[origin]) - tau
        var eta: Double
        if last {
            eta = deltaJ + dpsi * deltaJ * deltaJ / (f - deltaJ * dpsi)
        } else {
            let deltaNext = (d[j + 1] - d[origin]) - tau
            let a = (deltaJ + deltaNext) * f - deltaJ * deltaNext * (dpsi + dphi)
            let b = deltaJ * deltaNext * f
            let c = f - deltaJ * dpsi - deltaNext * dphi
            let root = abs(a * a - 4 * b * c).squareRoot()
            eta = a <= 0 ? (a - root) / (2 * c) : 2 * b / (a + root)
        }
        let next = tau + eta
        tau = next > lo && next < hi ? next : middle
    }
    return nil
}
