// The Llama forward pass (Hugging Face `LlamaForCausalLM`), in data-flow order: embedding,
// per layer RMSNorm → Q/K/V → RoPE → causal grouped-query attention (Attention.swift) → O →
// residual, RMSNorm → SwiGLU MLP → residual; final RMSNorm; output head. One implementation serves
// prefill (T tokens at once, GEMMs over the block) and decode (one token against the KV cache).
// A layer with K/V factors (LatentKV.swift) caches latents and runs LatentAttention.swift instead.
import Tensor

// T new tokens · S positions already cached · D model dim · H query heads · G kv heads ·
// Dh head dim · F MLP dim · V vocab

public final class Model: Sendable {
    public let config: Config
    public let weights: Weights
    private let rope: RoPETable

    public convenience init(config: Config, weights: Weights) {
        self.init(config: config, weights: weights,
                  rope: RoPETable(headDim: config.headDim, theta: config.ropeTheta, positions: config.contextLength))
    }

    private init(config: Config, weights: Weights, rope: RoPETable) {
        self.config = config
        self.weights = weights
        self.rope = rope
    }

    public convenience init(checkpoint: Checkpoint) throws {
        self.init(config: checkpoint.config, weights: try Weights(checkpoint: checkpoint))
    }

    /// A model with other weights (for example after surgery) and the same configuration; the
    /// RoPE tables are shared, not recomputed.
    public func replacingWeights(_ newWeights: Weights) -> Model {
        Model(config: config, weights: newWeights, rope: rope)
    }

    /// A cache for this model's layers: latents for the layers with K/V factors, keys and values
    /// for the others.
    public func makeCache(capacity: Int? = nil) -> KVCache {
        KVCache(config: config, capacity: capacity ?? config.contextLength, latentRanks: weights.latentRanks)
    }

    /// Logits (T, V) for `tokens` placed after the `cache.count` positions already in `cache`,
    /// which then holds them too. With an empty cache this is prefill. An `observer` receives each
    /// layer's attention and MLP inputs; without one nothing is copied or called.
    public func forward(_ tokens: [Int], cache: inout KVCache, observer: (any ForwardObserver)? = nil) -> Tensor {
        var logits = Tensor(shape: [0, config.vocabSize], scalars: [])
        forward(tokens, cache: &cache, observer: observer, into: &logits)
        return logits
    }

