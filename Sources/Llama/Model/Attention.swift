// Causal grouped-query attention of T new query rows over the S cached positions and themselves:
// the scalar triple loop that defines it (`attentionReference`), and the blocked one the forward
// pass runs (`attention`). Sources: Vaswani et al. (2017), "Attention Is All You Need", eq. 1;
// grouped-query heads as in Ainslie et al. (2023), "GQA", and transformers' `repeat_kv` +
// `eager_attention_forward` (modeling_llama.py), where query head h reads kv head h // (H/G).
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Tensor

// T new query rows · S cached positions before them · H query heads · G kv heads (H/G per group) ·
// Dh head dim
//
// Query row i sits at position S + i. For query head h, which reads kv head g = h / (H/G):
//
//   sⱼ        = q[i, h] · k[j, g] / √Dh          j = 0 … S+i   (causal: keys at positions ≤ S+i)
//   pⱼ        = e^(sⱼ − m) / Σₗ e^(sₗ − m)       m = maxⱼ sⱼ   (softmax over the visible keys)
//   out[i, h] = Σⱼ pⱼ · v[j, g]                  (Dh)
//
// Shapes, all row-major Float: q (T, H·Dh); keys and values (≥ S+T, G·Dh), rows 0..<S from
// earlier calls and rows S..<S+T those of the new tokens (already rotated and appended to the
// cache); out (T, H·Dh). Head h of a row is the column slice h·Dh ..< (h+1)·Dh.

// MARK: - Reference

/// Causal grouped-query attention, one scalar at a time: for each query row, head and visible key,
/// the dot product, then the softmax with libm's `exp`, then the weighted sum of values. No SIMD,
/// no threads, no blocking: it defines what `attention` computes.
package func attentionReference(queries q: [Float], rows t: Int, cached s: Int, keys: [Float], values: [Float],
                                heads: Int, kvHeads: Int, headDim dh: Int, into out: inout [Float]) {
    checkAttentionShapes(queries: q, rows: t, cached: s, keys: keys, values: values,
                         heads: heads, kvHeads: kvHeads, headDim: dh, out: out)
    let qWidth = heads * dh, kvWidth = kvHeads * dh
    let group = heads / kvHeads
    let scale = 1 / Float(dh).squareRoot()
    var p = [Float](repeating: 0, count: s + t)
    for i in 0..<t {
        let seen = s + i + 1                                   // keys 0..<seen are visible
        for h in 0..<heads {
            let g = h / group
            // sⱼ = q[i, h] · k[j, g] / √Dh, and m = maxⱼ sⱼ
            var m = -Float.infinity
            for j in 0..<seen {
                var dot: Float = 0
                for d in 0..<dh { dot += q[i * qWidth + h * dh + d] * keys[j * kvWidth + g * dh + d] }
                p[j] = dot * scale
                m = max(m, p[j])
            }
            // pⱼ = e^(sⱼ − m) / Σₗ e^(sₗ − m)
            var sum: Float = 0
            for j in 0..<seen { p[j] = exp(p[j] - m); sum += p[j] }
            for j in 0..<seen { p[j] /= sum }
            // out[i, h] = Σⱼ pⱼ · v[j, g]
            for d in 0..<dh {
                var acc: Float = 0
                for j in 0..<seen { acc += p[j] * values[j * kvWidth + g * dh + d] }
                out[i * qWidth + h * dh + d] = acc
            }
        }
    }
}

// MARK: - Fast

/// Rows of queries per job. A block of 32 rows makes the two products real GEMMs in prefill while
/// keeping the wasted (masked) corner of each block small.
private let attentionBlockRows = 32

