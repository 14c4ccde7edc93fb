// General matrix multiply in Double, C = α·op(A)·op(B) + β·C, for the blocked factorizations
// (Householder QR's compact-WY updates, forming Q, back-transforming singular vectors). A plain
// triple-loop reference and the fast kernel (packed panels, an 8×16 register tile of SIMD8<Double>,
// parallel over tiles of C), equal to the reference up to summation order. The Float GEMM of module
// `Tensor` serves the randomized SVD; the factorizations need Double (see Matrix.swift).
import Tensor

// MARK: - Reference

/// C (m×n) = α·op(A)·op(B) + β·C, row-major with leading dimensions. op(A) is m×k: A is stored
/// (m×k) or, when `transposeA`, (k×m). op(B) is k×n: B is stored (k×n) or, when `transposeB`,
/// (n×k). With β = 0, C is written without being read.
package func gemmReference(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Double,
                   a: UnsafePointer<Double>, lda: Int, b: UnsafePointer<Double>, ldb: Int,
                   beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int) {
    for i in 0..<m {
        for j in 0..<n {
            var sum = 0.0
            for p in 0..<k {
                let x = transposeA ? a[p * lda + i] : a[i * lda + p]
                let y = transposeB ? b[j * ldb + p] : b[p * ldb + j]
                sum += x * y
            }
            c[i * ldc + j] = alpha * sum + (beta == 0 ? 0 : beta * c[i * ldc + j])
        }
    }
}

// MARK: - Fast

// Blocking (Goto & van de Geijn, "Anatomy of high-performance matrix multiplication", 2008): a
// kc-deep slice of op(B) is packed into 16-wide column panels and the same slice of op(A) into 8-tall
// row panels (both in parallel, once per slice); each job runs the 8×16 micro-kernel over an mc-row
// block of A's panels and its share of the column panels.
// Register tile: 8 rows × 2 SIMD8<Double> = 16 accumulators (of AVX-512's 32 registers).
private let tileRows = 8          // MR
private let tileColumns = 16      // NR
private let depthBlock = 256      // kc: an 8×kc A panel (16 KB) and a 16×kc B panel (32 KB) sit in L1/L2
private let rowBlock = 96         // mc: the packed A block (96×256×8 = 192 KB) sits in L2
private let columnGroup = 256     // columns of C per job: enough jobs for 2+ cores even when m is small

