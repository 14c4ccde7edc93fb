// Causal grouped-query attention when the cache holds latents (LatentKV.swift) instead of keys and
// values: the definition (`latentAttentionReference`: rebuild K and V, then `attentionReference`)
// and the fast version the forward pass runs (`latentAttention`).
//
// Keys are rebuilt from the latents before RoPE, so rotation stays exact: k_j = RoPE_j(B_k c_j).
// Values are never rebuilt. For query head h, reading group g, the output is
//
//   out[i, h] = Σⱼ pⱼ v[j, g] = Σⱼ pⱼ B_v[g] c_j = B_v[g] (Σⱼ pⱼ c_j)
//
// with B_v[g] the Dh rows of B_v that make group g's values (Dh × r): one weighted sum of latents
// per head (r values), then one (Dh × r) product per head and row. Folding B_v[g] into the output
// projection instead (W_o[:, h] B_v[g], D × r per head) would cost D·H·r per token against
// H·Dh·r + D·H·Dh here, more whenever r > Dh·D / (D − Dh), which is every useful rank of SmolLM2.
//
// Keys cannot be folded the same way: q·RoPE_j(B_k c_j) = (B_kᵀ RoPE_jᵀ q)·c_j depends on j through
// the rotation, so every step rebuilds the keys of all visible positions, (S+T) × G·Dh × r
// multiply-adds per layer. That is the price of the smaller cache.
import Tensor

// T new query rows · S cached positions · H query heads · G kv heads · Dh head dim · r latent rank
//
// Shapes, all row-major Float: q (T, H·Dh), already rotated; latents c (≥ S+T, r), rows 0..<S from
// earlier calls and rows S..<S+T those of the new tokens; keyUp B_k and valueUp B_v (G·Dh, r);
// out (T, H·Dh). Query row i sits at position S + i, latent row j at position j.

// MARK: - Reference

/// The latent attention by its definition, one scalar at a time: k_j = RoPE_j(B_k c_j) and
/// v_j = B_v c_j for every visible position, then `attentionReference` over them.
package func latentAttentionReference(queries q: [Float], rows t: Int, cached s: Int, latents c: [Float], rank r: Int,
                                      keyUp: [Float], valueUp: [Float], heads: Int, kvHeads: Int, headDim dh: Int,
                                      rope: RoPETable, into out: inout [Float]) {
    checkLatentShapes(rows: t, cached: s, latents: c, rank: r, keyUp: keyUp, valueUp: valueUp,
                      kvHeads: kvHeads, headDim: dh, rope: rope)
    let kvWidth = kvHeads * dh
    var keys = [Float](repeating: 0, count: (s + t) * kvWidth)
    var values = keys
    for j in 0..<(s + t) {
        for row in 0..<kvWidth {
            var k: Float = 0, v: Float = 0
            for p in 0..<r {
                k += keyUp[row * r + p] * c[j * r + p]
                v += valueUp[row * r + p] * c[j * r + p]
            }
            keys[j * kvWidth + row] = k
            values[j * kvWidth + row] = v
        }
        keys.withUnsafeMutableBufferPointer { applyRoPEReference($0.baseAddress! + j * kvWidth, heads: kvHeads, position: j, table: rope) }
    }
    attentionReference(queries: q, rows: t, cached: s, keys: keys, values: values,
                       heads: heads, kvHeads: kvHeads, headDim: dh, into: &out)
}

// MARK: - Fast

/// Rows of queries per job, as in `attention`.
private let latentBlockRows = 32

/// Up to this many query rows (decode, short chunks) all heads go through each product together,
/// so the latents and each group's keys are read once per step rather than once per head: at
/// context 8192 and r 192 that is 6 MB of latents per layer instead of 9 × 6 MB.
private let latentAllHeadsRows = 8

