// The singular values and vectors of an upper bidiagonal matrix by implicit-shift QR: Golub & Kahan
// (1965), Golub & Reinsch (1970), with the shift and zero-shift choice of Demmel & Kahan, "Accurate
// singular values of bidiagonal matrices" (1990) as in LAPACK dbdsqr; Golub & Van Loan Alg. 8.6.1–2.
// The sweeps run on the two diagonals (O(n) each) and only record their rotations; the rotations are
// applied to the singular-vector matrices in batches, slab by slab of columns, so each slab stays in
// cache while thousands of rotations pass over it.
//
//   B: diagonal d (n), superdiagonal e (n − 1).  A = U·B·Vᵀ is kept true throughout by applying
//   every left rotation to the rows of Uᵀ and every right rotation to the rows of Vᵀ.
import Tensor

// MARK: - Rotations, recorded and applied in batches

/// Plane rotations (rows i, j) ← (c·rowᵢ + s·rowⱼ, c·rowⱼ − s·rowᵢ) of one matrix, in order.
package struct RotationBatch {
    private(set) var planes: [SIMD2<Int32>] = []
    private(set) var cosinesAndSines: [SIMD2<Double>] = []

    package init() {}

    package var count: Int { planes.count }

    package mutating func append(_ i: Int, _ j: Int, c: Double, s: Double) {
        planes.append(SIMD2(Int32(i), Int32(j)))
        cosinesAndSines.append(SIMD2(c, s))
    }

    /// The reference: each rotation over whole rows, one after another.
    package func applyReference(to matrix: inout Matrix) {
        let width = matrix.columns
        matrix.scalars.withUnsafeMutableBufferPointer { buffer in
            let p = buffer.baseAddress!
            for (plane, cs) in zip(planes, cosinesAndSines) {
                rotate(p + Int(plane.x) * width, p + Int(plane.y) * width, width, c: cs.x, s: cs.y)
            }
        }
    }

    /// Same result as `applyReference`, bit for bit (each entry sees the same operations in the
    /// same order): the columns are cut into slabs of 64 that are independent, so they run in
    /// parallel, and within a slab the rotations run as chains with rows carried in registers
    /// (`applyChain`, `applyChainPair`).
    package func apply(to matrix: inout Matrix) {
        if planes.isEmpty { return }
        let width = matrix.columns
        let slabs = (width + slabWidth - 1) / slabWidth
        let chains = self.chains()
        planes.withUnsafeBufferPointer { planes in
            cosinesAndSines.withUnsafeBufferPointer { cs in
                matrix.scalars.withUnsafeMutableBufferPointer { buffer in
                    let shared = SharedPointer(buffer.baseAddress!)
                    nonisolated(unsafe) let planes = planes, cs = cs
                    parallelFor(slabs) { index in
                        let start = index * slabWidth
                        let count = min(slabWidth, width - start)
                        let p = shared.base + start
                        guard count == slabWidth else {
                            for r in 0..<planes.count {
                                rotate(p + Int(planes[r].x) * width, p + Int(planes[r].y) * width, count,
                                       c: cs[r].x, s: cs[r].y)
                            }
                            return
                        }
                        var c = 0
                        while c < chains.count {
                            let chain = chains[c]
                            if chain.pairedWithNext {
                                applyChainPair(planes, cs, first: chain.first, next: chains[c + 1].first,
                                               count: chain.count, to: p, stride: width)
                                c += 2
                            } else {
                                applyChain(planes, cs, first: chain.first, count: chain.count, to: p, stride: width)
                                c += 1
                            }
                        }
                    }
                }
            }
        }
    }

    /// The batch cut into chains — maximal runs of rotations where each one's first row is the
    /// previous one's second, as a QR sweep's (k, k+1), (k+1, k+2), … — with two consecutive chains
    /// over the same adjacent rows (two sweeps over one block) marked for `applyChainPair`.
    private func chains() -> [Chain] {
        var chains: [Chain] = []
        var r = 0
        while r < planes.count {
            var end = r + 1
            while end < planes.count && planes[end].x == planes[end - 1].y { end += 1 }
            chains.append(Chain(first: r, count: end - r, pairedWithNext: false))
            r = end
        }
        func isSweep(_ c: Chain) -> Bool {
            (c.first..<(c.first + c.count)).allSatisfy { planes[$0].y == planes[$0].x + 1 }
        }
        var c = 0
        while c + 1 < chains.count {
            let a = chains[c], b = chains[c + 1]
            if a.count == b.count && planes[a.first].x == planes[b.first].x && isSweep(a) && isSweep(b) {
                chains[c] = Chain(first: a.first, count: a.count, pairedWithNext: true)
                c += 2
            } else {
                c += 1
            }
        }
        return chains
    }

    mutating func removeAll() {
        planes.removeAll(keepingCapacity: true)
        cosinesAndSines.removeAll(keepingCapacity: true)
    }
}

