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
    for (done, window) in windows.enumerated() {
        let logits = models.map { $0.logits(window) }                 // each (T, V)
        for index in logits.indices {
            scores[index].add(scoreWindow(window, base: logits[0], other: logits[index]))
        }
        progress(done + 1, windows.count)
    }
    return scores
}

/// The base model's evaluation on a set of windows, kept so that many other models (a sweep) can be
/// compared with it without recomputing it: the base logits of every window are stored while they
/// fit in `cacheLimit` bytes, else recomputed for each comparison.
public final class BaseEvaluation: @unchecked Sendable {
    public let model: Model
    public let windows: [[Int]]
    public let score: Score
    private let logits: [Tensor]?

    public init(model: Model, windows: [[Int]], cacheLimit: Int = 4 << 30,
                progress: (Int, Int) -> Void = { _, _ in }) {
        self.model = model
        self.windows = windows
        let bytes = windows.reduce(0) { $0 + $1.count } * model.config.vocabSize * 4
        var kept: [Tensor] = []
        var score = Score()
        for (done, window) in windows.enumerated() {
            let base = model.logits(window)
            score.add(scoreWindow(window, base: base, other: base))
            if bytes <= cacheLimit { kept.append(base) }
            progress(done + 1, windows.count)
        }
        self.score = score
        logits = bytes <= cacheLimit ? kept : nil
    }

    /// `other` scored on the same windows, with KL(base ‖ other) and top-1 agreement.
    public func compare(_ other: Model, progress: (Int, Int) -> Void = { _, _ in }) -> Score {
        var score = Score()
        for (index, window) in windows.enumerated() {
            let base = logits?[index] ?? model.logits(window)
            score.add(scoreWindow(window, base: base, other: other.logits(window)))
            progress(index + 1, windows.count)
        }
        return score
    }
}

extension Score {
    mutating func add(_ other: Score) {
        totalNLL += other.totalNLL
        scoredTokens += other.scoredTokens
        totalKL += other.totalKL
        agreeingTop1 += other.agreeingTop1
    }
}

/// One window's contribution for `other` against `base` (both (T, V) logits of `window`): position
/// p predicts window[p + 1]. Per-position values come from Tensor's Float kernels and are summed in
/// Double in position order, so the result does not depend on the number of threads.
func scoreWindow(_ window: [Int], base: Tensor, other: Tensor) -> Score {
    let v = base.shape[1]
    let positions = window.count - 1
    let nll = UnsafeMutableBufferPointer<Double>.allocate(capacity: positions)
    let kl = UnsafeMutableBufferPointer<Double>.allocate(capacity: positions)
    let agree = UnsafeMutableBufferPointer<Bool>.allocate(capacity: positions)
    defer { nll.deallocate(); kl.deallocate(); agree.deallocate() }
    let same = base.scalars.withUnsafeBufferPointer { b in other.scalars.withUnsafeBufferPointer { $0.baseAddress == b.baseAddress } }
    base.scalars.withUnsafeBufferPointer { basePointer in
        other.scalars.withUnsafeBufferPointer { otherPointer in
            let baseRows = SharedPointer(readOnly: basePointer.baseAddress!)
            let otherRows = SharedPointer(readOnly: otherPointer.baseAddress!)
            let nllOut = SharedPointer(nll.baseAddress!), klOut = SharedPointer(kl.baseAddress!)
            let agreeOut = SharedPointer(agree.baseAddress!)
            let chunk = 32
            parallelFor((positions + chunk - 1) / chunk) { c in
                for p in (c * chunk)..<min(positions, (c + 1) * chunk) {
                    let b = baseRows.base + p * v, o = otherRows.base + p * v
                    nllOut.base[p] = Double(negativeLogLikelihood(logits: o, count: v, target: window[p + 1]))
                    // KL(base ‖ other) = Σ_v p_base(v) (log p_base(v) − log p_other(v))
                    klOut.base[p] = same ? 0 : Double(klDivergence(logitsP: b, logitsQ: o, count: v))
                    agreeOut.base[p] = same || argmax(UnsafeBufferPointer(start: b, count: v))
                        == argmax(UnsafeBufferPointer(start: o, count: v))
                }
            }
        }
    }
    var score = Score()
    for p in 0..<positions {
        score.totalNLL += nll[p]
        score.totalKL += kl[p]
        if agree[p] { score.agreeingTop1 += 1 }
    }
    score.scoredTokens = positions
    return score
}
