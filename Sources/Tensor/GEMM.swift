// General matrix multiply, C = A·Bᵀ and C = A·B, in Float: a plain triple-loop reference and the
// fast kernel, equal to the reference up to summation order. The fast path follows the
// Goto/BLIS design (K. Goto & R. van de Geijn, "Anatomy of high-performance matrix multiplication",
// ACM TOMS 2008; F. Van Zee & R. van de Geijn, "BLIS", ACM TOMS 2015): pack B into contiguous
// micro-panels, then sweep a register-blocked micro-kernel over them. A is read where it lies: its
// rows are already contiguous along the summed dimension, which is all the micro-kernel needs of it.
//
//   m rows of A and C · n columns of B and C · k the shared (summed) dimension
//   transposeB: B is stored (n, k) — PyTorch's `[out, in]` weight layout — and C = A·Bᵀ
//   otherwise:  B is stored (k, n) and C = A·B

// MARK: - Reference

/// C (m×n) = A (m×k) · Bᵀ with B stored (n×k) — the layout of PyTorch `[out, in]` weights —
/// or A · B with B stored (k×n) when `transposeB` is false. Row-major, leading dimensions given.
package func gemmReference(m: Int, n: Int, k: Int,
                           a: UnsafePointer<Float>, lda: Int,
                           b: UnsafePointer<Float>, ldb: Int, transposeB: Bool,
                           c: UnsafeMutablePointer<Float>, ldc: Int) {
    for i in 0..<m {
        for j in 0..<n {
            var sum: Float = 0
            for p in 0..<k {
                let bValue = transposeB ? b[j * ldb + p] : b[p * ldb + j]
                sum += a[i * lda + p] * bValue
            }
            c[i * ldc + j] = sum
        }
    }
}

// MARK: - Fast: dispatch

/// Same contract as `gemmReference` (C is overwritten, never read); blocked, SIMD and parallel.
/// Equal to the reference up to summation order.
package func gemm(m: Int, n: Int, k: Int,
                  a: UnsafePointer<Float>, lda: Int,
                  b: UnsafePointer<Float>, ldb: Int, transposeB: Bool,
                  c: UnsafeMutablePointer<Float>, ldc: Int) {
    if m <= 0 || n <= 0 { return }
    if k <= 0 {
        for i in 0..<m { (c + i * ldc).update(repeating: 0, count: n) }
        return
    }
    if m <= GEMVLimits.maximumRows {
        // A few rows (a decode step): read B once, straight from its own layout, no packing.
        gemvRows(m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, transposeB: transposeB, c: c, ldc: ldc)
        return
    }
    packedGEMM(m: m, n: n, k: k, a: a, lda: lda, b: .floats(SharedPointer(readOnly: b), ldb: ldb, transposeB: transposeB),
               c: c, ldc: ldc)
}

/// C (m×n) = A (m×k) · Bᵀ for a B (n × k) that is not in memory as Floats (a weight in its stored
/// encoding): `decodeB(j0, rows, p0, kb, dst)` writes B[j0 ..< j0+rows, p0 ..< p0+kb] into `dst`,
/// row-major (rows × kb). It is asked for whole depth blocks (p0 a multiple of `GEMMBlocking.kc`,
/// kb = min(kc, k − p0)) of at most `GEMMBlocking.nr` rows, each piece once, from several threads
/// at a time. The decoded piece goes straight into packed B while it is in L1, so B is never
/// written out whole as Floats. Equal to `gemm` on the decoded B bit for bit: the packed panels and
/// the summation order are the same.
package func gemm(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
                  decodingB decodeB: @escaping @Sendable (Int, Int, Int, Int, UnsafeMutablePointer<Float>) -> Void,
                  c: UnsafeMutablePointer<Float>, ldc: Int) {
    if m <= 0 || n <= 0 { return }
    if k <= 0 {
        for i in 0..<m { (c + i * ldc).update(repeating: 0, count: n) }
        return
    }
    packedGEMM(m: m, n: n, k: k, a: a, lda: lda, b: .decoded(decodeB), c: c, ldc: ldc)
}

// MARK: - Fast: blocking

