// The latent attention against its scalar twin (`latentAttentionReference`: rebuild K and V, then
// `attentionReference`) over query rows, cached positions, head groupings, head dims and latent
// ranks; and the tiny model run from a latent cache against the same model with the dense
// reconstruction B A, for prefill and decode.
import Testing
import Llama
import Tensor
import TestSupport

/// max |Δ| ≤ 1e-5 × the largest |output|, as for `attention`: the same sums in another order (GEMMs
/// for C B_kᵀ, q·Kᵀ, P·C and (P C)·B_vᵀ instead of the reference's loops, and V's up-projection after
/// the weighted sum instead of before), measured at most 1.3e-6 relative over this sweep.
private let latentRelative: Float = 1e-5

/// The bound for the latent model against the dense reconstruction: the same floating-point
/// work in another order (x·Aᵀ then ·B_kᵀ instead of x·(B_k A)ᵀ).
private let latentModelMaxAbs: Float = 1e-4

private struct LatentProblem {
    let t, s, heads, kvHeads, headDim, rank: Int
    let queries, latents, keyUp, valueUp: [Float]
    let rope: RoPETable
    static let unusedRows = 3

    init(t: Int, s: Int, heads: Int, kvHeads: Int, headDim: Int, rank: Int, seed: UInt64) {
        (self.t, self.s, self.heads, self.kvHeads, self.headDim, self.rank) = (t, s, heads, kvHeads, headDim, rank)
        var rng = Xoshiro256StarStar(seed: seed)
        func random(_ count: Int, _ scale: Float) -> [Float] { (0..<count).map { _ in Float.random(in: -1..<1, using: &rng) * scale } }
        queries = random(t * heads * headDim, 4)
        // Latents past S+T are NaN (a cache's unfilled capacity): never read.
        latents = random((s + t) * rank, 1) + [Float](repeating: .nan, count: Self.unusedRows * rank)
        // B scaled by 1/√r keeps keys and values O(1) at every rank.
        let scale = 1 / Float(rank).squareRoot()
        keyUp = random(kvHeads * headDim * rank, 2 * scale)
        valueUp = random(kvHeads * headDim * rank, 2 * scale)
        rope = RoPETable(headDim: headDim, theta: 10_000, positions: s + t + Self.unusedRows)
    }

    func run(reference: Bool) -> [Float] {
        var out = [Float](repeating: .nan, count: t * heads * headDim)
        if reference {
            latentAttentionReference(queries: queries, rows: t, cached: s, latents: latents, rank: rank,
                                     keyUp: keyUp, valueUp: valueUp, heads: heads, kvHeads: kvHeads,
                                     headDim: headDim, rope: rope, into: &out)
        } else {
            latentAttention(queries: queries, rows: t, cached: s, latents: latents, rank: rank,
                            keyUp: keyUp, valueUp: valueUp, heads: heads, kvHeads: kvHeads,
                            headDim: headDim, rope: rope, into: &out)
        }
        return out
    }
}

private func maxAbs(_ x: [Float]) -> Float { x.reduce(0) { max($0, abs($1)) } }

@Suite struct LatentAttentionTests {
    /// T in {1, 7, 40} (a decode step, a partial block, past one block of 32) after S in {0, 5, 150},
    /// for H/G 1/1, 4/2 and 9/3, Dh 8 and 64, r 1, 13 and 96 (below and above G·Dh at Dh 8).
    @Test(arguments: [(1, 1), (4, 2), (9, 3)], [8, 64])
    func matchesReference(grouping: (Int, Int), headDim: Int) {
        for rank in [1, 13, 96] {
            for t in [1, 7, 40] {
                for s in [0, 5, 150] {
                    let problem = LatentProblem(t: t, s: s, heads: grouping.0, kvHeads: grouping.1, headDim: headDim,
                                                rank: rank, seed: UInt64(100_000 * rank + 1000 * t + s))
                    let expected = problem.run(reference: true)
                    let got = problem.run(reference: false)
                    let worst = zip(got, expected).reduce(Float(0)) { max($0, abs($1.0 - $1.1)) }
                    #expect(!expected.contains { $0.isNaN } && worst <= latentRelative * maxAbs(expected),
                            "r \(rank) T \(t) S \(s): max |Δ| \(worst), largest output \(maxAbs(expected))")
                }
            }
        }
    }
}

