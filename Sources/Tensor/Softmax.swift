// Softmax and its logarithm, row by row, numerically stable by subtracting the row's maximum first;
// plus the per-position quantities perplexity and model comparison need (NLL, KL divergence).
//
//   softmax(x)ᵢ    = e^(xᵢ − m) / Σⱼ e^(xⱼ − m)        m = maxⱼ xⱼ
//   logSumExp(x)   = m + log Σⱼ e^(xⱼ − m)
//   logSoftmax(x)ᵢ = xᵢ − logSumExp(x)
//   NLL(x, t)      = logSumExp(x) − xₜ                 (−log softmax(x)ₜ)
//   KL(p ‖ q)      = Σᵢ pᵢ (log pᵢ − log qᵢ)            p = softmax(x), q = softmax(y)
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#elseif canImport(ucrt)
import ucrt
#endif

// MARK: - Reference

/// Softmax of `x` (count) in place, one scalar at a time with libm's `exp`.
package func softmaxReference(_ x: UnsafeMutablePointer<Float>, count: Int) {
    guard count > 0 else { return }
    var m = x[0]
    for i in 1..<count where x[i] > m { m = x[i] }
    var sum: Float = 0
    for i in 0..<count { x[i] = exp(x[i] - m); sum += x[i] }
    for i in 0..<count { x[i] /= sum }
}

/// log Σᵢ e^xᵢ of `x` (count), one scalar at a time. −∞ for an empty row.
package func logSumExpReference(_ x: UnsafePointer<Float>, count: Int) -> Float {
    guard count > 0 else { return -.infinity }
    var m = x[0]
    for i in 1..<count where x[i] > m { m = x[i] }
    if m == -.infinity { return -.infinity }
    var sum: Float = 0
    for i in 0..<count { sum += exp(x[i] - m) }
    return m + log(sum)
}

/// KL(softmax(p) ‖ softmax(q)) from two logit rows of `count`, one scalar at a time.
package func klDivergenceReference(logitsP p: UnsafePointer<Float>, logitsQ q: UnsafePointer<Float>, count: Int) -> Float {
    let lseP = logSumExpReference(p, count: count), lseQ = logSumExpReference(q, count: count)
    var kl: Float = 0
    for i in 0..<count {
        let logP = p[i] - lseP, logQ = q[i] - lseQ
        if logP > -.infinity { kl += exp(logP) * (logP - logQ) }
    }
    return kl
}

// MARK: - Fast

/// The largest value of `x` (count > 0).
@inline(__always)
private func rowMaximum(_ x: UnsafePointer<Float>, count: Int) -> Float {
    typealias V = SIMD16<Float>
    let raw = UnsafeRawPointer(x)
    let vectorEnd = count & ~15
    var lanes = V(repeating: -.infinity)
    var i = 0
    while i < vectorEnd {
        let v = raw.loadUnaligned(fromByteOffset: 4 * i, as: V.self)
        lanes = lanes.replacing(with: v, where: v .> lanes)
        i += 16
    }
    var m = largestLane(lanes)
    for t in vectorEnd..<count where x[t] > m { m = x[t] }
    return m
}

/// Σᵢ e^(xᵢ − shift), and, when `store` is given, each term written to it.
@inline(__always)
private func sumOfExponentials(_ x: UnsafePointer<Float>, count: Int, shift: Float,
                               store: UnsafeMutablePointer<Float>?) -> Float {
    typealias V = SIMD16<Float>
    let raw = UnsafeRawPointer(x)
    let vectorEnd = count & ~15
    let s = V(repeating: shift)
    var lanes = V()
    var i = 0
    while i < vectorEnd {
        let e = vectorExp(raw.loadUnaligned(fromByteOffset: 4 * i, as: V.self) - s)
        if let store { UnsafeMutableRawPointer(store).storeBytes(of: e, toByteOffset: 4 * i, as: V.self) }
        lanes += e
        i += 16
    }
    if vectorEnd < count {
        // The tail, padded with −∞ (whose exponential is 0).
        let e = vectorExp(loadPartial(x + vectorEnd, count: count - vectorEnd, fill: -.infinity) - s)
        if let store { storePartial(e, store + vectorEnd, count: count - vectorEnd) }
        lanes += e
    }
    return lanes.sum()
}

