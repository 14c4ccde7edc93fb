// Autoregressive generation: prefill the prompt once, then decode one token at a time against the
// KV cache, choosing each next token with a Sampler, until a stop token or the token budget.
import Tensor

extension Model {
    /// Generates up to `maxTokens` tokens after `prompt`. `onToken` is called with each new token as
    /// it is chosen (for streaming) and may return false to stop early. The stop token that ends
    /// generation is not included in the result.
    public func generate(prompt: [Int], maxTokens: Int, sampling: SamplingOptions = SamplingOptions(),
                         stopTokens: Set<Int> = [], onToken: (Int) -> Bool = { _ in true }) -> [Int] {
        precondition(!prompt.isEmpty, "generation needs a non-empty prompt")
        let budget = min(maxTokens, config.contextLength - prompt.count)
        guard budget > 0 else { return [] }
        // The workers stay awake for the whole generation (ParallelFor.swift).
        return keepingWorkersAwake {
            var cache = makeCache(capacity: prompt.count + budget)
            var sampler = Sampler(sampling)
            var logits = forward(prompt, cache: &cache)                  // (T, V): the last row predicts
            var lastRow = logits.shape[0] - 1
            var generated: [Int] = []
            while generated.count < budget {
                let v = config.vocabSize
                let next = logits.scalars.withUnsafeBufferPointer { all in
                    sampler.next(UnsafeBufferPointer(rebasing: all[(lastRow * v)..<((lastRow + 1) * v)]))
                }
                if stopTokens.contains(next) { break }
                generated.append(next)
                if !onToken(next) || generated.count == budget { break }
                logits = forward([next], cache: &cache)                   // (1, V)
                lastRow = 0
            }
            return generated
        }
    }
}
