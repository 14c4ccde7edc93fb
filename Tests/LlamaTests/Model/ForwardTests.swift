// The forward pass against transformers (Tools/reference/model.py → Tests/Fixtures/model): the
// tiny fixture model's logits (prefill and KV-cache decode), and SmolLM2's logits, greedy
// continuation and P1 perplexity. Invariants: decode with the cache equals full prefill.
import Foundation
import Testing
import Llama
import Tensor
import TestSupport

/// Two small float32 layers: transformers' own float32 and float64 runs differ by ≤ 5.7e-7.
let tinyLogitsMaxAbs: Float = 1e-5
/// 30 float32 layers, summation order differs from PyTorch's; transformers' float32 vs float64
/// logits differ by 4e-5 / 1e-4, so 10× that leaves room for another GEMM blocking.
let smolLogitsMaxAbs: Float = 1e-3
/// The bound; float32 vs float64 in transformers move it by 2.5e-8 relative.
let perplexityRelative = 1e-3
/// Decode and prefill are the same arithmetic in another order.
let decodeVersusPrefillMaxAbs: Float = 1e-4

private func maxAbsDifference(_ a: ArraySlice<Float>, _ b: ArraySlice<Float>) -> Float {
    precondition(a.count == b.count)
    return zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
}

private func json(_ name: String) throws -> [String: Any] {
    try #require(try Fixtures.json(name) as? [String: Any])
}

@Suite struct TinyForwardTests {
    let model: Model
    init() throws {
        model = try Model(checkpoint: Checkpoint.open(Fixtures.path("tiny/f32")))
    }

    @Test(arguments: 0..<3) func prefillMatchesTransformers(sequence: Int) throws {
        let ids = try Fixtures.int32s("model/tiny_prefill_\(sequence)_ids.i32").map(Int.init)
        let expected = try Fixtures.floats("model/tiny_prefill_\(sequence)_logits.f32")
        let logits = model.logits(ids)
        #expect(logits.shape == [ids.count, 96])
        #expect(maxAbsDifference(logits.scalars[...], expected[...]) <= tinyLogitsMaxAbs)
    }

    @Test func decodeWithCacheMatchesTransformers() throws {
        let manifest = try json("model/tiny.json")
        let decode = try #require(manifest["decode"] as? [String: Any])
        let ids = try #require(decode["ids"] as? [Int])
        let prefillCount = try #require(decode["prefill_tokens"] as? Int)
        let expected = try Fixtures.floats("model/tiny_decode_logits.f32")
        var cache = model.makeCache(capacity: ids.count)
        let first = model.forward(Array(ids[0..<prefillCount]), cache: &cache)
        var rows = first.scalars
        for id in ids[prefillCount...] { rows += model.forward([id], cache: &cache).scalars }
        #expect(cache.count == ids.count)
        #expect(maxAbsDifference(rows[...], expected[...]) <= tinyLogitsMaxAbs)
    }

    @Test func tiedEmbeddingsMatchTransformers() throws {
        let tied = try Model(checkpoint: Checkpoint.open(Fixtures.path("tiny/tied")))
        let manifest = try json("model/tiny.json")
        let ids = try #require((manifest["tied_prefill"] as? [String: Any])?["ids"] as? [Int])
        let expected = try Fixtures.floats("model/tiny_tied_prefill_logits.f32")
        #expect(tied.weights.outputHead == nil)
        #expect(maxAbsDifference(tied.logits(ids).scalars[...], expected[...]) <= tinyLogitsMaxAbs)
    }

    /// Invariant: one token at a time against the cache equals recomputing the whole prefix.
    @Test func decodeEqualsFullPrefill() throws {
        let ids = try Fixtures.int32s("model/tiny_prefill_2_ids.i32").map(Int.init)
        let full = model.logits(ids)
        var cache = model.makeCache(capacity: ids.count)
        var stepped: [Float] = []
        for id in ids { stepped += model.forward([id], cache: &cache).scalars }
        #expect(maxAbsDifference(stepped[...], full.scalars[...]) <= decodeVersusPrefillMaxAbs)
    }
}