/// The micro-kernel computes an `mr × nr` tile of C in registers: 6 rows × 2 SIMD16 vectors = 12
/// accumulators, plus 2 vectors of B and a broadcast of A, within AVX-512's 32 vector registers
/// (on narrower machines LLVM splits each SIMD16 into 2 or 4 registers and spills; still correct).
/// `kc` bounds the depth of one pass so a B micro-panel (kc × nr floats, 32 KB) and the A values it
/// meets (mr rows × kc, 6 KB) stay in L1/L2; a task's share of packed B (kc × up to `ncMax` columns,
/// 512 KB) stays in L2.
enum GEMMBlocking {
    static let mr = 6
    static let nr = 32
    static let kc = 256
    static let ncMax = 512
    /// Packed B is made a chunk of columns at a time, about this many floats (8 MB).
    static let chunkFloats = 2 << 20
    /// Tasks per processor in the compute grid: a few, so a thread slowed by another process does
    /// not hold up the others for long.
    static let tasksPerProcessor = 4
}

// MARK: - Fast: packing
//
// Packed B: for each depth block [p0, p0 + kb), for each panel of nr columns, kb × nr floats with
// element (p, c) at p·nr + c — the two vectors the micro-kernel loads at step p. Columns past n are
// zero.
//
//   block at p0 starts at p0 · panels · nr;  panel q of that block at + q · nr · kb
//
// A is not packed. BLIS packs it too (mr values side by side per step), but A here is row-major
// with unit stride along p, so the micro-kernel broadcasts A[i0 + r, p] straight from row r: the same
// loads, and no copy. The copy, a scalar strided loop, measured 6% of a 512-token prefill.

/// Packs columns [j0, j0 + nr) of B (clipped to n), depth [p0, p0 + kb), into `dst` (kb × nr).
@inline(__always)
private func packBPanel(b: UnsafePointer<Float>, ldb: Int, transposeB: Bool, n: Int, j0: Int, p0: Int, kb: Int,
                        dst: UnsafeMutablePointer<Float>) {
    let nr = GEMMBlocking.nr
    let columns = min(nr, n - j0)
    if transposeB {
        // B stored (n, k): column j of the product is row j of storage, read along p. Each half of
        // the panel (16 rows of storage) is transposed 16 × 16 at a time in registers.
        for half in stride(from: 0, to: nr, by: 16) {
            let rows = min(16, max(0, columns - half))
            let src = b + (j0 + half) * ldb + p0
            var p = 0
            if rows == 16 {
                while p + 16 <= kb {
                    transpose16x16(src + p, ld: ldb, into: dst + p * nr + half, ld: nr)
                    p += 16
                }
            }
            for row in 0..<16 {
                for q in p..<kb { dst[q * nr + half + row] = row < rows ? src[row * ldb + q] : 0 }
            }
        }
    } else {
        // B stored (k, n): step p is a contiguous run of row p + p0.
        for p in 0..<kb {
            let src = b + (p0 + p) * ldb + j0
            let row = dst + p * nr
            row.update(from: src, count: columns)
            if columns < nr { (row + columns).update(repeating: 0, count: nr - columns) }
        }
    }
}

/// dst (16 × 16, leading dimension ldDst, 64-byte aligned rows) = srcᵀ (16 × 16, leading dimension
/// ld). Four rounds of "unzip" on pairs of rows: round by round, row index bits and column index bits
/// rotate through each other, and after four rounds (log₂ 16) they have swapped — a transpose.
@inline(__always)
private func transpose16x16(_ src: UnsafePointer<Float>, ld: Int, into dst: UnsafeMutablePointer<Float>, ld ldDst: Int) {
    typealias V = SIMD16<Float>
    var v = InlineArray<16, V>(repeating: V())
    for r in 0..<16 { v[r] = UnsafeRawPointer(src + r * ld).loadUnaligned(as: V.self) }
    for _ in 0..<4 {
        var w = InlineArray<16, V>(repeating: V())
        for i in 0..<8 {
            let pair = SIMD32<Float>(lowHalf: v[2 * i], highHalf: v[2 * i + 1])
            w[i] = pair.evenHalf
            w[i + 8] = pair.oddHalf
        }
        v = w
    }
    for r in 0..<16 { UnsafeMutableRawPointer(dst + r * ldDst).storeBytes(of: v[r], as: V.self) }
}

// MARK: - Fast: micro-kernel

