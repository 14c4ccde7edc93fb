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
/// after each window with (windows done, windows in all).
public func evaluate(_ models: [Model], windows: [[Int]],
                     progress: (Int, Int) -> Void = { _, _ in }) -> [Score] {
    precondition(!models.isEmpty, "evaluate needs a base model")
    var scores = [Score](repeating: Score(), count: models.count)
    let v = models[0].config.vocabSize
    var baseLog = [Double](repeating: 0, count: v)
    var otherLog = [Double](repeating: 0, count: v)
    for (done, window) in windows.enumerated() {
        let base = models[0].logits(window)                          // (T, V)
        let others = models.dropFirst().map { $0.logits(window) }
        for position in 0..<(window.count - 1) {
            let next = window[position + 1]
            base.scalars.withUnsafeBufferPointer { all in
                let row = UnsafeBufferPointer(rebasing: all[(position * v)..<((position + 1) * v)])
                logSoftmax(row, into: &baseLog)
                scores[0].totalNLL -= baseLog[next]
                scores[0].scoredTokens += 1
                scores[0].agreeingTop1 += 1
                let baseTop = argmax(row)
                for (index, other) in others.enumerated() {
                    other.scalars.withUnsafeBufferPointer { otherAll in
                        let otherRow = UnsafeBufferPointer(rebasing: otherAll[(position * v)..<((position + 1) * v)])
                        logSoftmax(otherRow, into: &otherLog)
                        var s = scores[index + 1]
                        s.totalNLL -= otherLog[next]
                        s.scoredTokens += 1
                        // KL(p ‖ q) = Σ_v p(v) (log p(v) − log q(v))
                        var kl = 0.0
                        for i in 0..<v { kl += exp(baseLog[i]) * (baseLog[i] - otherLog[i]) }
                        s.totalKL += kl
                        if argmax(otherRow) == baseTop { s.agreeingTop1 += 1 }
                        scores[index + 1] = s
                    }
                }
            }
        }
        progress(done + 1, windows.count)
    }
    return scores
}

/// log softmax of one row in Double: log p_i = x_i − max − log Σ exp(x_j − max).
func logSoftmax(_ x: UnsafeBufferPointer<Float>, into out: inout [Double]) {
    var maximum = -Double.infinity
    for value in x { maximum = max(maximum, Double(value)) }
    var sum = 0.0
    for value in x { sum += exp(Double(value) - maximum) }
    let shift = maximum + log(sum)
    for i in 0..<x.count { out[i] = Double(x[i]) - shift }
}
