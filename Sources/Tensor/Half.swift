// IEEE 754 binary16 ("half") and bfloat16 ↔ Float conversion on bit patterns, so no `Float16`
// type is needed (it is absent on some platforms).
//
//   float32  : s | eeeeeeee        | mmmmmmmmmmmmmmmmmmmmmmm   (1 | 8 | 23), bias 127
//   binary16 : s | eeeee           | mmmmmmmmmm                (1 | 5 | 10), bias 15
//   bfloat16 : s | eeeeeeee        | mmmmmmm                   (1 | 8 |  7), bias 127
//
// Narrowing rounds to nearest, ties to even; overflow gives ±∞; NaN stays NaN (quiet, sign and
// top payload bits kept, never turned into ∞). Widening is exact.

// MARK: - bfloat16

/// The Float with the bfloat16 bit pattern `bits`: bfloat16 is the top half of a float32.
@inlinable
public func floatFromBFloat16Bits(_ bits: UInt16) -> Float {
    Float(bitPattern: UInt32(bits) << 16)
}

/// The bfloat16 bit pattern nearest `value` (ties to even).
@inlinable
public func bfloat16Bits(from value: Float) -> UInt16 {
    let x = value.bitPattern
    if value.isNaN {
        return UInt16(truncatingIfNeeded: x >> 16) | 0x0040   // keep sign and payload top, force quiet
    }
    // Add 0x7FFF plus the lowest kept bit, then truncate: round to nearest, ties to even.
    let lsb = (x >> 16) & 1
    let rounded = x &+ 0x7FFF &+ lsb
    return UInt16(truncatingIfNeeded: rounded >> 16)
}

// MARK: - binary16

/// The Float with the IEEE binary16 bit pattern `bits` (exact).
@inlinable
public func floatFromHalfBits(_ bits: UInt16) -> Float {
    let sign = UInt32(bits & 0x8000) << 16
    let exponent = Int32((bits >> 10) & 0x1F)
    let mantissa = UInt32(bits & 0x03FF)
    if exponent == 0x1F {                                  // ∞ or NaN
        return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
    }
    if exponent == 0 {                                     // zero or subnormal: m · 2⁻²⁴
        let magnitude = Float(mantissa) * 0x1p-24
        return sign == 0 ? magnitude : -magnitude
    }
    // normal: rebias the exponent from 15 to 127
    return Float(bitPattern: sign | (UInt32(exponent + 112) << 23) | (mantissa << 13))
}

/// `floatFromHalfBits` without branches, for loops the compiler should vectorize (StoredTensor).
/// Shifting the 15 exponent-and-mantissa bits up by 13 puts them where float32 keeps its own, so the
/// pattern reads as the half's value scaled by 2^(15 − 127); multiplying by 2¹¹² undoes that, exactly,
/// and turns half subnormals (float32 subnormals after the shift) into normal floats. An all-ones
/// half exponent (∞, NaN) gets float32's all-ones exponent instead. (Needs subnormal floats honoured,
/// the default; with denormals-are-zero set, half subnormals would read as 0.)
@inlinable @inline(__always)
package func floatFromHalfBitsBranchFree(_ bits: UInt16) -> Float {
    let h = UInt32(bits)
    let exponentAndMantissa = h & 0x7FFF
    let scaled = (Float(bitPattern: exponentAndMantissa << 13) * 0x1p112).bitPattern
    let magnitude = exponentAndMantissa >= 0x7C00 ? (exponentAndMantissa << 13) | 0x7F80_0000 : scaled
    return Float(bitPattern: magnitude | (h & 0x8000) << 16)
}

/// The IEEE binary16 bit pattern nearest `value` (ties to even; overflow → ±∞).
@inlinable
public func halfBits(from value: Float) -> UInt16 {
    let x = value.bitPattern
    let sign = UInt16(truncatingIfNeeded: (x >> 16) & 0x8000)
    let exponent = Int32((x >> 23) & 0xFF)
    let mantissa = x & 0x007F_FFFF
    if exponent == 0xFF {                                  // ∞ or NaN
        if mantissa == 0 { return sign | 0x7C00 }
        return sign | 0x7E00 | UInt16(truncatingIfNeeded: mantissa >> 13)
    }
    let halfExponent = exponent - 127 + 15
    if halfExponent >= 0x1F { return sign | 0x7C00 }       // too large: ∞
    if halfExponent <= 0 {
        // subnormal half (or zero): value = m · 2⁻²⁴ with m = full significand >> shift
        if halfExponent < -10 { return sign }              // below half the smallest subnormal
        let significand = mantissa | 0x0080_0000           // implicit leading 1
        let shift = UInt32(14 - halfExponent)              // 14..24
        let kept = significand >> shift
        let remainder = significand & ((1 << shift) - 1)
        let halfway = UInt32(1) << (shift - 1)
        var m = kept
        if remainder > halfway || (remainder == halfway && (kept & 1) == 1) { m += 1 }
        return sign | UInt16(truncatingIfNeeded: m)        // m may carry into the exponent: correct
    }
    // normal: keep 10 mantissa bits, round the 13 dropped ones to nearest even
    var h = UInt32(halfExponent) << 10 | (mantissa >> 13)
    let dropped = mantissa & 0x1FFF
    if dropped > 0x1000 || (dropped == 0x1000 && (h & 1) == 1) { h += 1 }   // may carry to ∞: correct
    return sign | UInt16(truncatingIfNeeded: h)
}