/// C tile (mr × nr, leading dimension ldc) = (or +=, when `accumulate`) A rows · B panel over kb
/// steps: for each p, C[r, 0..<32] += A[r, p] · B[p, 0..<32] as two SIMD16 fused multiply-adds.
/// Row r of A starts at `a + r · lda`; a tile with fewer than mr rows (`rows`) repeats its last row
/// in the missing ones (read, never past A's end) and the caller keeps only the first `rows` of C.
@inline(__always)
private func microKernel(kb: Int, a: UnsafePointer<Float>, lda: Int, rows: Int, b: UnsafePointer<Float>,
                         c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool) {
    typealias V = SIMD16<Float>
    @inline(__always) func row(_ r: Int) -> UnsafePointer<Float> { a + min(r, rows - 1) * lda }
    let a0 = row(0), a1 = row(1), a2 = row(2), a3 = row(3), a4 = row(4), a5 = row(5)
    var c00 = V(), c01 = V(), c10 = V(), c11 = V(), c20 = V(), c21 = V()
    var c30 = V(), c31 = V(), c40 = V(), c41 = V(), c50 = V(), c51 = V()
    var pb = UnsafeRawPointer(b)
    for p in 0..<kb {
        let b0 = pb.loadUnaligned(as: V.self)
        let b1 = pb.loadUnaligned(fromByteOffset: 64, as: V.self)
        var s = V(repeating: a0[p])
        c00 = c00.addingProduct(s, b0); c01 = c01.addingProduct(s, b1)
        s = V(repeating: a1[p])
        c10 = c10.addingProduct(s, b0); c11 = c11.addingProduct(s, b1)
        s = V(repeating: a2[p])
        c20 = c20.addingProduct(s, b0); c21 = c21.addingProduct(s, b1)
        s = V(repeating: a3[p])
        c30 = c30.addingProduct(s, b0); c31 = c31.addingProduct(s, b1)
        s = V(repeating: a4[p])
        c40 = c40.addingProduct(s, b0); c41 = c41.addingProduct(s, b1)
        s = V(repeating: a5[p])
        c50 = c50.addingProduct(s, b0); c51 = c51.addingProduct(s, b1)
        pb += 128
    }
    @inline(__always) func store(_ row: Int, _ v0: V, _ v1: V) {
        let p = UnsafeMutableRawPointer(c + row * ldc)
        if accumulate {
            p.storeBytes(of: p.loadUnaligned(as: V.self) + v0, as: V.self)
            p.storeBytes(of: p.loadUnaligned(fromByteOffset: 64, as: V.self) + v1, toByteOffset: 64, as: V.self)
        } else {
            p.storeBytes(of: v0, as: V.self)
            p.storeBytes(of: v1, toByteOffset: 64, as: V.self)
        }
    }
    store(0, c00, c01); store(1, c10, c11); store(2, c20, c21)
    store(3, c30, c31); store(4, c40, c41); store(5, c50, c51)
}

// MARK: - Fast: packed GEMM driver

/// Where packing reads B from: Floats in memory in either layout, or pieces decoded on request
/// (rows × kb, row-major, as B stored (n, k)).
private enum BSource: Sendable {
    case floats(SharedPointer<Float>, ldb: Int, transposeB: Bool)
    case decoded(@Sendable (Int, Int, Int, Int, UnsafeMutablePointer<Float>) -> Void)
}

