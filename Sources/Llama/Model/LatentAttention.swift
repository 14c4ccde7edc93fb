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

/// Same contract as `latentAttentionReference`; equal to it up to summation order and `exp`'s last bits.
///
/// First the keys of all S+T visible positions are rebuilt, K = C B_kᵀ (one GEMM over the
/// positions) and rotated. Then, in (query head, block of query rows) jobs over `parallelFor`:
/// scores against K, the causal softmax, the weighted latent sum P C (rows × r), and its
/// up-projection (P C) B_v[g]ᵀ into the head's output columns.
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

// MARK: - Shapes

private func checkLatentShapes(rows t: Int, cached s: Int, latents c: [Float], rank r: Int, keyUp: [Float], valueUp: [Float],
                               kvHeads: Int, headDim dh: Int, rope: RoPETable) {
    precondition(t > 0 && s >= 0 && r > 0 && dh > 0 && kvHeads > 0, "latent attention needs rows, rank, head dim > 0")
    precondition(c.count >= (s + t) * r, "latents shorter than (S+T, r)")
    precondition(keyUp.count == kvHeads * dh * r && valueUp.count == kvHeads * dh * r, "B_k and B_v must be (G·Dh, r)")
    precondition(rope.headDim == dh && s + t <= rope.positions, "RoPE table does not cover \(s + t) positions of head dim \(dh)")
}
