// Byte-pair encoding: the merge step shared by both tokenizer kinds. Sennrich, Haddow & Birch (2016),
// "Neural Machine Translation of Rare Words with Subword Units"; merge order as in Hugging Face
// tokenizers (models/bpe/word.rs) and sentencepiece (bpe_model.cc).
//
// A word starts as a sequence of symbol ids (bytes, or characters). While some adjacent pair (a, b) has a
// merge, the pair with the best priority is replaced by its merged token — the leftmost one on ties.
// Priority is the merge's rank in the merges list (GPT-2, Hugging Face `tokenizer.json`) or the negated
// score of the merged piece (sentencepiece, GGUF "llama" vocabularies): lower merges first.

// MARK: - Merge table

/// Every pair of token ids that merges, with the merge's priority (lower first) and the merged token.
package struct MergeTable: Sendable {
    package struct Merge: Sendable, Equatable {
        /// Rank in the merges list, or −score of the merged piece. Float holds ranks exactly up to 2²⁴.
        package var priority: Float
        package var result: Int32
    }

    package init() {}

    private var merges: [UInt64: Merge] = [:]

    package var count: Int { merges.count }

    private static func key(_ left: Int32, _ right: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))
    }

    /// Adds a merge; a later entry for the same pair replaces an earlier one (as Hugging Face's map does).
    package mutating func add(left: Int32, right: Int32, priority: Float, result: Int32) {
        merges[Self.key(left, right)] = Merge(priority: priority, result: result)
    }

    package func merge(_ left: Int32, _ right: Int32) -> Merge? {
        merges[Self.key(left, right)]
    }
}

// MARK: - Reference: the definition, O(n²)

/// Merges until no adjacent pair has a merge, always taking the best priority, leftmost on ties.
/// This is the definition `applyMerges` must equal; tests compare the two.
package func applyMergesReference(_ symbols: [Int32], _ table: MergeTable) -> [Int32] {
    var word = symbols
    while word.count > 1 {
        var best: (index: Int, merge: MergeTable.Merge)? = nil
        for i in 0..<(word.count - 1) {
            if let m = table.merge(word[i], word[i + 1]), m.priority < (best?.merge.priority ?? .infinity) {
                best = (i, m)
            }
        }
        guard let (i, m) = best else { break }
        word[i] = m.result
        word.remove(at: i + 1)
    }
    return word
}

// MARK: - Fast: a heap of candidate pairs over a linked list, O(n log n)

/// Equal to `applyMergesReference`. Symbols live in a doubly linked list indexed by their first
/// position in the word; candidate pairs wait in a min-heap ordered by (priority, position). A popped
/// pair is stale if either side has changed since it was pushed, and is then dropped.
package func applyMerges(_ symbols: [Int32], _ table: MergeTable) -> [Int32] {
    let n = symbols.count
    if n < 2 { return symbols }
    var ids = symbols                       // ids[i]: the token at position i, valid while alive
    var next = [Int32](unsafeUninitializedCapacity: n) { b, c in for i in 0..<n { b[i] = Int32(i + 1) }; c = n }
    var prev = [Int32](unsafeUninitializedCapacity: n) { b, c in for i in 0..<n { b[i] = Int32(i - 1) }; c = n }
    next[n - 1] = -1
    var alive = [Bool](repeating: true, count: n)

    var heap = PairHeap()
    func push(_ i: Int32) {
        let j = next[Int(i)]
        guard j >= 0, let m = table.merge(ids[Int(i)], ids[Int(j)]) else { return }
        heap.push(.init(priority: m.priority, position: i, left: ids[Int(i)], right: ids[Int(j)], result: m.result))
    }
    for i in 0..<(n - 1) { push(Int32(i)) }

    while let c = heap.pop() {
        let i = Int(c.position)
        guard alive[i], ids[i] == c.left else { continue }
        let j = Int(next[i])
        guard j >= 0, ids[j] == c.right else { continue }
        // Merge j into i: (…, i, j, k, …) → (…, i', k, …)
        ids[i] = c.result
        alive[j] = false
        let k = next[j]
        next[i] = k
        if k >= 0 { prev[Int(k)] = Int32(i) }
        if prev[i] >= 0 { push(prev[i]) }
        push(Int32(i))
    }

    var out: [Int32] = []
    out.reserveCapacity(n)
    var i: Int32 = 0
    while i >= 0 { out.append(ids[Int(i)]); i = next[Int(i)] }
    return out
}

/// A binary min-heap of candidate merges, ordered by (priority, position).
private struct PairHeap {
    struct Candidate {
        var priority: Float
        var position: Int32
        var left: Int32
        var right: Int32
        var result: Int32

        static func < (a: Candidate, b: Candidate) -> Bool {
            a.priority < b.priority || (a.priority == b.priority && a.position < b.position)
        }
    }

    private var items: [Candidate] = []

    mutating func push(_ c: Candidate) {
        items.append(c)
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard items[child] < items[parent] else { break }
            items.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> Candidate? {
        guard let top = items.first else { return nil }
        let last = items.removeLast()
        if items.isEmpty { return top }
        items[0] = last
        var parent = 0
        while true {
            let l = 2 * parent + 1, r = l + 1
            var smallest = parent
            if l < items.count && items[l] < items[smallest] { smallest = l }
            if r < items.count && items[r] < items[smallest] { smallest = r }
            if smallest == parent { break }
            items.swapAt(parent, smallest)
            parent = smallest
        }
        return top
    }
}