/// Packs B a chunk of columns at a time (bounding the scratch memory: the LM head's B has 49,152
/// rows), in parallel, then splits the chunk's part of C into a grid of blocks, one task each. A task
/// walks the depth blocks in order, so its C block accumulates in one order whatever the threads do.
private func packedGEMM(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, b: BSource,
                        c: UnsafeMutablePointer<Float>, ldc: Int) {
    let mr = GEMMBlocking.mr, nr = GEMMBlocking.nr, kc = GEMMBlocking.kc
    let mPanels = (m + mr - 1) / mr, nPanels = (n + nr - 1) / nr
    let depthBlocks = (k + kc - 1) / kc
    // Columns per chunk: whole multiples of a task's column block, about `chunkFloats` packed floats.
    let chunkPanels = min(nPanels, max(GEMMBlocking.ncMax / nr, GEMMBlocking.chunkFloats / (k * nr)))
    let chunks = (nPanels + chunkPanels - 1) / chunkPanels
    let parallel = m * n * k >= parallelMinimumWork
    let aIn = SharedPointer(readOnly: a), out = SharedPointer(c)

    Scratch.withFloats(chunkPanels * nr * k) { scratch in
        let packedB = SharedPointer(scratch)
        for chunk in 0..<chunks {
            let firstPanel = chunk * chunkPanels, panels = min(chunkPanels, nPanels - firstPanel)

            // Pack: one job per panel of B, all depth blocks of it.
            let packJob: @Sendable (Int) -> Void = { q in
                let j0 = (firstPanel + q) * nr
                for block in 0..<depthBlocks {
                    let p0 = block * kc, kb = min(kc, k - p0)
                    let dst = packedB.base + p0 * panels * nr + q * nr * kb
                    switch b {
                    case .floats(let bIn, let ldb, let transposeB):
                        packBPanel(b: bIn.base, ldb: ldb, transposeB: transposeB, n: n, j0: j0, p0: p0, kb: kb, dst: dst)
                    case .decoded(let decodeB):
                        // rows × kb decoded into L1-sized scratch (≤ 32 KB), then packed from there
                        let rows = min(nr, n - j0)
                        Scratch.withFloats(rows * kb) { piece in
                            decodeB(j0, rows, p0, kb, piece)
                            packBPanel(b: piece, ldb: kb, transposeB: true, n: rows, j0: 0, p0: 0, kb: kb, dst: dst)
                        }
                    }
                }
            }
            if parallel { parallelFor(panels, packJob) } else { for q in 0..<panels { packJob(q) } }

            // Compute: a grid of C blocks, rowPanels × columnPanels panels each.
            let columnBlocks = (panels + GEMMBlocking.ncMax / nr - 1) / (GEMMBlocking.ncMax / nr)
            let columnPanels = (panels + columnBlocks - 1) / columnBlocks
            let wantedTasks = parallel ? GEMMBlocking.tasksPerProcessor * threadCount : 1
            let wantedRowBlocks = min(mPanels, max(1, (wantedTasks + columnBlocks - 1) / columnBlocks))
            let rowPanels = (mPanels + wantedRowBlocks - 1) / wantedRowBlocks
            let rowBlocks = (mPanels + rowPanels - 1) / rowPanels
            let computeJob: @Sendable (Int) -> Void = { task in
                let rowBlock = task / columnBlocks, columnBlock = task % columnBlocks
                let rowPanelRange = (rowBlock * rowPanels)..<min(mPanels, (rowBlock + 1) * rowPanels)
                let columnPanelRange = (columnBlock * columnPanels)..<min(panels, (columnBlock + 1) * columnPanels)
                var edge = EdgeTile()                  // scratch tile for panels that overhang C
                for block in 0..<depthBlocks {
                    let p0 = block * kc, kb = min(kc, k - p0)
                    let bBlock = packedB.base + p0 * panels * nr
                    for ip in rowPanelRange {
                        let i0 = ip * mr, rows = min(mr, m - i0)
                        let aRows = aIn.base + i0 * lda + p0          // A[i0 ..< i0 + rows, p0 ..< p0 + kb]
                        for jp in columnPanelRange {
                            let j0 = (firstPanel + jp) * nr, columns = min(nr, n - j0)
                            let bPanel = bBlock + jp * nr * kb
                            if rows == mr && columns == nr {
                                microKernel(kb: kb, a: aRows, lda: lda, rows: rows, b: bPanel,
                                            c: out.base + i0 * ldc + j0, ldc: ldc, accumulate: block > 0)
                            } else {
                                edge.withPointer { tile in
                                    microKernel(kb: kb, a: aRows, lda: lda, rows: rows, b: bPanel, c: tile, ldc: nr,
                                                accumulate: false)
                                    for r in 0..<rows {
                                        let dst = out.base + (i0 + r) * ldc + j0, src = tile + r * nr
                                        if block > 0 {
                                            for col in 0..<columns { dst[col] += src[col] }
                                        } else {
                                            dst.update(from: src, count: columns)
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            let tasks = rowBlocks * columnBlocks
            if parallel { parallelFor(tasks, computeJob) } else { for task in 0..<tasks { computeJob(task) } }
        }
    }
}

/// Scratch storage for one mr × nr tile of C, on the stack.
private struct EdgeTile {
    var storage = InlineArray<24, SIMD16<Float>>(repeating: .zero)    // room for mr × nr ≤ 12 × 32

    mutating func withPointer(_ body: (UnsafeMutablePointer<Float>) -> Void) {
        withUnsafeMutableBytes(of: &storage) { body($0.baseAddress!.assumingMemoryBound(to: Float.self)) }
    }
}

// MARK: - Fast: few rows (GEMV)

enum GEMVLimits {
    /// Up to this many rows of A, B is streamed once from its own layout rather than packed.
    static let maximumRows = 4
    /// Columns of C per parallel job: 64 rows of a stored-(n, k) B, or one run of
    /// 128 columns of a stored-(k, n) B.
    static func columnsPerJob(transposeB: Bool) -> Int { transposeB ? 64 : 128 }
}

/// C (m×n) for small m: every row of A against B, B read in its own layout.
private func gemvRows(m: Int, n: Int, k: Int,
                      a: UnsafePointer<Float>, lda: Int,
                      b: UnsafePointer<Float>, ldb: Int, transposeB: Bool,
                      c: UnsafeMutablePointer<Float>, ldc: Int) {
    // Split the columns of C into chunks, one job each; a job does its chunk for every row of A.
    // Rows of a stored-(n, k) B split evenly across the threads; a stored-(k, n) B keeps whole runs
    // of 128 columns (its fast loop's width).
    let preferred = GEMVLimits.columnsPerJob(transposeB: transposeB)
    let (jobs, chunk) = transposeB ? balancedJobs(n, preferred: preferred) : ((n + preferred - 1) / preferred, preferred)
    let aIn = SharedPointer(readOnly: a), bIn = SharedPointer(readOnly: b)
    let out = SharedPointer(c)
    let job: @Sendable (Int) -> Void = { job in
        let j0 = job * chunk, j1 = min(n, j0 + chunk)
        for i in 0..<m {
            if transposeB {
                gemvTransposed(n: j1 - j0, k: k, x: aIn.base + i * lda, w: bIn.base + j0 * ldb, ldw: ldb,
                               y: out.base + i * ldc + j0)
            } else {
                gemvColumns(n: j1 - j0, k: k, x: aIn.base + i * lda, b: bIn.base + j0, ldb: ldb,
                            y: out.base + i * ldc + j0)
            }
        }
    }
    if m * n * k >= parallelMinimumWork { parallelFor(jobs, job) } else { for j in 0..<jobs { job(j) } }
}

/// y (n) = W x: y[j] = Σ_p W[j, p] · x[p], W stored (n, k) with leading dimension ldw. One row of W
/// at a time, four SIMD16 accumulators along p: W is read as one sequential stream, which the
/// hardware prefetcher follows best (measured: eight interleaved rows, each load of x serving all
/// eight, took 1.3–1.9× as long at k = 576: Tensor/README.md; x stays in L1 either way).
@inline(__always)
private func gemvTransposed(n: Int, k: Int, x: UnsafePointer<Float>, w: UnsafePointer<Float>, ldw: Int,
                            y: UnsafeMutablePointer<Float>) {
    typealias V = SIMD16<Float>
    let xr = UnsafeRawPointer(x)
    let fourVectors = (k / 64) * 256, vectors = (k / 16) * 64          // byte offsets
    for j in 0..<n {
        let wr = UnsafeRawPointer(w + j * ldw)
        var s0 = V(), s1 = V(), s2 = V(), s3 = V()
        var offset = 0
        while offset < fourVectors {
            s0 = s0.addingProduct(xr.loadUnaligned(fromByteOffset: offset, as: V.self),
                                  wr.loadUnaligned(fromByteOffset: offset, as: V.self))
            s1 = s1.addingProduct(xr.loadUnaligned(fromByteOffset: offset + 64, as: V.self),
                                  wr.loadUnaligned(fromByteOffset: offset + 64, as: V.self))
            s2 = s2.addingProduct(xr.loadUnaligned(fromByteOffset: offset + 128, as: V.self),
                                  wr.loadUnaligned(fromByteOffset: offset + 128, as: V.self))
            s3 = s3.addingProduct(xr.loadUnaligned(fromByteOffset: offset + 192, as: V.self),
                                  wr.loadUnaligned(fromByteOffset: offset + 192, as: V.self))
            offset += 256
        }
        while offset < vectors {
            s0 = s0.addingProduct(xr.loadUnaligned(fromByteOffset: offset, as: V.self),
                                  wr.loadUnaligned(fromByteOffset: offset, as: V.self))
            offset += 64
        }
        var t = laneSum((s0 + s1) + (s2 + s3))
        for p in (vectors / 4)..<k { t += x[p] * w[j * ldw + p] }
        y[j] = t
    }
}

/// y (n) = xᵀ B: y[j] = Σ_p x[p] · B[p, j], B stored (k, n) with leading dimension ldb. Columns in
/// runs of 128 (eight SIMD16 accumulators), each row of B a contiguous 512-byte load; then runs of 16.
@inline(__always)
private func gemvColumns(n: Int, k: Int, x: UnsafePointer<Float>, b: UnsafePointer<Float>, ldb: Int,
                         y: UnsafeMutablePointer<Float>) {
    typealias V = SIMD16<Float>
    var j = 0
    while j + 128 <= n {
        var s0 = V(), s1 = V(), s2 = V(), s3 = V(), s4 = V(), s5 = V(), s6 = V(), s7 = V()
        for p in 0..<k {
            let row = UnsafeRawPointer(b + p * ldb + j)
            let xp = V(repeating: x[p])
            s0 = s0.addingProduct(xp, row.loadUnaligned(as: V.self))
            s1 = s1.addingProduct(xp, row.loadUnaligned(fromByteOffset: 64, as: V.self))
            s2 = s2.addingProduct(xp, row.loadUnaligned(fromByteOffset: 128, as: V.self))
            s3 = s3.addingProduct(xp, row.loadUnaligned(fromByteOffset: 192, as: V.self))
            s4 = s4.addingProduct(xp, row.loadUnaligned(fromByteOffset: 256, as: V.self))
            s5 = s5.addingProduct(xp, row.loadUnaligned(fromByteOffset: 320, as: V.self))
            s6 = s6.addingProduct(xp, row.loadUnaligned(fromByteOffset: 384, as: V.self))
            s7 = s7.addingProduct(xp, row.loadUnaligned(fromByteOffset: 448, as: V.self))
        }
        let out = UnsafeMutableRawPointer(y + j)
        out.storeBytes(of: s0, as: V.self); out.storeBytes(of: s1, toByteOffset: 64, as: V.self)
        out.storeBytes(of: s2, toByteOffset: 128, as: V.self); out.storeBytes(of: s3, toByteOffset: 192, as: V.self)
        out.storeBytes(of: s4, toByteOffset: 256, as: V.self); out.storeBytes(of: s5, toByteOffset: 320, as: V.self)
        out.storeBytes(of: s6, toByteOffset: 384, as: V.self); out.storeBytes(of: s7, toByteOffset: 448, as: V.self)
        j += 128
    }
    while j + 16 <= n {
        var s = V()
        for p in 0..<k {
            s = s.addingProduct(V(repeating: x[p]), UnsafeRawPointer(b + p * ldb + j).loadUnaligned(as: V.self))
        }
        UnsafeMutableRawPointer(y + j).storeBytes(of: s, as: V.self)
        j += 16
    }
    while j < n {
        var t: Float = 0
        for p in 0..<k { t += x[p] * b[p * ldb + j] }
        y[j] = t
        j += 1
    }
}

// MARK: - Tensor API

/// `a · bᵀ`: (m, k) × (n, k)ᵀ → (m, n).
public func matmulTransposed(_ a: Tensor, _ b: Tensor) -> Tensor {
    precondition(a.rank == 2 && b.rank == 2 && a.shape[1] == b.shape[1],
                 "matmulTransposed: shapes \(a.shape) and \(b.shape) do not match")
    let m = a.shape[0], k = a.shape[1], n = b.shape[0]
    var c = Tensor(zeros: [m, n])
    if m == 0 || n == 0 || k == 0 { return c }
    a.scalars.withUnsafeBufferPointer { pa in
        b.scalars.withUnsafeBufferPointer { pb in
            c.scalars.withUnsafeMutableBufferPointer { pc in
                gemm(m: m, n: n, k: k, a: pa.baseAddress!, lda: k, b: pb.baseAddress!, ldb: k,
                     transposeB: true, c: pc.baseAddress!, ldc: n)
            }
        }
    }
    return c
}

/// `a · b`: (m, k) × (k, n) → (m, n).
public func matmul(_ a: Tensor, _ b: Tensor) -> Tensor {
    precondition(a.rank == 2 && b.rank == 2 && a.shape[1] == b.shape[0],
                 "matmul: shapes \(a.shape) and \(b.shape) do not match")
    let m = a.shape[0], k = a.shape[1], n = b.shape[1]
    var c = Tensor(zeros: [m, n])
    if m == 0 || n == 0 || k == 0 { return c }
    a.scalars.withUnsafeBufferPointer { pa in
        b.scalars.withUnsafeBufferPointer { pb in
            c.scalars.withUnsafeMutableBufferPointer { pc in
                gemm(m: m, n: n, k: k, a: pa.baseAddress!, lda: k, b: pb.baseAddress!, ldb: n,
                     transposeB: false, c: pc.baseAddress!, ldc: n)
            }
        }
    }
    return c
}