// MARK: - The tiny model from a latent cache

/// The tiny model (2 layers, D 64, G·Dh 32) with K and V of `layers` replaced by random factors of
/// rank `rank` (the other layers dense): latent weights, and the same with the dense B A.
private func tinyWithLatents(rank: Int, layers: [Int]) throws -> (latent: Model, dense: Model) {
    let base = try Model(checkpoint: Checkpoint.open(Fixtures.path("tiny/f32")))
    var weights = base.weights
    var rng = Xoshiro256StarStar(seed: UInt64(rank))
    func random(_ shape: [Int], _ scale: Float) -> Tensor {
        Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in Float.random(in: -1..<1, using: &rng) * scale })
    }
    for layer in layers {
        let d = base.config.hiddenSize, kvWidth = base.config.kvHeadCount * base.config.headDim
        // Entries of K x and V x about as large as the fixture's own (0.05·N(0,1) weights).
        let factors = LatentKV(down: random([rank, d], 0.3), keyUp: random([kvWidth, rank], 0.3 / Float(rank).squareRoot()),
                               valueUp: random([kvWidth, rank], 0.3 / Float(rank).squareRoot()))
        weights.layers[layer].k = WeightMatrix(factors.denseKeys)
        weights.layers[layer].v = WeightMatrix(factors.denseValues)
        weights.layers[layer].latentKV = factors
    }
    return (base.replacingWeights(weights), base.replacingWeights(weights.droppingLatentKV()))
}

private func maxAbsDifference(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count)
    return zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
}

@Suite struct LatentModelTests {
    /// Prefill of the 40-token fixture sequence: latent logits equal the dense reconstruction's within
    /// 1e-4, with one latent layer and with both.
    @Test(arguments: [[0], [0, 1]], [5, 24, 64])
    func prefillEqualsDenseReconstruction(layers: [Int], rank: Int) throws {
        let (latent, dense) = try tinyWithLatents(rank: rank, layers: layers)
        let ids = try Fixtures.int32s("model/tiny_prefill_2_ids.i32").map(Int.init)
        let worst = maxAbsDifference(latent.logits(ids).scalars, dense.logits(ids).scalars)
        #expect(worst <= latentModelMaxAbs, "max |Δ| \(worst)")
    }

    /// Decoding token by token from the latent cache gives the latent prefill's logits, and the dense
    /// reconstruction's decode.
    @Test func decodeEqualsPrefill() throws {
        let (latent, dense) = try tinyWithLatents(rank: 24, layers: [0, 1])
        let ids = try Fixtures.int32s("model/tiny_prefill_2_ids.i32").map(Int.init)
        let prefill = latent.logits(ids).scalars
        var cache = latent.makeCache(capacity: ids.count)
        var denseCache = dense.makeCache(capacity: ids.count)
        var decoded: [Float] = [], denseDecoded: [Float] = []
        for id in ids {
            decoded += latent.forward([id], cache: &cache).scalars
            denseDecoded += dense.forward([id], cache: &denseCache).scalars
        }
        #expect(maxAbsDifference(decoded, prefill) <= latentModelMaxAbs)
        #expect(maxAbsDifference(decoded, denseDecoded) <= latentModelMaxAbs)
    }

    /// The latent cache holds r values per position per latent layer, the dense one 2·G·Dh, counted
    /// from the buffers.
    @Test func cacheHoldsLatents() throws {
        let (latent, dense) = try tinyWithLatents(rank: 24, layers: [0])
        let cache = latent.makeCache(capacity: 100), denseCache = dense.makeCache(capacity: 100)
        #expect(denseCache.allocatedBytes == 100 * 2 * (2 * 32) * 4)
        #expect(cache.allocatedBytes == 100 * (24 + 2 * 32) * 4)
        #expect(cache.bytesPerPosition == (24 + 2 * 32) * 4)
    }

    /// Greedy generation from the latent runtime gives the dense reconstruction's tokens.
    @Test func generationEqualsDenseReconstruction() throws {
        let (latent, dense) = try tinyWithLatents(rank: 24, layers: [0, 1])
        let prompt = [1, 17, 42, 5]
        #expect(latent.generate(prompt: prompt, maxTokens: 30) == dense.generate(prompt: prompt, maxTokens: 30))
    }
}
