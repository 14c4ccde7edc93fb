// Pins the public surface other modules and users call (Surgery, the CLI, the benchmarks): only
// `public` declarations here, through a plain import. If this file stops compiling, the API changed.
import Testing
import Tensor
import Llama
import TestSupport

@Suite struct LlamaPublicAPI {
    @Test func publicSurface() throws {
        // Load: one call for checkpoint, model and tokenizer.
        let loaded: LoadedModel = try LoadedModel(path: Fixtures.modelPath)
        let checkpoint: Checkpoint = loaded.checkpoint
        let _: (String, Checkpoint.Format, Config, [CheckpointTensorInfo]) =
            (checkpoint.path, checkpoint.format, checkpoint.config, checkpoint.tensors)
        let _: Tensor = try checkpoint.tensor(named: "model.norm.weight")
        let summary = ModelSummary(checkpoint)
        #expect(summary.totalParameters == 134_515_008)
        let stop: Set<Int> = loaded.stopTokens
        #expect(stop.contains(2))

        // Text
        let tokenizer: Tokenizer = loaded.tokenizer
        let ids: [Int] = tokenizer.encode("Hello world", addingSpecialTokens: false)
        #expect(try tokenizer.decode(ids) == "Hello world")
        var streaming: StreamingDecoder = tokenizer.makeStreamingDecoder(skippingSpecialTokens: true)
        _ = try streaming.append(ids[0])
        _ = streaming.finish()
        let chat: String = try tokenizer.chatTemplate().render([ChatMessage(.user, "Hi")])
        #expect(chat.contains("Hi"))

        // Model, cache, generation
        let model: Model = loaded.model
        let weights: Weights = model.weights
        let _: Model = model.replacingWeights(weights)
        var cache: KVCache = model.makeCache(capacity: 8)
        let logits: Tensor = model.forward(ids, cache: &cache)
        #expect(logits.shape == [ids.count, model.config.vocabSize] && cache.count == ids.count)
        let _: Tensor = weights.layers[0][LayerTensor.k]
        let _: [Int] = model.generate(prompt: ids, maxTokens: 2, sampling: SamplingOptions(temperature: 0), stopTokens: stop)

        // Evaluation: windows of a text, scores, a base kept for comparisons
        let text: TextWindows = try loaded.perplexityWindows(of: String(repeating: "Hello world. ", count: 20),
                                                             source: "test", window: 16, limit: 2)
        #expect(text.windows.count == 2 && text.window == 16 && text.tokenCount >= 32)
        let _: [[Int]] = perplexityWindows(ids, window: 2)
        let scores: [Score] = evaluate([model], windows: text.windows)
        let base = BaseEvaluation(model: model, windows: text.windows)
        let again: Score = base.compare(model)
        #expect(again.meanKL < 1e-9 && again.top1Agreement == 1 && scores[0].perplexity == base.score.perplexity)
        #expect(throws: EvaluationError.textShorterThanWindow(source: "short", tokens: 2, window: 16)) {
            try loaded.perplexityWindows(of: "Hello world", source: "short", window: 16)
        }
        let _: String = SelfText.cachePath(for: checkpoint)

        // Errors a caller can catch by type
        #expect(throws: CheckpointError.notFound(path: "/nonexistent")) { try Checkpoint.open("/nonexistent") }
        let _: [any Error.Type] = [GGUFError.self, SafetensorsError.self, FileAccessError.self, TokenizerError.self,
                                   ChatTemplateError.self, ExportError.self]
    }
}
