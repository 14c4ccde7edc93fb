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
    var logits = [Tensor](repeating: Tensor(shape: [0], scalars: []), count: models.count)   // reused, each (T, V)
    for (done, window) in windows.enumerated() {
        for index in models.indices { models[index].logits(window, into: &logits[index]) }
        let base = BaseRows(window, logits: logits[0])
        for index in logits.indices {
            scores[index].add(scoreWindow(window, base: logits[0], baseRows: base, other: logits[index]))
        }
        progress(done + 1, windows.count)
    }
    return scores
}

/// The base model's evaluation on a set of windows, kept so that many other models (a sweep) can be
/// compared with it without recomputing it: the base logits of every window are stored while they
/// fit in `cacheLimit` bytes, else recomputed for each comparison. What scoring needs of each base
/// row (its log-sum-exp and most likely token) is always kept.
public final class BaseEvaluation: @unchecked Sendable {
    public let model: Model
    public let windows: [[Int]]
    public let score: Score
    private let logits: [Tensor]?
    private let rows: [BaseRows]

    public init(model: Model, windows: [[Int]], cacheLimit: Int = 4 << 30,
                progress: (Int, Int) -> Void = { _, _ in }) {
        self.model = model
        self.windows = windows
        let keepAll = windows.reduce(0) { $0 + $1.count } * model.config.vocabSize * 4 <= cacheLimit
        var kept: [Tensor] = []
        var rows: [BaseRows] = []
        var score = Score()
        var reused = Tensor(shape: [0], scalars: [])      // when not kept: one buffer for every window
        for (done, window) in windows.enumerated() {
            var base = Tensor(shape: [0], scalars: [])
            if !keepAll { swap(&base, &reused) }          // (a swap, not a copy: the buffer stays unshared)
            model.logits(window, into: &base)
            rows.append(BaseRows(window, logits: base))
            score.add(scoreWindow(window, base: base, baseRows: rows[done], other: base))
            if keepAll { kept.append(base) } else { swap(&base, &reused) }
            progress(done + 1, windows.count)
        }
        self.score = score
        self.rows = rows
        logits = keepAll ? kept : nil
    }

    /// `other` scored on the same windows, with KL(base ‖ other) and top-1 agreement.
    public func compare(_ other: Model, progress: (Int, Int) -> Void = { _, _ in }) -> Score {
        var score = Score()
        var otherLogits = Tensor(shape: [0], scalars: []), baseLogits = otherLogits   // reused, (T, V)
        for (index, window) in windows.enumerated() {
            if logits == nil { model.logits(window, into: &baseLogits) }
            let base = logits?[index] ?? baseLogits
            other.logits(window, into: &otherLogits)
            score.add(scoreWindow(window, base: base, baseRows: rows[index], other: otherLogits))
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

/// What scoring needs of the base model's row at each scored position p of a window (p < T − 1):
/// log Σ_v e^(logit v) and the most likely token — computed once, however many models are compared.
struct BaseRows: Sendable {
    let logSumExps: [Float]
    let topTokens: [Int]

    init(_ window: [Int], logits: Tensor) {
        let v = logits.shape[1], positions = window.count - 1
        var lse = [Float](repeating: 0, count: positions), top = [Int](repeating: 0, count: positions)
        logits.scalars.withUnsafeBufferPointer { rows in
            lse.withUnsafeMutableBufferPointer { lseOut in
                top.withUnsafeMutableBufferPointer { topOut in
                    let input = SharedPointer(readOnly: rows.baseAddress!)
                    let lsePointer = SharedPointer(lseOut.baseAddress!), topPointer = SharedPointer(topOut.baseAddress!)
                    let chunk = 32
                    parallelFor((positions + chunk - 1) / chunk) { c in
                        for p in (c * chunk)..<min(positions, (c + 1) * chunk) {
                            let row = input.base + p * v
                            lsePointer.base[p] = logSumExp(row, count: v)
                            topPointer.base[p] = argmax(UnsafeBufferPointer(start: row, count: v))
                        }
                    }
                }
            }
        }
        logSumExps = lse
        topTokens = top
    }
}

/// One window's contribution for `other` against `base` (both (T, V) logits of `window`; `baseRows`
/// from `base`): position p predicts window[p + 1]. Per-position values come from Tensor's Float
/// kernels and are summed in Double in position order, so the result does not depend on the number
/// of threads.
func scoreWindow(_ window: [Int], base: Tensor, baseRows: BaseRows, other: Tensor) -> Score {
    let v = base.shape[1]
    let positions = window.count - 1
    let nll = UnsafeMutableBufferPointer<Double>.allocate(capacity: positions)
    let kl = UnsafeMutableBufferPointer<Double>.allocate(capacity: positions)
    let agree = UnsafeMutableBufferPointer<Bool>.allocate(capacity: positions)
    defer { nll.deallocate(); kl.deallocate(); agree.deallocate() }
    let same = base.scalars.withUnsafeBufferPointer { b in other.scalars.withUnsafeBufferPointer { $0.baseAddress == b.baseAddress } }
    base.scalars.withUnsafeBufferPointer { basePointer in
        other.scalars.withUnsafeBufferPointer { otherPointer in
            let baseRowsIn = SharedPointer(readOnly: basePointer.baseAddress!)
            let otherRows = SharedPointer(readOnly: otherPointer.baseAddress!)
            let nllOut = SharedPointer(nll.baseAddress!), klOut = SharedPointer(kl.baseAddress!)
            let agreeOut = SharedPointer(agree.baseAddress!)
            let chunk = 32
            parallelFor((positions + chunk - 1) / chunk) { c in
                for p in (c * chunk)..<min(positions, (c + 1) * chunk) {
                    let b = baseRowsIn.base + p * v, o = otherRows.base + p * v
                    // NLL = logSumExp(o) − o[target]
                    let lse = same ? baseRows.logSumExps[p] : logSumExp(o, count: v)
                    nllOut.base[p] = Double(lse - o[window[p + 1]])
                    // KL(base ‖ other) = Σ_v p_base(v) (log p_base(v) − log p_other(v))
                    klOut.base[p] = same ? 0 : Double(klDivergence(logitsP: b, logSumExpP: baseRows.logSumExps[p],
                                                                    logitsQ: o, logSumExpQ: lse, count: v))
                    agreeOut.base[p] = same || baseRows.topTokens[p] == argmax(UnsafeBufferPointer(start: o, count: v))
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