/// Same contract as `gemmReference`; blocked, SIMD and parallel.
package func gemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Double,
          a: UnsafePointer<Double>, lda: Int, b: UnsafePointer<Double>, ldb: Int,
          beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int) {
    if m == 0 || n == 0 { return }
    if k == 0 || alpha == 0 {
        for i in 0..<m {
            for j in 0..<n { c[i * ldc + j] = beta == 0 ? 0 : beta * c[i * ldc + j] }
        }
        return
    }
    // Small products: packing costs more than it saves.
    if m * n * k < 32 * 32 * 32 {
        gemmReference(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha,
                      a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
        return
    }
    let panelCount = (n + tileColumns - 1) / tileColumns
    let rowPanelCount = (m + tileRows - 1) / tileRows
    let packedB = allocateCacheAligned(panelCount * tileColumns * depthBlock)
    let packedA = allocateCacheAligned(rowPanelCount * tileRows * depthBlock)
    defer { packedB.deallocate(); packedA.deallocate() }
    let sharedB = SharedPointer(packedB), sharedA = SharedPointer(packedA)
    let sharedC = SharedPointer(c)
    nonisolated(unsafe) let a = a
    nonisolated(unsafe) let b = b

    for p0 in stride(from: 0, to: k, by: depthBlock) {
        let kb = min(depthBlock, k - p0)
        let betaHere = p0 == 0 ? beta : 1
        // Pack op(B)[p0..<p0+kb, 0..<n] into panels of 16 columns and op(A)[0..<m, p0..<p0+kb] into
        // panels of 8 rows, each p-major and zero-padded (A once for all column groups).
        parallelFor(panelCount + rowPanelCount) { job in
            if job < panelCount {
                packPanel(from: b, ld: ldb, transposed: !transposeB, lines: job * tileColumns, count: tileColumns,
                          limit: n, depth: p0, kb: kb, into: sharedB.base + job * tileColumns * kb)
            } else {
                let panel = job - panelCount
                packPanel(from: a, ld: lda, transposed: transposeA, lines: panel * tileRows, count: tileRows,
                          limit: m, depth: p0, kb: kb, into: sharedA.base + panel * tileRows * kb)
            }
        }
        let rowBlocks = (m + rowBlock - 1) / rowBlock
        let panelsPerGroup = columnGroup / tileColumns
        let groups = (panelCount + panelsPerGroup - 1) / panelsPerGroup
        parallelFor(rowBlocks * groups) { job in
            let i0 = (job / groups) * rowBlock
            let mb = min(rowBlock, m - i0)
            let firstPanel = (job % groups) * panelsPerGroup
            let lastPanel = min(firstPanel + panelsPerGroup, panelCount)
            let rowPanels = (mb + tileRows - 1) / tileRows
            let packedA = sharedA.base + (i0 / tileRows) * tileRows * kb
            var tile = [Double](repeating: 0, count: tileRows * tileColumns)
            tile.withUnsafeMutableBufferPointer { tile in
                for jp in firstPanel..<lastPanel {
                    for ip in 0..<rowPanels {
                        microKernel(kb, packedA + ip * tileRows * kb, sharedB.base + jp * tileColumns * kb,
                                    tile.baseAddress!)
                        // C tile ← α·tile + β·C tile, clipped to the matrix.
                        let rowsHere = min(tileRows, mb - ip * tileRows)
                        let columnsHere = min(tileColumns, n - jp * tileColumns)
                        let corner = sharedC.base + (i0 + ip * tileRows) * ldc + jp * tileColumns
                        if rowsHere == tileRows && columnsHere == tileColumns {
                            updateFullTile(tile.baseAddress!, alpha: alpha, beta: betaHere, c: corner, ldc: ldc)
                            continue
                        }
                        for r in 0..<rowsHere {
                            let cRow = corner + r * ldc
                            for j in 0..<columnsHere {
                                let value = alpha * tile[r * tileColumns + j]
                                cRow[j] = betaHere == 0 ? value : value + betaHere * cRow[j]
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Room for `count` Doubles starting on a 64-byte boundary: a packed panel row is one SIMD8 load,
/// and an unaligned one straddles two cache lines (2048³ on one thread, loaded machine: 33 → 37
/// GFLOP per CPU-second; numpy's dgemm 47).
private func allocateCacheAligned(_ count: Int) -> UnsafeMutablePointer<Double> {
    UnsafeMutableRawPointer.allocate(byteCount: count * MemoryLayout<Double>.stride, alignment: 64)
        .bindMemory(to: Double.self, capacity: count)
}

/// Packs `count` lines (rows of op(A), or columns of op(B)) starting at `first`, depth p0..<p0+kb,
/// p-major: dst[p·count + l]. Lines at or past `limit` are zero. `transposed` says the lines run
/// down the storage (line l, depth p at src[p·ld + l]) rather than along it (src[l·ld + p]).
@inline(__always)
private func packPanel(from src: UnsafePointer<Double>, ld: Int, transposed: Bool, lines first: Int, count: Int,
                       limit: Int, depth p0: Int, kb: Int, into dst: UnsafeMutablePointer<Double>) {
    let valid = max(0, min(count, limit - first))
    if transposed {
        // Each depth p is a contiguous run of lines.
        for p in 0..<kb {
            let row = src + (p0 + p) * ld + first
            let out = dst + p * count
            for l in 0..<valid { out[l] = row[l] }
            for l in valid..<count { out[l] = 0 }
        }
    } else {
        // Each line is a contiguous run of depths.
        for l in 0..<valid {
            let line = src + (first + l) * ld + p0
            for p in 0..<kb { dst[p * count + l] = line[p] }
        }
        for l in valid..<count { for p in 0..<kb { dst[p * count + l] = 0 } }
    }
}

/// C (8×16 at `c`, rows `ldc` apart) ← α·tile + β·C, whole SIMD rows (β = 0: C is not read). The
/// same arithmetic per entry as the clipped scalar loop, issued as 16 vector loads so that the cache
/// misses on C overlap (profiling PCA at 2048², a third of the GEMM's samples sat on the scalar
/// loop's load of C).
@inline(__always)
private func updateFullTile(_ tile: UnsafePointer<Double>, alpha: Double, beta: Double,
                            c: UnsafeMutablePointer<Double>, ldc: Int) {
    typealias V = SIMD8<Double>
    let t = UnsafeRawPointer(tile)
    for r in 0..<tileRows {
        let row = UnsafeMutableRawPointer(c + r * ldc)
        let t0 = alpha * t.loadUnaligned(fromByteOffset: r * 128, as: V.self)
        let t1 = alpha * t.loadUnaligned(fromByteOffset: r * 128 + 64, as: V.self)
        if beta == 0 {
            row.storeBytes(of: t0, toByteOffset: 0, as: V.self)
            row.storeBytes(of: t1, toByteOffset: 64, as: V.self)
        } else {
            let c0 = row.loadUnaligned(fromByteOffset: 0, as: V.self)
            let c1 = row.loadUnaligned(fromByteOffset: 64, as: V.self)
            row.storeBytes(of: t0 + beta * c0, toByteOffset: 0, as: V.self)
            row.storeBytes(of: t1 + beta * c1, toByteOffset: 64, as: V.self)
        }
    }
}

/// tile (8×16, row-major) = A panel (8×kb, p-major) · B panel (kb×16, p-major).
@inline(__always)
private func microKernel(_ kb: Int, _ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>,
                         _ tile: UnsafeMutablePointer<Double>) {
    typealias V = SIMD8<Double>
    var c00 = V(), c01 = V(), c10 = V(), c11 = V(), c20 = V(), c21 = V(), c30 = V(), c31 = V()
    var c40 = V(), c41 = V(), c50 = V(), c51 = V(), c60 = V(), c61 = V(), c70 = V(), c71 = V()
    let rawB = UnsafeRawPointer(b)
    for p in 0..<kb {
        let b0 = rawB.loadUnaligned(fromByteOffset: p * 128, as: V.self)
        let b1 = rawB.loadUnaligned(fromByteOffset: p * 128 + 64, as: V.self)
        let ap = a + p * 8
        c00 = c00.addingProduct(ap[0], b0); c01 = c01.addingProduct(ap[0], b1)
        c10 = c10.addingProduct(ap[1], b0); c11 = c11.addingProduct(ap[1], b1)
        c20 = c20.addingProduct(ap[2], b0); c21 = c21.addingProduct(ap[2], b1)
        c30 = c30.addingProduct(ap[3], b0); c31 = c31.addingProduct(ap[3], b1)
        c40 = c40.addingProduct(ap[4], b0); c41 = c41.addingProduct(ap[4], b1)
        c50 = c50.addingProduct(ap[5], b0); c51 = c51.addingProduct(ap[5], b1)
        c60 = c60.addingProduct(ap[6], b0); c61 = c61.addingProduct(ap[6], b1)
        c70 = c70.addingProduct(ap[7], b0); c71 = c71.addingProduct(ap[7], b1)
    }
    let out = UnsafeMutableRawPointer(tile)
    out.storeBytes(of: c00, toByteOffset: 0, as: V.self); out.storeBytes(of: c01, toByteOffset: 64, as: V.self)
    out.storeBytes(of: c10, toByteOffset: 128, as: V.self); out.storeBytes(of: c11, toByteOffset: 192, as: V.self)
    out.storeBytes(of: c20, toByteOffset: 256, as: V.self); out.storeBytes(of: c21, toByteOffset: 320, as: V.self)
    out.storeBytes(of: c30, toByteOffset: 384, as: V.self); out.storeBytes(of: c31, toByteOffset: 448, as: V.self)
    out.storeBytes(of: c40, toByteOffset: 512, as: V.self); out.storeBytes(of: c41, toByteOffset: 576, as: V.self)
    out.storeBytes(of: c50, toByteOffset: 640, as: V.self); out.storeBytes(of: c51, toByteOffset: 704, as: V.self)
    out.storeBytes(of: c60, toByteOffset: 768, as: V.self); out.storeBytes(of: c61, toByteOffset: 832, as: V.self)
    out.storeBytes(of: c70, toByteOffset: 896, as: V.self); out.storeBytes(of: c71, toByteOffset: 960, as: V.self)
}

// MARK: - Matrix API

/// `op(a) · op(b)` as a new matrix.
package func multiply(_ a: Matrix, _ b: Matrix, transposeA: Bool = false, transposeB: Bool = false) -> Matrix {
    let m = transposeA ? a.columns : a.rows
    let k = transposeA ? a.rows : a.columns
    let n = transposeB ? b.rows : b.columns
    precondition(k == (transposeB ? b.columns : b.rows), "multiply: inner dimensions differ")
    var c = Matrix(rows: m, columns: n)
    if m == 0 || n == 0 || k == 0 { return c }
    a.scalars.withUnsafeBufferPointer { pa in
        b.scalars.withUnsafeBufferPointer { pb in
            c.scalars.withUnsafeMutableBufferPointer { pc in
                gemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: 1,
                     a: pa.baseAddress!, lda: a.columns, b: pb.baseAddress!, ldb: b.columns,
                     beta: 0, c: pc.baseAddress!, ldc: n)
            }
        }
    }
    return c
}

// MARK: - Gram matrices

/// The Gram matrix of x's columns, G = XᵀX (c×c for X r×c), when `ofColumns`, else of its rows,
/// G = XXᵀ (r×r); exactly symmetric. Equal to `multiply(x, x, transposeA: ofColumns, transposeB:
/// !ofColumns)` up to summation order, for about half its flops (LAPACK dsyrk): only the lower
/// triangle is multiplied, in row blocks of 256 — block rows i0..<i1 need columns 0..<i1 (the
/// diagonal block is done whole, its upper part discarded) — and then mirrored.
///
///   ofColumns:  G[i0..<i1, 0..<i1] = X[:, i0..<i1]ᵀ · X[:, 0..<i1]     (r inner)
///   rows:       G[i0..<i1, 0..<i1] = X[i0..<i1, :] · X[0..<i1, :]ᵀ     (c inner)
package func gramMatrix(_ x: Matrix, ofColumns: Bool) -> Matrix {
    let size = ofColumns ? x.columns : x.rows, depth = ofColumns ? x.rows : x.columns
    var g = Matrix(rows: size, columns: size)
    if size == 0 || depth == 0 { return g }
    let ld = x.columns
    x.scalars.withUnsafeBufferPointer { xb in
        g.scalars.withUnsafeMutableBufferPointer { gb in
            let p = xb.baseAddress!, out = gb.baseAddress!
            for i0 in stride(from: 0, to: size, by: gramBlockRows) {
                let i1 = min(i0 + gramBlockRows, size)
                gemm(transposeA: ofColumns, transposeB: !ofColumns, m: i1 - i0, n: i1, k: depth, alpha: 1,
                     a: ofColumns ? p + i0 : p + i0 * ld, lda: ld, b: p, ldb: ld,
                     beta: 0, c: out + i0 * size, ldc: size)
            }
            // Mirror the lower triangle into the upper one, in 64×64 tiles (both sides stay in cache).
            for j0 in stride(from: 0, to: size, by: 64) {
                for i0 in stride(from: j0, to: size, by: 64) {
                    for i in i0..<min(i0 + 64, size) {
                        for j in j0..<min(j0 + 64, i) { out[j * size + i] = out[i * size + j] }
                    }
                }
            }
        }
    }
    return g
}

/// Row block of `gramMatrix`: larger blocks waste more on the diagonal (block²/2 each), smaller ones
/// give the GEMM too few rows to split across threads.
private let gramBlockRows = 256
