// The fast BPE merge loop (heap + linked list) equals its definition (repeated leftmost-best scan).
import Testing
import Tensor
import Llama

@Suite struct BPETests {
    /// Random merge tables over a small alphabet with many equal priorities, so that the leftmost rule
    /// decides often; words long enough for merges to cascade.
    @Test func heapEqualsReference() {
        var rng = Xoshiro256StarStar(seed: 7)
        for trial in 0..<300 {
            let alphabet = Int32.random(in: 2...6, using: &rng)
            var table = MergeTable()
            var next = alphabet
            for _ in 0..<Int.random(in: 1...40, using: &rng) {
                let l = Int32.random(in: 0..<next, using: &rng), r = Int32.random(in: 0..<next, using: &rng)
                table.add(left: l, right: r, priority: Float(Int.random(in: 0...5, using: &rng)), result: next)
                next += 1
            }
            let word = (0..<Int.random(in: 0...64, using: &rng)).map { _ in Int32.random(in: 0..<alphabet, using: &rng) }
            #expect(applyMerges(word, table) == applyMergesReference(word, table), "trial \(trial)")
        }
    }

    /// "aaaa" with the single merge a+a: the leftmost pair goes first, then the new pair.
    @Test func leftmostPairMergesFirst() {
        var table = MergeTable()
        table.add(left: 0, right: 0, priority: 0, result: 1)
        #expect(applyMerges([0, 0, 0], table) == [1, 0])
        #expect(applyMergesReference([0, 0, 0], table) == [1, 0])
        table.add(left: 1, right: 1, priority: 1, result: 2)
        #expect(applyMerges([0, 0, 0, 0], table) == [2])
    }
}