@Suite struct SmolLM2ForwardTests {
    @Test(arguments: ["plain", "chat"]) func logitsMatchTransformers(prompt name: String) throws {
        let real = try realModel()
        let manifest = try json("model/smollm2.json")
        let prompts = try #require((manifest["logits"] as? [String: Any])?["prompts"] as? [[String: Any]])
        let prompt = try #require(prompts.first { $0["name"] as? String == name })
        let ids = try #require(prompt["ids"] as? [Int])
        let positions = try #require(prompt["positions"] as? [Int])
        let expected = try Fixtures.floats("model/smollm2_\(name)_logits.f32")
        // The tokenizer must give transformers' ids for the same text (exact).
        if name == "plain" {
            #expect(real.tokenizer.encode(try #require(prompt["text"] as? String), addingSpecialTokens: false) == ids)
        }
        let logits = real.model.logits(ids)
        let v = real.model.config.vocabSize
        for (row, position) in positions.enumerated() {
            let ours = logits.scalars[(position * v)..<((position + 1) * v)]
            let theirs = expected[(row * v)..<((row + 1) * v)]
            #expect(maxAbsDifference(ours, theirs) <= smolLogitsMaxAbs, "position \(position)")
        }
        // argmax at every position, except where transformers' own top-2 margin is below 1e-2.
        let argmaxes = try #require(prompt["argmax_every_position"] as? [Int])
        let margins = try #require(prompt["top1_minus_top2_every_position"] as? [Double])
        for position in 0..<ids.count where margins[position] > 1e-2 {
            let top = logits.scalars.withUnsafeBufferPointer {
                argmax(UnsafeBufferPointer(rebasing: $0[(position * v)..<((position + 1) * v)]))
            }
            #expect(top == argmaxes[position], "position \(position)")
        }
    }

    @Test func greedyContinuationMatchesTransformers() throws {
        let real = try realModel()
        let greedy = try #require(try json("model/smollm2.json")["greedy"] as? [String: Any])
        let prompt = try #require(greedy["prompt"] as? String)
        let promptIDs = try #require(greedy["prompt_ids"] as? [Int])
        let expected = try #require(greedy["generated_ids"] as? [Int])
        let ids = real.tokenizer.encode(prompt)
        #expect(ids == promptIDs)
        let eos = Set(real.model.config.eosTokenIDs)
        var stoppedAt: Int?
        let generated = real.model.generate(prompt: ids, maxTokens: 40, stopTokens: eos) { _ in true }
        if generated.count < 40 { stoppedAt = real.model.config.eosTokenIDs.first }
        // transformers' generate keeps the EOS it stopped at; ours reports it by stopping.
        #expect(greedy["stopped_at_eos"] as? Bool == true)
        #expect(generated + [stoppedAt].compactMap { $0 } == expected)
        #expect(try real.tokenizer.decode(promptIDs + expected) == greedy["full_text"] as? String)
    }

    /// P1 on the first 16 windows of WikiText-2: the same token ids, and perplexity within 0.1%.
    @Test func perplexityMatchesTransformers() throws {
        let real = try realModel()
        let reference = try #require(try json("model/smollm2.json")["perplexity"] as? [String: Any])
        let text = try String(contentsOfFile: Fixtures.sharedData + "/wikitext-2-test.txt", encoding: .utf8)
        let tokens = real.tokenizer.encode(text, addingSpecialTokens: false)
        let windows = perplexityWindows(tokens, window: 512, limit: 16)
        let expectedIDs = try Fixtures.int32s("model/wikitext_p1_16_ids.i32").map(Int.init)
        #expect(windows.flatMap { $0 } == expectedIDs)
        let score = evaluate([real.model], windows: windows)[0]
        let expected = try #require(reference["perplexity"] as? Double)
        #expect(score.scoredTokens == reference["scored_tokens"] as? Int)
        #expect(abs(score.perplexity - expected) / expected <= perplexityRelative,
                "perplexity \(score.perplexity), transformers \(expected)")
    }
}
