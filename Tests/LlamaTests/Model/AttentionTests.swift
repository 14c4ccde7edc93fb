// The blocked attention against its scalar twin (`attentionReference`) over a sweep of query rows,
// cached positions, head groupings and head dims; the causal mask (a future key/value row changes
// no earlier output); and chunked prefill of the tiny model against one prefill. Decode one token at
// a time against full prefill is `TinyForwardTests.decodeEqualsFullPrefill`.
import Testing
import Llama
import Tensor
import TestSupport

/// max |Δ| ≤ 1e-5 × the largest |output| of the case. Same sums in another order (blocked GEMMs for
/// q·Kᵀ and P·V, a SIMD softmax whose `exp` is within 2 ulp of libm's), so the two differ by a few
/// float32 roundings of the scores and of the weighted sums: measured at most 1.4e-6 relative (T 1
/// after S 300, Dh 64, where averaging 301 values makes the outputs small) and 4.5e-7 absolute. One
/// key too many or too few moves an output by about |v|/(S+T), ~10⁻³ at the longest; a wrong head or
/// offset by more.
private let attentionRelative: Float = 1e-5

/// H query heads sharing G key/value heads.
struct HeadGrouping: Sendable, CustomTestStringConvertible {
    let heads: Int, kvHeads: Int
    var testDescription: String { "H \(heads) / G \(kvHeads)" }
}

/// One attention problem with random inputs: T query rows after S cached positions. Keys and values
/// hold S+T rows plus `unusedRows` of NaN past them, as a KV cache's unfilled capacity: attention
/// must never read those. The output starts as NaN, so every entry must be written.
private struct AttentionProblem {
    let t, s, heads, kvHeads, headDim: Int
    var queries, keys, values: [Float]
    static let unusedRows = 3

    init(t: Int, s: Int, grouping: HeadGrouping, headDim: Int, seed: UInt64) {
        self.t = t; self.s = s; heads = grouping.heads; kvHeads = grouping.kvHeads; self.headDim = headDim
        var rng = Xoshiro256StarStar(seed: seed)
        // Queries ×4 so the scores spread over a few units (σ ≈ 4/3): the softmax is neither flat nor one-hot.
        queries = random(t * heads * headDim, scale: 4, using: &rng)
        let kvWidth = kvHeads * headDim, padding = [Float](repeating: .nan, count: Self.unusedRows * kvWidth)
        keys = random((s + t) * kvWidth, scale: 1, using: &rng) + padding
        values = random((s + t) * kvWidth, scale: 1, using: &rng) + padding
    }

    func run(reference: Bool) -> [Float] {
        var out = [Float](repeating: .nan, count: t * heads * headDim)
        if reference {
            attentionReference(queries: queries, rows: t, cached: s, keys: keys, values: values,
                               heads: heads, kvHeads: kvHeads, headDim: headDim, into: &out)
        } else {
            attention(queries: queries, rows: t, cached: s, keys: keys, values: values,
                      heads: heads, kvHeads: kvHeads, headDim: headDim, into: &out)
        }
        return out
    }

    /// Overwrites key and value row `row` (every kv head) with other random values.
    mutating func replaceRow(_ row: Int, seed: UInt64) {
        var rng = Xoshiro256StarStar(seed: seed)
        let kvWidth = kvHeads * headDim
        for c in 0..<kvWidth {
            keys[row * kvWidth + c] = Float.random(in: -8..<8, using: &rng)
            values[row * kvWidth + c] = Float.random(in: -8..<8, using: &rng)
        }
    }
}

/// `count` values uniform in [-scale, scale) from the project's generator.
private func random(_ count: Int, scale: Float, using rng: inout Xoshiro256StarStar) -> [Float] {
    (0..<count).map { _ in Float.random(in: -1..<1, using: &rng) * scale }
}

private func maxAbs(_ x: [Float]) -> Float { x.reduce(0) { max($0, abs($1)) } }

@Suite struct AttentionTests {
    static let groupings = [HeadGrouping(heads: 1, kvHeads: 1), HeadGrouping(heads: 4, kvHeads: 1),
                            HeadGrouping(heads: 9, kvHeads: 3), HeadGrouping(heads: 8, kvHeads: 8)]

    /// Every T in {1, 2, 7, 33, 130} (one row, a partial block, just past one block, several blocks)
    /// after every S in {0, 1, 17, 300} cached positions.
    @Test(arguments: groupings, [8, 64])
    func matchesReference(grouping: HeadGrouping, headDim: Int) {
        for t in [1, 2, 7, 33, 130] {
            for s in [0, 1, 17, 300] {
                let problem = AttentionProblem(t: t, s: s, grouping: grouping, headDim: headDim,
                                               seed: UInt64(1000 * t + s))
                let expected = problem.run(reference: true)
                let got = problem.run(reference: false)
                let worst = zip(got, expected).reduce(Float(0)) { max($0, abs($1.0 - $1.1)) }
                // `!(… <= …)` also fails on NaN (an unwritten output or a read past S+T).
                #expect(!expected.contains { $0.isNaN } && worst <= attentionRelative * maxAbs(expected),
                        "T \(t) S \(s): max |Δ| \(worst), largest output \(maxAbs(expected))")
            }
        }
    }

    /// Changing the key and value at position S + 20 leaves the outputs of query rows 0…19 bit for bit
    /// unchanged (the fast version gives masked keys an exact 0 weight, even in the same block of 32
    /// rows), and changes row 20, which sees it.
    @Test(arguments: [false, true])
    func maskIsCausal(reference: Bool) {
        let grouping = HeadGrouping(heads: 9, kvHeads: 3)
        let t = 40, s = 17, future = 20, dh = 64
        var problem = AttentionProblem(t: t, s: s, grouping: grouping, headDim: dh, seed: 42)
        let before = problem.run(reference: reference)
        problem.replaceRow(s + future, seed: 43)
        let after = problem.run(reference: reference)
        let width = grouping.heads * dh
        #expect(before[0..<(future * width)] == after[0..<(future * width)])
        #expect(before[(future * width)..<((future + 1) * width)] != after[(future * width)..<((future + 1) * width)])
    }

    /// The tiny model's 40-token sequence fed in chunks of 3, 34 and 3 tokens (the middle one spans two
    /// blocks of query rows on a non-empty cache) gives the logits of one prefill.
    @Test func chunkedPrefillEqualsOnePrefill() throws {
        let model = try Model(checkpoint: Checkpoint.open(Fixtures.path("tiny/f32")))
        let ids = try Fixtures.int32s("model/tiny_prefill_2_ids.i32").map(Int.init)
        try #require(ids.count == 40)
        let full = model.logits(ids).scalars
        var cache = model.makeCache(capacity: ids.count)
        var chunked: [Float] = []
        for range in [0..<3, 3..<37, 37..<40] { chunked += model.forward(Array(ids[range]), cache: &cache).scalars }
        #expect(cache.count == ids.count)
        let worst = zip(chunked, full).reduce(Float(0)) { max($0, abs($1.0 - $1.1)) }
        #expect(chunked.count == full.count && worst <= decodeVersusPrefillMaxAbs, "max |Δ| \(worst)")
    }
}
