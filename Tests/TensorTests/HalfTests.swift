// Half and bfloat16 conversion checked exhaustively: every 16-bit pattern widened, and ~170K float32
// inputs narrowed (every rounding tie of both formats), against numpy and PyTorch
// (Tools/reference/tensor.py → Tests/Fixtures/tensor).
import Testing
import Tensor
import TestSupport

/// binary16 bit pattern is NaN: exponent all ones, mantissa non-zero.
private func isHalfNaN(_ bits: UInt16) -> Bool { bits & 0x7C00 == 0x7C00 && bits & 0x03FF != 0 }
/// bfloat16 bit pattern is NaN: exponent all ones, mantissa non-zero.
private func isBFloat16NaN(_ bits: UInt16) -> Bool { bits & 0x7F80 == 0x7F80 && bits & 0x007F != 0 }

private func hex<T: BinaryInteger>(_ value: T) -> String { "0x" + String(value, radix: 16) }

// MARK: - Widening: all 65,536 patterns, bit-exact (NaN as is-NaN)

@Test func halfWideningMatchesNumpyForEveryPattern() throws {
    let expected = try Fixtures.floats("tensor/half_to_float.f32")
    try #require(expected.count == 65536)
    var mismatches: [String] = []
    for bits in 0...UInt16.max {
        let want = expected[Int(bits)]
        for (name, got) in [("floatFromHalfBits", floatFromHalfBits(bits)), ("branch-free", floatFromHalfBitsBranchFree(bits))] {
            let ok = want.isNaN ? got.isNaN : got.bitPattern == want.bitPattern
            if !ok { mismatches.append("\(name) \(hex(bits)): got \(got) want \(want)") }
        }
    }
    #expect(mismatches.isEmpty, "\(mismatches.count) mismatches, first: \(mismatches.prefix(5))")
}

@Test func bfloat16WideningMatchesNumpyForEveryPattern() throws {
    let expected = try Fixtures.floats("tensor/bfloat16_to_float.f32")
    try #require(expected.count == 65536)
    var mismatches: [String] = []
    for bits in 0...UInt16.max {
        let want = expected[Int(bits)], got = floatFromBFloat16Bits(bits)
        let ok = want.isNaN ? got.isNaN : got.bitPattern == want.bitPattern
        if !ok { mismatches.append("\(hex(bits)): got \(got) want \(want)") }
    }
    #expect(mismatches.isEmpty, "\(mismatches.count) mismatches, first: \(mismatches.prefix(5))")
}

// MARK: - Narrowing: round to nearest, ties to even

@Test func halfNarrowingMatchesNumpy() throws {
    let inputs = try Fixtures.floats("tensor/narrowing_inputs.f32")
    let expected = try Fixtures.uint16s("tensor/narrowing_half.u16")
    try #require(inputs.count == expected.count && inputs.count > 100_000)
    var mismatches: [String] = []
    for (x, want) in zip(inputs, expected) {
        let got = halfBits(from: x)
        let ok = isHalfNaN(want) ? isHalfNaN(got) : got == want
        if !ok { mismatches.append("\(hex(x.bitPattern)) (\(x)): got \(hex(got)) want \(hex(want))") }
    }
    #expect(mismatches.isEmpty, "\(mismatches.count) mismatches, first: \(mismatches.prefix(5))")
}

@Test func bfloat16NarrowingMatchesTorch() throws {
    let inputs = try Fixtures.floats("tensor/narrowing_inputs.f32")
    let expected = try Fixtures.uint16s("tensor/narrowing_bfloat16.u16")
    try #require(inputs.count == expected.count && inputs.count > 100_000)
    var mismatches: [String] = []
    for (x, want) in zip(inputs, expected) {
        let got = bfloat16Bits(from: x)
        let ok = isBFloat16NaN(want) ? isBFloat16NaN(got) : got == want
        if !ok { mismatches.append("\(hex(x.bitPattern)) (\(x)): got \(hex(got)) want \(hex(want))") }
    }
    #expect(mismatches.isEmpty, "\(mismatches.count) mismatches, first: \(mismatches.prefix(5))")
}

// MARK: - Invariants

@Test func narrowingUndoesWideningForEveryNonNaNPattern() {
    var failures = 0
    for bits in 0...UInt16.max where !isHalfNaN(bits) && halfBits(from: floatFromHalfBits(bits)) != bits { failures += 1 }
    for bits in 0...UInt16.max where !isBFloat16NaN(bits) && bfloat16Bits(from: floatFromBFloat16Bits(bits)) != bits { failures += 1 }
    #expect(failures == 0)
}

@Test func nanStaysNaNAndKeepsItsSign() {
    for pattern: UInt32 in [0x7FC0_0000, 0xFFC0_0000, 0x7F80_0001, 0xFF80_0001, 0x7FBF_FFFF, 0x7F80_1FFF] {
        let x = Float(bitPattern: pattern)
        let h = halfBits(from: x), b = bfloat16Bits(from: x)
        #expect(isHalfNaN(h) && isBFloat16NaN(b), "NaN \(hex(pattern)) narrowed to \(hex(h)), \(hex(b))")
        #expect(h >> 15 == UInt16(pattern >> 31) && b >> 15 == UInt16(pattern >> 31))
    }
}
