// Results are identical for any thread count (`surgery --threads N`): the real model's logits at
// 1 and at 2 threads are the same bits. Every parallel loop writes disjoint outputs and each output's
// summation order does not depend on the threads (Tensor/README.md), so this holds exactly.
import Testing
import Tensor
import Llama
import TestSupport

@Suite struct ThreadCountForwardTests {
    @Test func forwardPassIsBitIdenticalAtOneAndTwoThreads() throws {
        let model = try realModel().model
        let ids = try realModel().tokenizer.encode("The capital of France is Paris, and the capital of Italy is", addingSpecialTokens: false)
        func logits(threads: Int) -> [UInt32] {
            limitThreads(to: threads)
            defer { limitThreads(to: activeProcessorCount) }
            var cache = model.makeCache(capacity: ids.count + 1)
            var out = model.forward(ids, cache: &cache).scalars.map(\.bitPattern)      // prefill
            out += model.forward([ids[0]], cache: &cache).scalars.map(\.bitPattern)     // one decode step
            return out
        }
        let one = logits(threads: 1), two = logits(threads: 2)
        #expect(one.count == (ids.count + 1) * model.config.vocabSize)
        #expect(elementDifference(one, two) == nil)
    }
}
