// The Llama forward pass (Hugging Face `LlamaForCausalLM`), in data-flow order: embedding,
// per layer RMSNorm → Q/K/V → RoPE → causal grouped-query attention → O → residual, RMSNorm →
// SwiGLU MLP → residual; final RMSNorm; output head. One implementation serves prefill (T tokens
// at once, GEMMs over the block) and decode (one token against the KV cache).
import Tensor
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// T new tokens · S positions attended (cache + new) · D model dim · H query heads · G kv heads ·
// Dh head dim · F MLP dim · V vocab

public final class Model: Sendable {
    public let config: Config
    public let weights: Weights
    private let rope: RotaryTable

    public init(config: Config, weights: Weights) {
        self.config = config
        self.weights = weights
        rope = RotaryTable(headDim: config.headDim, theta: config.ropeTheta, positions: config.contextLength)
    }

    public convenience init(checkpoint: Checkpoint) throws {
        self.init(config: checkpoint.config, weights: try Weights(checkpoint: checkpoint))
    }

    /// A model with other weights (for example after surgery) and the same configuration.
    public func replacingWeights(_ newWeights: Weights) -> Model {
        Model(config: config, weights: newWeights)
    }

    public func makeCache(capacity: Int? = nil) -> KVCache {
        KVCache(config: config, capacity: capacity ?? config.contextLength)
    }

    /// Logits (T, V) for `tokens` placed after the `cache.count` positions already in `cache`,
    /// which then holds them too. With an empty cache this is prefill.
    public func forward(_ tokens: [Int], cache: inout KVCache) -> Tensor {
        let c = config
        let t = tokens.count
        precondition(t > 0, "forward needs at least one token")
        precondition(tokens.allSatisfy { $0 >= 0 && $0 < c.vocabSize }, "token id outside the vocabulary")
        precondition(cache.count + t <= min(cache.capacity, c.contextLength),
                     "\(cache.count + t) positions exceed the context (\(min(cache.capacity, c.contextLength)))")
        let d = c.hiddenSize, qWidth = c.headCount * c.headDim, kvWidth = c.kvHeadCount * c.headDim
        let start = cache.count

        // h: the residual stream, (T, D)
        var h = [Float](repeating: 0, count: t * d)
        weights.embedding.scalars.withUnsafeBufferPointer { e in
            for (row, token) in tokens.enumerated() {
                for j in 0..<d { h[row * d + j] = e[token * d + j] }
            }
        }
        var x = [Float](repeating: 0, count: t * d)
        var q = [Float](repeating: 0, count: t * qWidth)
        var k = [Float](repeating: 0, count: t * kvWidth)
        var v = [Float](repeating: 0, count: t * kvWidth)
        var attended = [Float](repeating: 0, count: t * qWidth)
        var gate = [Float](repeating: 0, count: t * c.intermediateSize)
        var up = [Float](repeating: 0, count: t * c.intermediateSize)

        for (index, layer) in weights.layers.enumerated() {
            // Attention block: h += Attention(RMSNorm(h)) · Woᵀ
            rmsNorm(h, weight: layer.inputNorm.scalars, epsilon: c.rmsNormEpsilon, rows: t, into: &x)
            linear(x, rows: t, layer.q, into: &q)                 // (T, D) × (H·Dh, D)ᵀ → (T, H·Dh)
            linear(x, rows: t, layer.k, into: &k)                 // (T, D) × (G·Dh, D)ᵀ → (T, G·Dh)
            linear(x, rows: t, layer.v, into: &v)                 // (T, D) × (G·Dh, D)ᵀ → (T, G·Dh)
            rope.apply(to: &q, rows: t, heads: c.headCount, firstPosition: start)
            rope.apply(to: &k, rows: t, heads: c.kvHeadCount, firstPosition: start)
            k.withUnsafeBufferPointer { kp in
                v.withUnsafeBufferPointer { vp in
                    cache.append(layer: index, keys: kp.baseAddress!, values: vp.baseAddress!, rows: t)
                }
            }
            attention(queries: q, rows: t, firstPosition: start, keys: cache.keys[index], values: cache.values[index],
                      into: &attended)
            linearAccumulate(attended, rows: t, layer.o, into: &h) // (T, H·Dh) × (D, H·Dh)ᵀ → (T, D), added

            // MLP block: h += (SiLU(x·Wgᵀ) ⊙ x·Wuᵀ) · Wdᵀ with x = RMSNorm(h)
            rmsNorm(h, weight: layer.postAttentionNorm.scalars, epsilon: c.rmsNormEpsilon, rows: t, into: &x)
            linear(x, rows: t, layer.gate, into: &gate)           // (T, D) × (F, D)ᵀ → (T, F)
            linear(x, rows: t, layer.up, into: &up)               // (T, D) × (F, D)ᵀ → (T, F)
            swiGLU(gate: &gate, up: up)                           // gate ← SiLU(gate) ⊙ up
            linearAccumulate(gate, rows: t, layer.down, into: &h) // (T, F) × (D, F)ᵀ → (T, D), added
        }
        cache.advance(by: t)

        rmsNorm(h, weight: weights.finalNorm.scalars, epsilon: c.rmsNormEpsilon, rows: t, into: &x)
        var logits = Tensor(zeros: [t, c.vocabSize])
        linear(x, rows: t, weights.head, into: &logits.scalars) // (T, D) × (V, D)ᵀ → (T, V)
        return logits
    }

