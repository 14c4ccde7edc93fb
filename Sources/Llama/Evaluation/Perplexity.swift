// Perplexity under protocol P1, and the comparison of other models against a base model on the
// same windows in the same pass: KL(base ‖ other) and top-1 agreement, without storing all logits.
//
// P1: tokenize the whole text without BOS/special tokens; cut consecutive non-overlapping windows of
// `window` tokens from the start (a shorter tail is dropped); in each window score the NLL of tokens
// 2…N given their prefix; ppl = exp(total NLL / scored tokens).
import Tensor
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The windows of P1 over a token sequence.
public func perplexityWindows(_ tokens: [Int], window: Int, limit: Int? = nil) -> [[Int]] {
    precondition(window >= 2, "a window needs at least 2 tokens")
    var windows: [[Int]] = []
    var start = 0
    while start + window <= tokens.count, windows.count < (limit ?? Int.max) {
        windows.append(Array(tokens[start..<(start + window)]))
        start += window
    }
    return windows
}

/// What one model scored over the windows.
public struct Score: Sendable, Equatable, Codable {
    /// Σ −log p(token | prefix) over the scored positions (natural log).
    public var totalNLL: Double = 0
    public var scoredTokens: Int = 0
    /// Σ KL(base ‖ this) over the scored positions (0 for the base itself).
    public var totalKL: Double = 0
    /// Positions where this model's most likely next token equals the base model's.
    public var agreeingTop1: Int = 0

    public init() {}

    public var perplexity: Double { exp(totalNLL / Double(max(scoredTokens, 1))) }
    public var meanNLL: Double { totalNLL / Double(max(scoredTokens, 1)) }
    public var meanKL: Double { totalKL / Double(max(scoredTokens, 1)) }
    public var top1Agreement: Double { Double(agreeingTop1) / Double(max(scoredTokens, 1)) }
}

/// Scores `models[0]` (the base) and every other model on the same windows. `progress` is called
/// after each window with (windows done, windows in all). Per-position values are computed in
/// Float by Tensor's kernels and summed in Double, in position order (the result does not depend
/// on the number of threads).
public func evaluate(_ models: [Model], windows: [[Int]],
                     progress: (Int, Int) -> Void = { _, _ in }) -> [Score] {
    precondition(!models.isEmpty, "evaluate needs a base model")
    var scores = [Score](repeating: Score(), count: models.count)
    let v = models[0].config.vocabSize
    for (done, window) in windows.enumerated() {
        let positions = window.count - 1                              // position p predicts window[p + 1]
        let logits = models.map { $0.logits(window) }                 // each (T, V)
        var baseTop = [Int](repeating: 0, count: positions)
        for (index, other) in logits.enumerated() {
            let nll = UnsafeMutableBufferPointer<Double>.allocate(capacity: positions)
            let kl = UnsafeMutableBufferPointer<Double>.allocate(capacity: positions)
            let top = UnsafeMutableBufferPointer<Int>.allocate(capacity: positions)
            defer { nll.deallocate(); kl.deallocate(); top.deallocate() }
            kl.initialize(repeating: 0)
            logits[0].scalars.withUnsafeBufferPointer { basePointer in
                other.scalars.withUnsafeBufferPointer { otherPointer in
                    let base = SharedPointer(readOnly: basePointer.baseAddress!)
                    let rows = SharedPointer(readOnly: otherPointer.baseAddress!)
                    let nllOut = SharedPointer(nll.baseAddress!), klOut = SharedPointer(kl.baseAddress!)
                    let topOut = SharedPointer(top.baseAddress!)
                    let chunk = 32
                    parallelFor((positions + chunk - 1) / chunk) { c in
                        for p in (c * chunk)..<min(positions, (c + 1) * chunk) {
                            let row = rows.base + p * v
                            nllOut.base[p] = Double(negativeLogLikelihood(logits: row, count: v, target: window[p + 1]))
                            if index > 0 {
                                // KL(base ‖ other) = Σ_v p_base(v) (log p_base(v) − log p_other(v))
                                klOut.base[p] = Double(klDivergence(logitsP: base.base + p * v, logitsQ: row, count: v))
                            }
                            topOut.base[p] = argmax(UnsafeBufferPointer(start: row, count: v))
                        }
                    }
                }
            }
            if index == 0 { baseTop = Array(top) }
            for p in 0..<positions {
                scores[index].totalNLL += nll[p]
                scores[index].totalKL += kl[p]
                if top[p] == baseTop[p] { scores[index].agreeingTop1 += 1 }
            }
            scores[index].scoredTokens += positions
        }
        progress(done + 1, windows.count)
    }
    return scores
}