private struct Chain {
    let first: Int
    let count: Int
    let pairedWithNext: Bool
}

/// Columns per slab: 64 = eight SIMD8 registers per row, which pays for the per-rotation work of
/// fetching its plane and coefficients (narrower slabs measured slower).
private let slabWidth = 64

private typealias Lanes = SIMD8<Double>
/// 64 consecutive entries of one row, in eight registers.
private typealias SlabRow = (Lanes, Lanes, Lanes, Lanes, Lanes, Lanes, Lanes, Lanes)

@inline(__always)
private func loadRow(_ p: UnsafeMutablePointer<Double>, _ row: Int, _ stride: Int) -> SlabRow {
    let r = UnsafeRawPointer(p + row * stride)
    return (r.loadUnaligned(as: Lanes.self), r.loadUnaligned(fromByteOffset: 64, as: Lanes.self),
            r.loadUnaligned(fromByteOffset: 128, as: Lanes.self), r.loadUnaligned(fromByteOffset: 192, as: Lanes.self),
            r.loadUnaligned(fromByteOffset: 256, as: Lanes.self), r.loadUnaligned(fromByteOffset: 320, as: Lanes.self),
            r.loadUnaligned(fromByteOffset: 384, as: Lanes.self), r.loadUnaligned(fromByteOffset: 448, as: Lanes.self))
}

@inline(__always)
private func storeRow(_ x: SlabRow, _ p: UnsafeMutablePointer<Double>, _ row: Int, _ stride: Int) {
    let r = UnsafeMutableRawPointer(p + row * stride)
    r.storeBytes(of: x.0, as: Lanes.self); r.storeBytes(of: x.1, toByteOffset: 64, as: Lanes.self)
    r.storeBytes(of: x.2, toByteOffset: 128, as: Lanes.self); r.storeBytes(of: x.3, toByteOffset: 192, as: Lanes.self)
    r.storeBytes(of: x.4, toByteOffset: 256, as: Lanes.self); r.storeBytes(of: x.5, toByteOffset: 320, as: Lanes.self)
    r.storeBytes(of: x.6, toByteOffset: 384, as: Lanes.self); r.storeBytes(of: x.7, toByteOffset: 448, as: Lanes.self)
}

/// (x, y) ← (c·x + s·y, c·y − s·x), exactly as `rotate` computes it.
@inline(__always)
private func rotateRows(_ x: inout SlabRow, _ y: inout SlabRow, _ c: Double, _ s: Double) {
    let a = x, b = y
    x = ((c * a.0).addingProduct(s, b.0), (c * a.1).addingProduct(s, b.1), (c * a.2).addingProduct(s, b.2),
         (c * a.3).addingProduct(s, b.3), (c * a.4).addingProduct(s, b.4), (c * a.5).addingProduct(s, b.5),
         (c * a.6).addingProduct(s, b.6), (c * a.7).addingProduct(s, b.7))
    y = ((c * b.0).addingProduct(-s, a.0), (c * b.1).addingProduct(-s, a.1), (c * b.2).addingProduct(-s, a.2),
         (c * b.3).addingProduct(-s, a.3), (c * b.4).addingProduct(-s, a.4), (c * b.5).addingProduct(-s, a.5),
         (c * b.6).addingProduct(-s, a.6), (c * b.7).addingProduct(-s, a.7))
}

/// One chain over a 64-column slab, its carried row kept in registers: each rotation loads one
/// row and stores one, instead of two and two.
@inline(__always)
private func applyChain(_ planes: UnsafeBufferPointer<SIMD2<Int32>>, _ cs: UnsafeBufferPointer<SIMD2<Double>>,
                        first: Int, count: Int, to p: UnsafeMutablePointer<Double>, stride: Int) {
    var x = loadRow(p, Int(planes[first].x), stride)
    for r in first..<(first + count) {
        var y = loadRow(p, Int(planes[r].y), stride)
        rotateRows(&x, &y, cs[r].x, cs[r].y)
        storeRow(x, p, Int(planes[r].x), stride)
        x = y
    }
    storeRow(x, p, Int(planes[first + count - 1].y), stride)
}