    /// Logits (T, V) of a fresh sequence: prefill with a cache sized to it.
    public func logits(_ tokens: [Int]) -> Tensor {
        var cache = makeCache(capacity: tokens.count)
        return forward(tokens, cache: &cache)
    }

    // MARK: - Attention

    /// Causal grouped-query attention for T new queries at positions `firstPosition..<firstPosition+T`
    /// over the S = firstPosition + T cached keys/values. Query head h reads kv head h / (H/G).
    ///   scores = q_h · K_gᵀ / √Dh   (T, S), masked so position p sees keys 0…p
    ///   out_h  = softmax(scores) · V_g   (T, Dh)
    private func attention(queries q: [Float], rows t: Int, firstPosition start: Int,
                           keys: [Float], values: [Float], into out: inout [Float]) {
        let c = config
        let dh = c.headDim, s = start + t
        let qWidth = c.headCount * dh, kvWidth = c.kvHeadCount * dh
        let group = c.headCount / c.kvHeadCount
        let scale = 1 / Float(dh).squareRoot()
        var scores = [Float](repeating: 0, count: t * s)
        q.withUnsafeBufferPointer { qp in
            keys.withUnsafeBufferPointer { kp in
                values.withUnsafeBufferPointer { vp in
                    scores.withUnsafeMutableBufferPointer { sp in
                        out.withUnsafeMutableBufferPointer { op in
                            for head in 0..<c.headCount {
                                let kvHead = head / group
                                // scores (T, S) = q_h (T, Dh; row stride H·Dh) · K_g (S, Dh; row stride G·Dh)ᵀ
                                gemm(m: t, n: s, k: dh, a: qp.baseAddress! + head * dh, lda: qWidth,
                                     b: kp.baseAddress! + kvHead * dh, ldb: kvWidth, transposeB: true,
                                     c: sp.baseAddress!, ldc: s)
                                for row in 0..<t {
                                    let visible = start + row + 1          // causal: keys 0..<visible
                                    let r = sp.baseAddress! + row * s
                                    for j in 0..<visible { r[j] *= scale }
                                    softmaxInPlace(r, count: visible)
                                    for j in visible..<s { r[j] = 0 }
                                }
                                // out_h (T, Dh; row stride H·Dh) = P (T, S) · V_g (S, Dh; row stride G·Dh)
                                gemm(m: t, n: dh, k: s, a: sp.baseAddress!, lda: s,
                                     b: vp.baseAddress! + kvHead * dh, ldb: kvWidth, transposeB: false,
                                     c: op.baseAddress! + head * dh, ldc: qWidth)
                            }
                        }
                    }
                }
            }
        }
    }
}

// MARK: - Rotary position embedding

/// cos/sin of RoPE angles, Hugging Face "rotate half" layout: dimension i of a head pairs with
/// i + Dh/2, rotated by angle p · θ^(−2i/Dh) at position p. Computed in Float exactly as
/// transformers' `LlamaRotaryEmbedding` does (float32 inv_freq, float32 product, float32 cos/sin),
/// so the angles round the same way.
struct RotaryTable: Sendable {
    let headDim: Int
    let cos: [Float]     // (positions, Dh/2)
    let sin: [Float]

    init(headDim: Int, theta: Float, positions: Int) {
        self.headDim = headDim
        let half = headDim / 2
        let inverseFrequency = (0..<half).map { i in 1 / powf(theta, Float(2 * i) / Float(headDim)) }
        var cosTable = [Float](repeating: 0, count: positions * half)
        var sinTable = cosTable
        for p in 0..<positions {
            for i in 0..<half {
                let angle = Float(p) * inverseFrequency[i]
                cosTable[p * half + i] = cosf(angle)
                sinTable[p * half + i] = sinf(angle)
            }
        }
        cos = cosTable
        sin = sinTable
    }

    /// Rotates each head of `x` (T, heads·Dh) in place; row r is at position `firstPosition + r`.
    ///   x₁' = x₁·cos − x₂·sin,  x₂' = x₂·cos + x₁·sin   (x₁ = x[i], x₂ = x[i + Dh/2])
    func apply(to x: inout [Float], rows t: Int, heads: Int, firstPosition: Int) {
        let half = headDim / 2
        for r in 0..<t {
            let p = (firstPosition + r) * half
            for h in 0..<heads {
                let base = r * heads * headDim + h * headDim
                for i in 0..<half {
                    let x1 = x[base + i], x2 = x[base + i + half]
                    let c = cos[p + i], s = sin[p + i]
                    x[base + i] = x1 * c - x2 * s
                    x[base + i + half] = x2 * c + x1 * s
                }
            }
        }
    }
}