    /// `forward`, writing the logits into `logits` (made (T, V)). A buffer that already holds T·V
    /// values and is not shared is overwritten in place: perplexity scores window after window into
    /// one buffer instead of allocating (and page-faulting in) 100 MB of fresh logits each time.
    package func forward(_ tokens: [Int], cache: inout KVCache, observer: (any ForwardObserver)? = nil,
                         into logits: inout Tensor) {
        let c = config
        let t = tokens.count
        precondition(t > 0, "forward needs at least one token")
        precondition(tokens.allSatisfy { $0 >= 0 && $0 < c.vocabSize }, "token id outside the vocabulary")
        precondition(cache.count + t <= min(cache.capacity, c.contextLength),
                     "\(cache.count + t) positions exceed the context (\(min(cache.capacity, c.contextLength)))")
        let d = c.hiddenSize, qWidth = c.headCount * c.headDim, kvWidth = c.kvHeadCount * c.headDim
        let start = cache.count

        // h: the residual stream, (T, D) — row r is the embedding of tokens[r]
        var h = [Float](repeating: 0, count: t * d)
        h.withUnsafeMutableBufferPointer { hp in
            for (row, token) in tokens.enumerated() {
                weights.embedding.decodeRows(token, count: 1, into: hp.baseAddress! + row * d)
            }
        }
        var x = [Float](repeating: 0, count: t * d)
        var q = [Float](repeating: 0, count: t * qWidth)
        var k = [Float](repeating: 0, count: t * kvWidth)
        var v = [Float](repeating: 0, count: t * kvWidth)
        var attended = [Float](repeating: 0, count: t * qWidth)
        var gate = [Float](repeating: 0, count: t * c.intermediateSize)
        var up = [Float](repeating: 0, count: t * c.intermediateSize)
        var projected = [Float](repeating: 0, count: t * d)

        for (index, layer) in weights.layers.enumerated() {
            // Attention block: h += Attention(RMSNorm(h)) · Woᵀ
            rmsNorm(h, layer.inputNorm, epsilon: c.rmsNormEpsilon, rows: t, into: &x)
            observer?.observe(.attentionInput, layer: index, rows: t, width: d, activations: x)
            linear(x, rows: t, layer.q, into: &q)                 // (T, D) × (H·Dh, D)ᵀ → (T, H·Dh)
            rotate(&q, rows: t, heads: c.headCount, firstPosition: start)
            if let latent = layer.latentKV {
                let r = latent.rank
                var latents = [Float](repeating: 0, count: t * r)
                linear(x, rows: t, latent.down, into: &latents)   // c = x Aᵀ: (T, D) × (r, D)ᵀ → (T, r)
                cache.append(layer: index, latents: latents)      // cache rows S..<S+T ← c
                // softmax(q·RoPE(C B_kᵀ)ᵀ/√Dh, causal) · C B_vᵀ, per head (LatentAttention.swift)
                latentAttention(queries: q, rows: t, cached: start, latents: cache.latents[index], rank: r,
                                keyUp: latent.keyUp.scalars, valueUp: latent.valueUp.scalars,
                                heads: c.headCount, kvHeads: c.kvHeadCount, headDim: c.headDim, rope: rope, into: &attended)
            } else {
                linear(x, rows: t, layer.k, into: &k)             // (T, D) × (G·Dh, D)ᵀ → (T, G·Dh)
                linear(x, rows: t, layer.v, into: &v)             // (T, D) × (G·Dh, D)ᵀ → (T, G·Dh)
                rotate(&k, rows: t, heads: c.kvHeadCount, firstPosition: start)
                cache.append(layer: index, keys: k, values: v)    // cache rows S..<S+T ← k, v
                // softmax(q·Kᵀ/√Dh, causal) · V: (T, H·Dh) against (S+T, G·Dh) → (T, H·Dh)
                attention(queries: q, rows: t, cached: start, keys: cache.keys[index], values: cache.values[index],
                          heads: c.headCount, kvHeads: c.kvHeadCount, headDim: c.headDim, into: &attended)
            }
            linear(attended, rows: t, layer.o, into: &projected)  // (T, H·Dh) × (D, H·Dh)ᵀ → (T, D)
            add(projected, into: &h, rows: t)

            // MLP block: h += (SiLU(x·Wgᵀ) ⊙ x·Wuᵀ) · Wdᵀ with x = RMSNorm(h)
            rmsNorm(h, layer.postAttentionNorm, epsilon: c.rmsNormEpsilon, rows: t, into: &x)
            observer?.observe(.mlpInput, layer: index, rows: t, width: d, activations: x)
            linear(x, rows: t, layer.gate, into: &gate)           // (T, D) × (F, D)ᵀ → (T, F)
            linear(x, rows: t, layer.up, into: &up)               // (T, D) × (F, D)ᵀ → (T, F)
            swiGLU(gate: &gate, up: up, rows: t)                 // gate ← SiLU(gate) ⊙ up
            linear(gate, rows: t, layer.down, into: &projected)   // (T, F) × (D, F)ᵀ → (T, D)
            add(projected, into: &h, rows: t)
        }
        cache.advance(by: t)

        rmsNorm(h, weights.finalNorm, epsilon: c.rmsNormEpsilon, rows: t, into: &x)
        if logits.count == t * c.vocabSize {
            logits.shape = [t, c.vocabSize]
        } else {
            logits = Tensor(zeros: [t, c.vocabSize])
        }
        linear(x, rows: t, weights.head, into: &logits.scalars) // (T, D) × (V, D)ᵀ → (T, V)
    }

    /// Logits (T, V) of a fresh sequence: prefill with a cache sized to it.
    public func logits(_ tokens: [Int], observer: (any ForwardObserver)? = nil) -> Tensor {
        var cache = makeCache(capacity: tokens.count)
        return forward(tokens, cache: &cache, observer: observer)
    }

    /// `logits(_:observer:)` into a reused buffer (see `forward(_:cache:observer:into:)`).
    package func logits(_ tokens: [Int], observer: (any ForwardObserver)? = nil, into logits: inout Tensor) {
        var cache = makeCache(capacity: tokens.count)
        forward(tokens, cache: &cache, observer: observer, into: &logits)
    }

    // MARK: - Rotary position embedding

    /// Rotates each head of `x` (T, heads·Dh) in place; row r is at position `firstPosition + r`.
    private func rotate(_ x: inout [Float], rows t: Int, heads: Int, firstPosition: Int) {
        let width = heads * config.headDim
        x.withUnsafeMutableBufferPointer { xp in
            for r in 0..<t {
                applyRoPE(xp.baseAddress! + r * width, heads: heads, position: firstPosition + r, table: rope)
            }
        }
    }
}