/// Two sweeps a, b over the same rows lo…hi (rotations aₖ, bₖ of rows (k, k+1)) together, in the
/// order a_lo, then for each k: aₖ, bₖ₋₁, and finally b_{hi−1}. bₖ₋₁ needs only the a-rotations
/// that touch rows k−1 and k (up to aₖ) and commutes with the later ones, so this is the same
/// arithmetic as a then b — with three rows in registers, one load and one store per two rotations.
@inline(__always)
private func applyChainPair(_ planes: UnsafeBufferPointer<SIMD2<Int32>>, _ cs: UnsafeBufferPointer<SIMD2<Double>>,
                            first a: Int, next b: Int, count: Int, to p: UnsafeMutablePointer<Double>, stride: Int) {
    let lo = Int(planes[a].x)
    var x0 = loadRow(p, lo, stride), x1 = loadRow(p, lo + 1, stride)
    rotateRows(&x0, &x1, cs[a].x, cs[a].y)                                   // a_lo
    for t in 1..<max(count, 1) {
        let k = lo + t
        var x2 = loadRow(p, k + 1, stride)
        rotateRows(&x1, &x2, cs[a + t].x, cs[a + t].y)                       // aₖ on rows k, k+1
        rotateRows(&x0, &x1, cs[b + t - 1].x, cs[b + t - 1].y)               // bₖ₋₁ on rows k−1, k
        storeRow(x0, p, k - 1, stride)                                       // row k−1 is done
        x0 = x1
        x1 = x2
    }
    rotateRows(&x0, &x1, cs[b + count - 1].x, cs[b + count - 1].y)           // b_{hi−1}
    storeRow(x0, p, lo + count - 1, stride)
    storeRow(x1, p, lo + count, stride)
}

/// A matrix whose rows receive rotations, flushed when the batch is large enough.
struct RotatedRows {
    var matrix: Matrix?
    var batch = RotationBatch()
    /// One batch ≈ 64 Ki rotations (1.5 MB of coefficients) between passes over the matrix.
    let batchLimit = 1 << 16

    mutating func record(_ i: Int, _ j: Int, c: Double, s: Double) {
        guard matrix != nil else { return }
        batch.append(i, j, c: c, s: s)
        if batch.count >= batchLimit { flush() }
    }

    mutating func flush() {
        guard matrix != nil, batch.count > 0 else { return }
        batch.apply(to: &matrix!)
        batch.removeAll()
    }
}

// MARK: - Implicit-shift QR on the bidiagonal

