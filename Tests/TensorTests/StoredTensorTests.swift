// StoredTensor decodes F32, F16 and BF16 little-endian bytes (also at unaligned addresses and from an
// offset) to the same values as numpy's widening (Tests/Fixtures/tensor).
import Testing
import Tensor
import TestSupport

/// Little-endian bytes of 16-bit patterns, placed one byte into the buffer so loads are unaligned.
private func unalignedBytes(_ patterns: [UInt16]) -> [UInt8] {
    [0xAB] + patterns.flatMap { [UInt8(truncatingIfNeeded: $0), UInt8(truncatingIfNeeded: $0 >> 8)] }
}

private func sameValue(_ a: Float, _ b: Float) -> Bool { a.isNaN ? b.isNaN : a.bitPattern == b.bitPattern }

@Test(arguments: [ScalarEncoding.float16, .bfloat16])
func storedSixteenBitTensorDecodesEveryPattern(encoding: ScalarEncoding) throws {
    let expected = try Fixtures.floats(encoding == .float16 ? "tensor/half_to_float.f32" : "tensor/bfloat16_to_float.f32")
    let bytes = unalignedBytes((0...UInt16.max).map { $0 })
    try bytes.withUnsafeBytes { raw in
        let view = StoredTensor(shape: [256, 256], encoding: encoding,
                                bytes: UnsafeRawBufferPointer(rebasing: raw[1...]), owner: nil)
        try #require(view.count == 65536)
        let all = view.decoded()
        #expect(all.shape == [256, 256])
        #expect(zip(all.scalars, expected).allSatisfy(sameValue))
        // A slice from an odd offset.
        var part = [Float](repeating: 0, count: 1001)
        part.withUnsafeMutableBufferPointer { view.decode(from: 12345, into: $0) }
        #expect(zip(part, expected[12345..<13346]).allSatisfy(sameValue))
    }
}

@Test func storedFloat32TensorDecodesBitExactly() {
    // Every kind of float32: the widened half patterns cover normals, subnormals, zeros, ∞ and NaN.
    let values: [Float] = (0...UInt16.max).map { floatFromHalfBits($0) } + [.leastNonzeroMagnitude, .greatestFiniteMagnitude, -.pi]
    let bytes: [UInt8] = [0x01, 0x02, 0x03] + values.flatMap { v in (0..<4).map { UInt8(truncatingIfNeeded: v.bitPattern >> (8 * $0)) } }
    bytes.withUnsafeBytes { raw in
        let view = StoredTensor(shape: [values.count], encoding: .float32,
                                bytes: UnsafeRawBufferPointer(rebasing: raw[3...]), owner: nil)
        #expect(zip(view.decoded().scalars, values).allSatisfy(sameValue))
    }
}

@Test func scalarEncodingNamesAndSizes() {
    #expect(ScalarEncoding(rawValue: "F32")?.byteCount == 4)
    #expect(ScalarEncoding(rawValue: "F16")?.byteCount == 2)
    #expect(ScalarEncoding(rawValue: "BF16")?.byteCount == 2)
    #expect(ScalarEncoding(rawValue: "Q4_1") == nil)
}
