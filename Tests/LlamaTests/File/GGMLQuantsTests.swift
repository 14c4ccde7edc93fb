// GGML block dequantization: type sizes against the gguf package's table, every supported type
// against `gguf.quants.dequantize` on recorded blocks, and the fast block decoders against the
// one-value-at-a-time reference on random bytes.
import Llama
import Tensor
import Testing
import TestSupport

// Tolerance: none. The decoders do the same float32 operations as gguf-py's numpy code, in the same
// order and unfused, so every value must match bit for bit.

@Suite struct GGMLQuantsTests {

    @Test func blockSizesMatchTheGGUFPackage() throws {
        let table = try #require(try jsonObject("formats/quant-sizes.json")["types"] as? [String: [String: Int]])
        for (name, entry) in table {
            let id = try #require(entry["id"])
            let type = try #require(GGMLType(rawValue: UInt32(id)), "gguf type \(name) (\(id)) unknown here")
            #expect(type.description == name)
            #expect(type.blockLayout.blockSize == entry["block_size"] && type.blockLayout.blockBytes == entry["block_bytes"],
                    "\(name): \(type.blockLayout) vs \(entry)")
        }
        #expect(Set(GGMLType.allCases.map(\.description)) == Set(table.keys))
    }

    /// The layouts drawn in GGMLQuants.swift, summed field by field.
    @Test func drawnLayoutsAddUp() {
        let drawn: [(GGMLType, Int, Int)] = [
            (.f32, 1, 4), (.f16, 1, 2), (.bf16, 1, 2),
            (.q8_0, 32, 2 + 32), (.q4_0, 32, 2 + 16), (.q4_1, 32, 2 + 2 + 16),
            (.q5_0, 32, 2 + 4 + 16), (.q5_1, 32, 2 + 2 + 4 + 16),
            (.q4_K, 256, 2 + 2 + 12 + 128), (.q5_K, 256, 2 + 2 + 12 + 32 + 128), (.q6_K, 256, 128 + 64 + 16 + 2),
        ]
        for (type, size, bytes) in drawn {
            #expect(type.isDequantizable)
            #expect(type.blockLayout == (size, bytes), "\(type)")
        }
        #expect(GGMLType.allCases.filter(\.isDequantizable).count == drawn.count)
    }

    @Test func everySupportedTypeMatchesTheGGUFPackage() throws {
        let cases = try #require(try jsonObject("formats/blocks.json")["cases"] as? [[String: Any]])
        var typesSeen = Set<String>()
        for c in cases {
            let name = try #require(c["type"] as? String), source = try #require(c["source"] as? String)
            let type = try #require(GGMLType.allCases.first { $0.description == name })
            let bytes = try Fixtures.data("formats/" + (try #require(c["bytes"] as? String)))
            let expected = try Fixtures.floats("formats/" + (try #require(c["expected"] as? String)))
            let (blockSize, blockBytes) = type.blockLayout
            #expect(bytes.count == expected.count / blockSize * blockBytes)
            let (fast, reference) = bytes.withUnsafeBytes { raw in
                (dequantize(type, bytes: raw, count: expected.count),
                 (0..<expected.count).map { i in
                     dequantizedValueReference(type.weightEncoding!, block: raw.baseAddress! + (i / blockSize) * blockBytes, index: i % blockSize)
                 })
            }
            expectBitwiseEqual(fast, expected, "\(name) \(source) (fast)")
            expectBitwiseEqual(reference, expected, "\(name) \(source) (reference)")
            typesSeen.insert(name)
        }
        #expect(typesSeen == Set(GGMLType.allCases.filter(\.isDequantizable).map(\.description)))
    }

    /// Random bytes — NaN and infinite scales included — through the parallel whole-tensor path
    /// (several chunks) and through the one-value reference.
    @Test(arguments: GGMLType.allCases.filter(\.isDequantizable))
    func fastEqualsReferenceOnRandomBytes(_ type: GGMLType) {
        let (blockSize, blockBytes) = type.blockLayout
        let blocks = 300_000 / blockSize + 3                     // more than one chunk of 64K values
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15 &* UInt64(type.rawValue + 1)
        let bytes = (0..<(blocks * blockBytes)).map { _ -> UInt8 in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407   // PCG-style LCG step
            return UInt8(truncatingIfNeeded: state >> 56)
        }
        let count = blocks * blockSize
        let (fast, reference) = bytes.withUnsafeBytes { raw in
            (dequantize(type, bytes: raw, count: count),
             (0..<count).map { i in
                 dequantizedValueReference(type.weightEncoding!, block: raw.baseAddress! + (i / blockSize) * blockBytes, index: i % blockSize)
             })
        }
        // NaN scales give NaN values whose payload depends on which operand of `+` the compiler puts
        // first, so any NaN matches any NaN here; every other value must match bit for bit.
        let mismatch = (0..<count).first { i in
            fast[i].bitPattern != reference[i].bitPattern && !(fast[i].isNaN && reference[i].isNaN)
        }
        #expect(mismatch == nil, "\(type): value \(mismatch ?? 0): \(mismatch.map { fast[$0] } ?? 0) vs \(mismatch.map { reference[$0] } ?? 0)")
    }
}
