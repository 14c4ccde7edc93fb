// Choosing the next token from logits: greedy, or sampling with temperature, top-k and top-p
// (nucleus), driven by the project's seeded generator so a seed gives the same tokens everywhere.
import Tensor
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public struct SamplingOptions: Sendable, Equatable {
    /// 0 means greedy (argmax).
    public var temperature: Double = 0
    /// Keep only the k most likely tokens (0: all).
    public var topK: Int = 0
    /// Keep the smallest set of most likely tokens whose probability reaches p (1: all).
    public var topP: Double = 1
    public var seed: UInt64 = 0

    public init(temperature: Double = 0, topK: Int = 0, topP: Double = 1, seed: UInt64 = 0) {
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.seed = seed
    }

    public var isGreedy: Bool { temperature == 0 }
}

/// Index of the largest logit (the first one on ties, like `torch.argmax`).
public func argmax(_ logits: UnsafeBufferPointer<Float>) -> Int {
    var best = 0
    for i in 1..<logits.count where logits[i] > logits[best] { best = i }
    return best
}

public struct Sampler: Sendable {
    public let options: SamplingOptions
    private var rng: Xoshiro256StarStar

    public init(_ options: SamplingOptions) {
        self.options = options
        rng = Xoshiro256StarStar(seed: options.seed)
    }

    /// The next token for one row of logits (V).
    ///   p_i ∝ exp(logit_i / temperature), restricted to the top-k, then to the top-p nucleus.
    public mutating func next(_ logits: UnsafeBufferPointer<Float>) -> Int {
        if options.isGreedy { return argmax(logits) }
        // candidates sorted by logit, highest first (ties: lower id first, so the order is defined)
        var order = Array(0..<logits.count)
        order.sort { logits[$0] > logits[$1] || (logits[$0] == logits[$1] && $0 < $1) }
        if options.topK > 0 && options.topK < order.count { order.removeLast(order.count - options.topK) }
        let top = Double(logits[order[0]])
        var weights = order.map { exp((Double(logits[$0]) - top) / options.temperature) }
        let total = weights.reduce(0, +)
        if options.topP < 1 {
            var cumulative = 0.0
            var keep = weights.count
            for (i, w) in weights.enumerated() {
                cumulative += w / total
                if cumulative >= options.topP { keep = i + 1; break }
            }
            order.removeLast(order.count - keep)
            weights.removeLast(weights.count - keep)
        }
        let target = rng.nextUnitDouble() * weights.reduce(0, +)
        var cumulative = 0.0
        for (i, w) in weights.enumerated() {
            cumulative += w
            if target < cumulative { return order[i] }
        }
        return order[order.count - 1]
    }
}