/// Softmax of `x` (count) in place. Equal to `softmaxReference` up to summation order and `exp`'s
/// last bits (vectorExp: within 2 ulp).
package func softmax(_ x: UnsafeMutablePointer<Float>, count: Int) {
    guard count > 0 else { return }
    let m = rowMaximum(x, count: count)
    let sum = sumOfExponentials(x, count: count, shift: m, store: x)
    let inverse = 1 / sum
    let vectorEnd = count & ~15
    let raw = UnsafeMutableRawPointer(x)
    var i = 0
    while i < vectorEnd {
        raw.storeBytes(of: raw.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<Float>.self) * inverse,
                       toByteOffset: 4 * i, as: SIMD16<Float>.self)
        i += 16
    }
    for t in vectorEnd..<count { x[t] *= inverse }
}

/// Softmax of every row of x (rows, columns), row-major, in place.
package func softmaxRows(_ x: UnsafeMutablePointer<Float>, rows: Int, columns: Int) {
    for r in 0..<rows { softmax(x + r * columns, count: columns) }
}

/// log Σᵢ e^xᵢ of `x` (count): −∞ for an empty row or a row of −∞, +∞ if any xᵢ is +∞.
package func logSumExp(_ x: UnsafePointer<Float>, count: Int) -> Float {
    guard count > 0 else { return -.infinity }
    let m = rowMaximum(x, count: count)
    if m.isInfinite { return m }
    return m + log(sumOfExponentials(x, count: count, shift: m, store: nil))
}

/// y (count) = log softmax(x) = x − logSumExp(x). `y` may be `x`.
package func logSoftmax(_ x: UnsafePointer<Float>, count: Int, into y: UnsafeMutablePointer<Float>) {
    let lse = logSumExp(x, count: count)
    for i in 0..<count { y[i] = x[i] - lse }
}

/// −log softmax(logits)[target]: the negative log-likelihood of token `target` given one row of
/// `count` logits. Perplexity is exp(mean NLL).
package func negativeLogLikelihood(logits: UnsafePointer<Float>, count: Int, target: Int) -> Float {
    precondition(target >= 0 && target < count, "target \(target) outside the \(count) logits")
    return logSumExp(logits, count: count) - logits[target]
}

/// KL(p ‖ q) = Σᵢ pᵢ (log pᵢ − log qᵢ) with p = softmax(logitsP), q = softmax(logitsQ), both rows of
/// `count`: how far the distribution q (say, a surgered model's) is from p (the base model's).
package func klDivergence(logitsP p: UnsafePointer<Float>, logitsQ q: UnsafePointer<Float>, count: Int) -> Float {
    klDivergence(logitsP: p, logSumExpP: logSumExp(p, count: count), logitsQ: q, logSumExpQ: logSumExp(q, count: count),
                 count: count)
}

/// The same with both rows' `logSumExp` already known (perplexity has the other model's from its
/// NLL, and the base model's from scoring it once for a whole sweep): one pass over the rows instead
/// of five. Given the values `logSumExp` returns, the result is bit for bit `klDivergence`'s.
package func klDivergence(logitsP p: UnsafePointer<Float>, logSumExpP lseP: Float,
                          logitsQ q: UnsafePointer<Float>, logSumExpQ lseQ: Float, count: Int) -> Float {
    typealias V = SIMD16<Float>
    // pᵢ (log pᵢ − log qᵢ) = e^(pᵢ − lseP) · ((pᵢ − qᵢ) − (lseP − lseQ)); a term with pᵢ = 0 is 0
    // (also when its logits are −∞, where the difference would be NaN).
    let offset = V(repeating: lseP - lseQ), shift = V(repeating: lseP)
    @inline(__always) func term(_ vp: V, _ vq: V) -> V {
        let e = vectorExp(vp - shift)
        return (e * ((vp - vq) - offset)).replacing(with: 0, where: e .== 0)
    }
    let rp = UnsafeRawPointer(p), rq = UnsafeRawPointer(q)
    let vectorEnd = count & ~15
    var lanes = V()
    var i = 0
    while i < vectorEnd {
        lanes += term(rp.loadUnaligned(fromByteOffset: 4 * i, as: V.self), rq.loadUnaligned(fromByteOffset: 4 * i, as: V.self))
        i += 16
    }
    if vectorEnd < count {
        let tail = count - vectorEnd
        lanes += term(loadPartial(p + vectorEnd, count: tail, fill: -.infinity),
                      loadPartial(q + vectorEnd, count: tail, fill: -.infinity))
    }
    return lanes.sum()
}