/// Same contract as `latentAttentionReference`; equal to it up to summation order and `exp`'s last bits.
///
/// First the keys of all S+T visible positions are rebuilt, K = C B_kᵀ (one GEMM over the
/// positions) and rotated. Then, in (query head, block of query rows) jobs over `parallelFor`:
/// scores against K, the causal softmax, the weighted latent sum P C (rows × r), and its
/// up-projection (P C) B_v[g]ᵀ into the head's output columns — or, for a few rows (decode), the
/// same three products with all heads at once.
///
/// The keys are rebuilt for all positions in one GEMM rather than a block of positions at a time:
/// the rebuild is compute-bound (Benchmarks `latent`: ~170 GFLOP/s, the GEMM's own rate at 8192
/// positions), and a blocked rebuild does the same multiply-adds.
package func latentAttention(queries q: [Float], rows t: Int, cached s: Int, latents c: [Float], rank r: Int,
                             keyUp: [Float], valueUp: [Float], heads: Int, kvHeads: Int, headDim dh: Int,
                             rope: RoPETable, into out: inout [Float]) {
    checkLatentShapes(rows: t, cached: s, latents: c, rank: r, keyUp: keyUp, valueUp: valueUp,
                      kvHeads: kvHeads, headDim: dh, rope: rope)
    precondition(heads % kvHeads == 0 && q.count >= t * heads * dh && out.count >= t * heads * dh,
                 "latent attention: \(heads) heads in \(kvHeads) groups, queries and output (T, H·Dh)")
    let qWidth = heads * dh, kvWidth = kvHeads * dh
    let positions = s + t
    let group = heads / kvHeads
    let scale = 1 / Float(dh).squareRoot()
    let blocks = (t + latentBlockRows - 1) / latentBlockRows
    Scratch.withFloats(positions * kvWidth) { keys in
        c.withUnsafeBufferPointer { cp in
            keyUp.withUnsafeBufferPointer { bk in
                // K (S+T, G·Dh) = C (S+T, r) · B_kᵀ, then RoPE at positions 0..<S+T
                gemm(m: positions, n: kvWidth, k: r, a: cp.baseAddress!, lda: r, b: bk.baseAddress!, ldb: r,
                     transposeB: true, c: keys, ldc: kvWidth)
            }
        }
        applyRoPE(keys, tokens: positions, rowStride: kvWidth, heads: kvHeads, firstPosition: 0, table: rope)
        if t <= latentAllHeadsRows {
            latentAttentionAllHeads(queries: q, rows: t, cached: s, keys: keys, latents: c, rank: r, valueUp: valueUp,
                                    heads: heads, kvHeads: kvHeads, headDim: dh, into: &out)
            return
        }
        q.withUnsafeBufferPointer { qp in
            c.withUnsafeBufferPointer { cp in
                valueUp.withUnsafeBufferPointer { bv in
                    out.withUnsafeMutableBufferPointer { op in
                        let qs = SharedPointer(readOnly: qp.baseAddress!), ks = SharedPointer(readOnly: UnsafePointer(keys))
                        let cs = SharedPointer(readOnly: cp.baseAddress!), bvs = SharedPointer(readOnly: bv.baseAddress!)
                        let os = SharedPointer(op.baseAddress!)
                        parallelFor(heads * blocks) { job in
                            let head = job / blocks, block = job % blocks
                            let kvHead = head / group
                            let r0 = block * latentBlockRows, rows = min(latentBlockRows, t - r0)
                            let visible = s + r0 + rows
                            let scores = UnsafeMutablePointer<Float>.allocate(capacity: rows * visible + rows * r)
                            defer { scores.deallocate() }
                            let latentSum = scores + rows * visible
                            // scores (rows, visible) = q_h (rows, Dh; stride H·Dh) · K_g (visible, Dh; stride G·Dh)ᵀ
                            gemm(m: rows, n: visible, k: dh, a: qs.base + r0 * qWidth + head * dh, lda: qWidth,
                                 b: ks.base + kvHead * dh, ldb: kvWidth, transposeB: true, c: scores, ldc: visible)
                            for i in 0..<rows {
                                let row = scores + i * visible
                                let seen = s + r0 + i + 1
                                for j in 0..<seen { row[j] *= scale }
                                softmax(row, count: seen)
                                for j in seen..<visible { row[j] = 0 }
                            }
                            // Σⱼ pⱼ c_j: (rows, r) = P (rows, visible) · C (visible, r)
                            gemm(m: rows, n: r, k: visible, a: scores, lda: visible, b: cs.base, ldb: r,
                                 transposeB: false, c: latentSum, ldc: r)
                            // out_h (rows, Dh; stride H·Dh) = (P C) (rows, r) · B_v[g] (Dh, r)ᵀ
                            gemm(m: rows, n: dh, k: r, a: latentSum, lda: r, b: bvs.base + kvHead * dh * r, ldb: r,
                                 transposeB: true, c: os.base + r0 * qWidth + head * dh, ldc: qWidth)
                        }
                    }
                }
            }
        }
    }
}

