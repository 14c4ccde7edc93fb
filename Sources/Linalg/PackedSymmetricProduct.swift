// y = S·x for a symmetric S stored as its lower triangle packed by rows (LAPACK's "packed" layout
// for row-major lower storage): the memory-bound half of the tridiagonalization (`reducePanel`'s
// A₂₂·vₖ, one per reflector). A plain scalar twin defines it; the fast form reads each stored entry
// once, four rows at a time.
//
//   P packed: row i holds its columns 0...i at offset i(i+1)/2 · S = P[first..<first+m, first..<first+m]
//   y (m) = S·x (m),   yᵢ = Σ_{j≤i} sᵢⱼ·xⱼ + Σ_{j>i} sⱼᵢ·xⱼ   (the upper triangle by symmetry)

// MARK: - Reference

/// y = S·x entry by entry from the definition: yᵢ = Σⱼ s(max(i, j), min(i, j))·xⱼ.
package func packedSymmetricProductReference(_ packed: UnsafePointer<Double>, first: Int, count m: Int,
                                             x: UnsafePointer<Double>, into y: UnsafeMutablePointer<Double>) {
    func entry(_ i: Int, _ j: Int) -> Double {
        let (row, column) = (first + max(i, j), first + min(i, j))
        return packed[row * (row + 1) / 2 + column]
    }
    for i in 0..<m {
        var sum = 0.0
        for j in 0..<m { sum += entry(i, j) * x[j] }
        y[i] = sum
    }
}

// MARK: - Fast

/// Same contract as `packedSymmetricProductReference`, equal to it up to summation order. Each stored
/// sᵢⱼ (j < i) is loaded once and used twice, for yᵢ += sᵢⱼ·xⱼ (a dot product along row i) and
/// yⱼ += sᵢⱼ·xᵢ (an axpy into y): one pass over the triangle, m²/2 loads for 2m² flops. Rows go four
/// at a time, so that each vector of x and of y is loaded (and y stored) once per four rows, not once
/// per row and pass as in a dot-then-axpy loop (measured 1.3× faster for the whole tridiagonalization
/// at n = 2048 on one thread, 1.25× at 576).
///
/// One thread: split into four row ranges of equal area on the spinning workers (each range with its
/// own partial y, added in a fixed order) it was slower with other jobs on the machine (n = 2048:
/// 1.63 vs 1.10 s per tridiagonalization, load ≈ 2.7), for the per-step hand-off reason in README.
package func packedSymmetricProduct(_ packed: UnsafePointer<Double>, first: Int, count m: Int,
                                    x: UnsafePointer<Double>, into y: UnsafeMutablePointer<Double>) {
    typealias V = SIMD8<Double>
    for j in 0..<m { y[j] = 0 }
    func row(_ i: Int) -> UnsafePointer<Double> {             // row i of S, from its column 0
        let global = first + i
        return packed + global * (global + 1) / 2 + first
    }
    let rx = UnsafeRawPointer(x), ry = UnsafeMutableRawPointer(y)
    var i = 0
    // Four rows i..<i+4: the columns 0..<i they share, as vectors; then their 4×4 corner.
    while i + 4 <= m {
        let r0 = row(i), r1 = row(i + 1), r2 = row(i + 2), r3 = row(i + 3)
        let q0 = UnsafeRawPointer(r0), q1 = UnsafeRawPointer(r1), q2 = UnsafeRawPointer(r2), q3 = UnsafeRawPointer(r3)
        let x0 = x[i], x1 = x[i + 1], x2 = x[i + 2], x3 = x[i + 3]
        var a0 = V(), a1 = V(), a2 = V(), a3 = V()            // the four rows' dot products with x
        var c = 0
        while c + 8 <= i {
            let offset = c * 8
            let xv = rx.loadUnaligned(fromByteOffset: offset, as: V.self)
            let v0 = q0.loadUnaligned(fromByteOffset: offset, as: V.self)
            let v1 = q1.loadUnaligned(fromByteOffset: offset, as: V.self)
            let v2 = q2.loadUnaligned(fromByteOffset: offset, as: V.self)
            let v3 = q3.loadUnaligned(fromByteOffset: offset, as: V.self)
            a0 = a0.addingProduct(v0, xv); a1 = a1.addingProduct(v1, xv)
            a2 = a2.addingProduct(v2, xv); a3 = a3.addingProduct(v3, xv)
            var yv = ry.loadUnaligned(fromByteOffset: offset, as: V.self)
            yv = yv.addingProduct(x0, v0).addingProduct(x1, v1).addingProduct(x2, v2).addingProduct(x3, v3)
            ry.storeBytes(of: yv, toByteOffset: offset, as: V.self)
            c += 8
        }
        var d0 = a0.sum(), d1 = a1.sum(), d2 = a2.sum(), d3 = a3.sum()
        while c < i {
            let xc = x[c]
            d0 += r0[c] * xc; d1 += r1[c] * xc; d2 += r2[c] * xc; d3 += r3[c] * xc
            y[c] += x0 * r0[c] + x1 * r1[c] + x2 * r2[c] + x3 * r3[c]
            c += 1
        }
        // The 4×4 corner, row i+r's columns i...i+r: below the diagonal an entry feeds both its row
        // and (by symmetry) the row of its column.
        let (s10, s20, s21) = (r1[i], r2[i], r2[i + 1])
        let (s30, s31, s32) = (r3[i], r3[i + 1], r3[i + 2])
        d0 += r0[i] * x0 + s10 * x1 + s20 * x2 + s30 * x3
        d1 += s10 * x0 + r1[i + 1] * x1 + s21 * x2 + s31 * x3
        d2 += s20 * x0 + s21 * x1 + r2[i + 2] * x2 + s32 * x3
        d3 += s30 * x0 + s31 * x1 + s32 * x2 + r3[i + 3] * x3
        y[i] += d0; y[i + 1] += d1; y[i + 2] += d2; y[i + 3] += d3
        i += 4
    }
    // The last rows one at a time.
    while i < m {
        let r = row(i), xi = x[i]
        y[i] += dot(r, x, i) + r[i] * xi
        axpy(xi, r, y, i)
        i += 1
    }
}