/// Same contract as `attentionReference`; equal to it up to summation order and `exp`'s last bits.
///
/// Work is split into (kv head, block of query rows) jobs over `parallelFor`. In prefill a job
/// stacks the H/G query heads that read its kv head into one matrix, so their products with K and V
/// are one GEMM each and K and V are packed once for the group, not once per query head; with fewer
/// rows than a block (decode) each query head is its own job, so that two threads still have jobs
/// to share. A block of rows r0 ..< r0+rows only reads the keys it can see, 0 ..< S+r0+rows, so
/// prefill does about half the work of a full T×(S+T) score matrix; the keys a row may not see
/// within its block get weight 0.
package func attention(queries q: [Float], rows t: Int, cached s: Int, keys: [Float], values: [Float],
                       heads: Int, kvHeads: Int, headDim dh: Int, into out: inout [Float]) {
    checkAttentionShapes(queries: q, rows: t, cached: s, keys: keys, values: values,
                         heads: heads, kvHeads: kvHeads, headDim: dh, out: out)
    let qWidth = heads * dh, kvWidth = kvHeads * dh
    let group = heads / kvHeads
    let scale = 1 / Float(dh).squareRoot()
    let blocks = (t + attentionBlockRows - 1) / attentionBlockRows
    let headsPerJob = t >= attentionBlockRows ? group : 1
    let slices = group / headsPerJob                         // jobs per (kv head, block)
    q.withUnsafeBufferPointer { qp in
        keys.withUnsafeBufferPointer { kp in
            values.withUnsafeBufferPointer { vp in
                out.withUnsafeMutableBufferPointer { op in
                    let qs = SharedPointer(readOnly: qp.baseAddress!), ks = SharedPointer(readOnly: kp.baseAddress!)
                    let vs = SharedPointer(readOnly: vp.baseAddress!), os = SharedPointer(op.baseAddress!)
                    parallelFor(kvHeads * slices * blocks) { job in
                        let block = job % blocks, slice = (job / blocks) % slices, kvHead = job / (blocks * slices)
                        let firstHead = kvHead * group + slice * headsPerJob
                        let r0 = block * attentionBlockRows, rows = min(attentionBlockRows, t - r0)
                        let visible = s + r0 + rows                  // keys this block can see
                        let stacked = headsPerJob * rows             // row e = (head e / rows, query row e % rows)
                        // Q (stacked, Dh): row hh·rows + r is q[r0 + r, head firstHead + hh]
                        Scratch.withFloats(stacked * dh + stacked * visible) { scratch in
                            let queries = scratch, scores = scratch + stacked * dh
                            for hh in 0..<headsPerJob {
                                for r in 0..<rows {
                                    (queries + (hh * rows + r) * dh).update(
                                        from: qs.base + (r0 + r) * qWidth + (firstHead + hh) * dh, count: dh)
                                }
                            }
                            // scores (stacked, visible) = Q (stacked, Dh) · K_g (visible, Dh; stride G·Dh)ᵀ
                            gemm(m: stacked, n: visible, k: dh, a: queries, lda: dh,
                                 b: ks.base + kvHead * dh, ldb: kvWidth, transposeB: true, c: scores, ldc: visible)
                            for e in 0..<stacked {
                                let row = scores + e * visible
                                let seen = s + r0 + e % rows + 1     // causal: keys 0..<seen
                                for j in 0..<seen { row[j] *= scale }
                                softmax(row, count: seen)
                                for j in seen..<visible { row[j] = 0 }
                            }
                            // O (stacked, Dh) = P (stacked, visible) · V_g (visible, Dh; stride G·Dh), into
                            // the queries' place, then each row to its head's slice of out.
                            gemm(m: stacked, n: dh, k: visible, a: scores, lda: visible,
                                 b: vs.base + kvHead * dh, ldb: kvWidth, transposeB: false, c: queries, ldc: dh)
                            for hh in 0..<headsPerJob {
                                for r in 0..<rows {
                                    (os.base + (r0 + r) * qWidth + (firstHead + hh) * dh).update(
                                        from: queries + (hh * rows + r) * dh, count: dh)
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

// MARK: - Shapes

/// The sizes both versions rely on: whole groups of query heads, and buffers that hold what is read
/// and written.
private func checkAttentionShapes(queries q: [Float], rows t: Int, cached s: Int, keys: [Float], values: [Float],
                                  heads: Int, kvHeads: Int, headDim dh: Int, out: [Float]) {
    precondition(t > 0 && s >= 0 && dh > 0, "attention needs rows > 0, cached ≥ 0, headDim > 0")
    precondition(kvHeads > 0 && heads % kvHeads == 0, "\(heads) query heads do not split into \(kvHeads) groups")
    precondition(q.count >= t * heads * dh && out.count >= t * heads * dh, "queries or output shorter than (T, H·Dh)")
    precondition(keys.count >= (s + t) * kvHeads * dh && values.count >= (s + t) * kvHeads * dh,
                 "keys or values shorter than (S+T, G·Dh)")
}