/// The few-rows path of `latentAttention`, after the keys are rebuilt: scores of all heads in one
/// matrix P (T·H rows, row i·H + h for query row i and head h, S+T columns), then P C in one
/// product, then each group's heads up-projected together.
private func latentAttentionAllHeads(queries q: [Float], rows t: Int, cached s: Int, keys: UnsafeMutablePointer<Float>,
                                     latents c: [Float], rank r: Int, valueUp: [Float], heads: Int, kvHeads: Int,
                                     headDim dh: Int, into out: inout [Float]) {
    let qWidth = heads * dh, kvWidth = kvHeads * dh, group = heads / kvHeads
    let visible = s + t
    let scale = 1 / Float(dh).squareRoot()
    Scratch.withFloats(t * heads * (visible + r)) { scores in
        let latentSum = scores + t * heads * visible
        q.withUnsafeBufferPointer { qp in
            let qs = SharedPointer(readOnly: qp.baseAddress!), ks = SharedPointer(readOnly: UnsafePointer(keys))
            let ps = SharedPointer(scores)
            // per (row, group): P rows (H/G, visible) = the group's query heads (H/G, Dh) · K_g (visible, Dh)ᵀ
            parallelFor(t * kvHeads) { job in
                let i = job / kvHeads, g = job % kvHeads
                let rows = ps.base + (i * heads + g * group) * visible
                gemm(m: group, n: visible, k: dh, a: qs.base + i * qWidth + g * group * dh, lda: dh,
                     b: ks.base + g * dh, ldb: kvWidth, transposeB: true, c: rows, ldc: visible)
                let seen = s + i + 1
                for h in 0..<group {
                    let row = rows + h * visible
                    for j in 0..<seen { row[j] *= scale }
                    softmax(row, count: seen)
                    for j in seen..<visible { row[j] = 0 }
                }
            }
        }
        // Σⱼ pⱼ c_j for every (row, head): (T·H, r) = P (T·H, visible) · C (visible, r)
        c.withUnsafeBufferPointer { cp in
            gemm(m: t * heads, n: r, k: visible, a: scores, lda: visible, b: cp.baseAddress!, ldb: r,
                 transposeB: false, c: latentSum, ldc: r)
        }
        // out[i, heads of g] (H/G, Dh) = (P C) rows of (i, g) (H/G, r) · B_v[g] (Dh, r)ᵀ
        valueUp.withUnsafeBufferPointer { bv in
            out.withUnsafeMutableBufferPointer { op in
                for i in 0..<t {
                    for g in 0..<kvHeads {
                        gemm(m: group, n: dh, k: r, a: latentSum + (i * heads + g * group) * r, lda: r,
                             b: bv.baseAddress! + g * dh * r, ldb: r, transposeB: true,
                             c: op.baseAddress! + i * qWidth + g * group * dh, ldc: dh)
                    }
                }
            }
        }
    }
}

// MARK: - Shapes

private func checkLatentShapes(rows t: Int, cached s: Int, latents c: [Float], rank r: Int, keyUp: [Float], valueUp: [Float],
                               kvHeads: Int, headDim dh: Int, rope: RoPETable) {
    precondition(t > 0 && s >= 0 && r > 0 && dh > 0 && kvHeads > 0, "latent attention needs rows, rank, head dim > 0")
    precondition(c.count >= (s + t) * r, "latents shorter than (S+T, r)")
    precondition(keyUp.count == kvHeads * dh * r && valueUp.count == kvHeads * dh * r, "B_k and B_v must be (G·Dh, r)")
    precondition(rope.headDim == dh && s + t <= rope.positions, "RoPE table does not cover \(s + t) positions of head dim \(dh)")
}