/// Diagonalizes B = bidiag(d, e) in place. On return `d` holds the singular values, non-negative and
/// sorted in decreasing order, and the rows of `ut` (n×·) and `vt` (n×·), when given, have received
/// every rotation, sign change and permutation, so that if A = Uᵀᵀ·B·Vᵀ held before it holds after
/// with B diagonal. Throws `didNotConverge` after LAPACK's budget of 6·n² inner steps.
package func bidiagonalSVD(d: inout [Double], e: inout [Double], ut: inout Matrix?, vt: inout Matrix?) throws(LinalgError) {
    let n = d.count
    precondition(e.count == max(n - 1, 0), "a bidiagonal of \(n) needs \(n - 1) superdiagonal entries")
    var left = RotatedRows(matrix: ut)
    var right = RotatedRows(matrix: vt)
    ut = nil
    vt = nil

    let eps = Double.ulpOfOne
    var norm = 0.0
    for x in d { norm = max(norm, abs(x)) }
    for x in e { norm = max(norm, abs(x)) }
    // Entries below `tiny` are set to zero: a perturbation of at most ε·‖B‖, the same size as the
    // rounding already committed by the bidiagonalization (a normwise backward-stable SVD).
    let tiny = eps * norm
    func negligible(_ k: Int) -> Bool {          // is e[k] small enough to split the matrix there?
        abs(e[k]) <= tiny || abs(e[k]) <= eps * (abs(d[k]) + abs(d[k + 1]))
    }

    var hi = n - 1
    var steps = 0
    let maxSteps = 6 * n * n
    while hi > 0 {
        // Deflate at the bottom.
        if negligible(hi - 1) { e[hi - 1] = 0; hi -= 1; continue }
        // The unreduced block lo...hi: e[lo..<hi] all non-negligible.
        var lo = hi - 1
        while lo > 0 && !negligible(lo - 1) { lo -= 1 }
        if lo > 0 { e[lo - 1] = 0 }

        // A (numerically) zero diagonal entry splits the block after rotating its coupling away.
        if let k = (lo...hi).first(where: { abs(d[$0]) <= tiny }) {
            d[k] = 0
            if k < hi {
                // Row k holds only e[k]: chase it right with left rotations of rows (j, k), j > k.
                var f = e[k]
                e[k] = 0
                for j in (k + 1)...hi {
                    let (c, s, r) = givens(d[j], f)
                    d[j] = r
                    if j < hi { f = -s * e[j]; e[j] = c * e[j] }
                    left.record(j, k, c: c, s: s)
                }
            } else {
                // Column hi holds only e[hi − 1]: chase it up with right rotations of columns (j, hi).
                var f = e[hi - 1]
                e[hi - 1] = 0
                for j in stride(from: hi - 1, through: lo, by: -1) {
                    let (c, s, r) = givens(d[j], f)
                    d[j] = r
                    if j > lo { f = -s * e[j - 1]; e[j - 1] = c * e[j - 1] }
                    right.record(j, hi, c: c, s: s)
                }
            }
            continue
        }

        steps += hi - lo
        if steps > maxSteps { throw .didNotConverge(steps: steps) }

        // Shift: the smaller singular value of the trailing 2×2 block; zero when it is negligible
        // next to d[lo] (Demmel & Kahan: then the zero-shift sweep is as good and more accurate).
        var shift = smallerSingularValue(d[hi - 1], e[hi - 1], d[hi])
        if (shift / d[lo]) * (shift / d[lo]) < eps { shift = 0 }

        // One implicit QR sweep down the block (Golub–Kahan SVD step, GVL Alg. 8.6.1). The first
        // right rotation is that of BᵀB − shift²·I's first column, (d²−σ², d·e), scaled by 1/d.
        var f = (abs(d[lo]) - shift) * ((d[lo] >= 0 ? 1 : -1) + shift / d[lo])
        var g = e[lo]
        for k in lo..<hi {
            // Right rotation of columns k, k+1: zeroes g (the bulge at (k−1, k+1), or the shift).
            var (c, s, r) = givens(f, g)
            if k > lo { e[k - 1] = r }
            f = c * d[k] + s * e[k]
            e[k] = c * e[k] - s * d[k]
            g = s * d[k + 1]
            d[k + 1] = c * d[k + 1]
            right.record(k, k + 1, c: c, s: s)
            // Left rotation of rows k, k+1: zeroes the bulge g at (k+1, k).
            (c, s, r) = givens(f, g)
            d[k] = r
            f = c * e[k] + s * d[k + 1]
            d[k + 1] = c * d[k + 1] - s * e[k]
            if k < hi - 1 {
                g = s * e[k + 1]
                e[k + 1] = c * e[k + 1]
            }
            left.record(k, k + 1, c: c, s: s)
        }
        e[hi - 1] = f
    }
    left.flush()
    right.flush()

    // Non-negative: σᵢ = |dᵢ|, flipping row i of Vᵀ with the sign.
    for i in 0..<n where d[i] < 0 {
        d[i] = -d[i]
        if right.matrix != nil {
            let w = right.matrix!.columns
            for j in 0..<w { right.matrix!.scalars[i * w + j].negate() }
        }
    }
    // Decreasing order, permuting the rows of Uᵀ and Vᵀ alike (stable for ties).
    let order = (0..<n).sorted { d[$0] > d[$1] || (d[$0] == d[$1] && $0 < $1) }
    d = order.map { d[$0] }
    ut = left.matrix.map { permuteRows($0, order) }
    vt = right.matrix.map { permuteRows($0, order) }
}

private func permuteRows(_ m: Matrix, _ order: [Int]) -> Matrix {
    var out = Matrix(rows: m.rows, columns: m.columns)
    let w = m.columns
    for (i, source) in order.enumerated() {
        for j in 0..<w { out.scalars[i * w + j] = m.scalars[source * w + j] }
    }
    return out
}

/// The smaller singular value of [f g; 0 h]. From σ_max·σ_min = |f·h| and
/// σ_max = ½(√((|f|+|h|)² + g²) + √((|f|−|h|)² + g²)), a sum of non-negative terms (no
/// cancellation); everything is scaled by the largest entry first.
func smallerSingularValue(_ f: Double, _ g: Double, _ h: Double) -> Double {
    let scale = max(abs(f), abs(g), abs(h))
    if scale == 0 { return 0 }
    let fa = abs(f) / scale, ga = abs(g) / scale, ha = abs(h) / scale
    let larger = 0.5 * (((fa + ha) * (fa + ha) + ga * ga).squareRoot() + ((fa - ha) * (fa - ha) + ga * ga).squareRoot())
    return scale * (fa * ha / larger)
}
