// Elementwise exp for SIMD16<Float>, written out so it vectorizes: the scalar `exp` per lane, or the
// SIMD library's `clamped`/`pointwiseMin`/`.max()`, ran 16–280× slower than plain vector arithmetic
// here (DESIGN.md, toolchain facts). Masked `replacing(with:where:)` does the range checks instead.
//
//   eˣ = 2ⁿ · eʳ,  n = round(x · log₂e),  r = x − n·ln 2 ∈ [−ln2/2, ln2/2]   (Cody & Waite reduction)
//   eʳ ≈ Σₖ₌₀⁷ rᵏ/k!   (Taylor; the first omitted term, r⁸/8! ≤ 5.2·10⁻⁹, is below Float's ulp)
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#elseif canImport(ucrt)
import ucrt
#endif

/// Below this, eˣ < 2.0·10⁻³⁸ (about the smallest normal Float) and `vectorExp` returns 0.
package let vectorExpLowerLimit: Float = -86.9
/// Above this (ln of the largest finite Float), eˣ overflows and `vectorExp` returns +∞.
package let vectorExpUpperLimit: Float = 88.72283

/// eˣ in each lane, within 2 ulp of the correctly rounded value on [−86.9, 88.72]; 0 below, +∞ above,
/// NaN stays NaN.
@inline(__always)
package func vectorExp(_ x: SIMD16<Float>) -> SIMD16<Float> {
    typealias V = SIMD16<Float>
    let low = V(repeating: vectorExpLowerLimit), high = V(repeating: vectorExpUpperLimit)
    let tooSmall = x .< low, tooLarge = x .> high
    let xc = x.replacing(with: low, where: tooSmall).replacing(with: high, where: tooLarge)

    // n = round(x · log₂e) by the magic-number trick: adding 1.5·2²³ pushes the fraction bits out of
    // the significand (rounding to nearest), and n is then the low bits of the sum's bit pattern.
    let magic = V(repeating: 0x1.8p23)
    let shifted = magic.addingProduct(xc, V(repeating: 1.44269504088896341))
    let n = shifted - magic
    // r = x − n·ln 2, with ln 2 split in a high part (exact in n·ln2Hi) and a low correction.
    var r = xc.addingProduct(n, V(repeating: -0.693145751953125))
    r = r.addingProduct(n, V(repeating: -1.428606820309417e-06))

    // eʳ by Horner's rule on the Taylor series.
    var p = V(repeating: 1.0 / 5040)
    p = V(repeating: 1.0 / 720).addingProduct(p, r)
    p = V(repeating: 1.0 / 120).addingProduct(p, r)
    p = V(repeating: 1.0 / 24).addingProduct(p, r)
    p = V(repeating: 1.0 / 6).addingProduct(p, r)
    p = V(repeating: 0.5).addingProduct(p, r)
    p = V(repeating: 1).addingProduct(p, r)
    p = V(repeating: 1).addingProduct(p, r)

    // 2ⁿ⁻¹ from its bit pattern (exponent field n − 1 + 127), then ×2: n reaches 128 near the top of
    // the range, whose 2ⁿ alone is not a Float.
    let nBits = unsafeBitCast(shifted, to: SIMD16<Int32>.self) &- unsafeBitCast(magic, to: SIMD16<Int32>.self)
    let scale = unsafeBitCast((nBits &+ 126) &<< 23, to: V.self)
    let result = (p * scale) * 2
    return result.replacing(with: 0, where: tooSmall).replacing(with: .infinity, where: tooLarge)
}

/// Loads `count` (< 16) floats into the low lanes of a vector, `fill` in the others.
@inline(__always)
func loadPartial(_ p: UnsafePointer<Float>, count: Int, fill: Float) -> SIMD16<Float> {
    var v = SIMD16<Float>(repeating: fill)
    for i in 0..<count { v[i] = p[i] }
    return v
}

/// Stores the low `count` (< 16) lanes of `v`.
@inline(__always)
func storePartial(_ v: SIMD16<Float>, _ p: UnsafeMutablePointer<Float>, count: Int) {
    for i in 0..<count { p[i] = v[i] }
}

/// The largest lane, by masked replacement and a scalar pass over 16 lanes (`.max()` is slow here).
@inline(__always)
func largestLane(_ v: SIMD16<Float>) -> Float {
    var m = v[0]
    for i in 1..<16 where v[i] > m { m = v[i] }
    return m
}

/// The sum of the 16 lanes, pairwise: halves added as vectors (16 → 8 → 4 → 2), then the last two.
/// `.sum()` adds the lanes one after another, a chain of 15 dependent additions: at the end of each
/// row of a decode-step GEMV (k = 576: 18 blocks) that chain took about a quarter of the row's time.
@inline(__always)
func laneSum(_ v: SIMD16<Float>) -> Float {
    let eight = v.lowHalf + v.highHalf
    let four = eight.lowHalf + eight.highHalf
    let two = four.lowHalf + four.highHalf
    return two[0] + two[1]
}
