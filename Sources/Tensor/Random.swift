// The project's one random number generator, so that sampling and randomized SVD give identical
// results on every platform for the same seed: xoshiro256** (Blackman & Vigna, 2018), seeded by
// SplitMix64 (Steele, Lea & Flood, 2014) as its authors recommend.

/// xoshiro256**: 256 bits of state, period 2²⁵⁶ − 1, passes BigCrush. Not cryptographic.
public struct Xoshiro256StarStar: RandomNumberGenerator, Sendable {
    private var s: (UInt64, UInt64, UInt64, UInt64)

    /// Fills the state with four outputs of SplitMix64 started at `seed` (never all zero).
    public init(seed: UInt64) {
        var x = seed
        func splitMix64() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s = (splitMix64(), splitMix64(), splitMix64(), splitMix64())
    }

    public mutating func next() -> UInt64 {
        let result = rotateLeft(s.1 &* 5, 7) &* 9
        let t = s.1 << 17
        s.2 ^= s.0
        s.3 ^= s.1
        s.1 ^= s.2
        s.0 ^= s.3
        s.2 ^= t
        s.3 = rotateLeft(s.3, 45)
        return result
    }

    private func rotateLeft(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }
}

extension RandomNumberGenerator {
    /// Uniform in [0, 1) with 53 random bits (the top bits of one output).
    public mutating func nextUnitDouble() -> Double {
        Double(next() >> 11) * 0x1p-53
    }
}
