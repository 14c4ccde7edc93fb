// GGUF reading: a file with every metadata type (written by gguf-py), the tiny model in F32, F16,
// Q8_0, Q4_0 and Q4_1 against gguf-py's dequantization, the real SmolLM2 file against gguf-py and
// transformers, and one handcrafted file per way a GGUF file can be wrong.
import Foundation
import Llama
import Tensor
import Testing
import TestSupport

// Tolerances. Tensors: none — same float32 operations as gguf-py, same order (see GGMLQuantsTests).
/// Row sums recorded as float64 sums rounded to float32; ours are float64 sums in another order.
private let rowSumRelative = 1e-6
/// Frobenius norms, both float64 over identical values; only summation order differs.
private let frobeniusRelative = 1e-12

@Suite struct GGUFReaderTests {

    // MARK: - Metadata of every type

    @Test func everyMetadataTypeReadsAsGGUFPyWroteIt() throws {
        let file = try GGUFFile(path: Fixtures.path("formats/metadata.gguf"))
        let expected = try jsonObject("formats/metadata.json")
        let keys = try #require(expected["keys"] as? [String])
        let types = try #require(expected["types"] as? [String: String])
        let values = try #require(expected["values"] as? [String: Any])
        #expect(file.version == 3)
        #expect(file.metadataKeys == keys)
        for key in keys { #expect(file[key]?.type.description.uppercased() == types[key], "\(key)") }
        #expect(file.alignment == 64 && file.dataStart % 64 == 0)

        #expect(file["test.uint8"] == .uint8(200))
        #expect(file["test.int8"] == .int8(-100))
        #expect(file["test.uint16"] == .uint16(60000))
        #expect(file["test.int16"] == .int16(-30000))
        #expect(file["test.uint32"] == .uint32(4_000_000_000))
        #expect(file["test.int32"] == .int32(-2_000_000_000))
        #expect(file["test.float32"]?.float?.bitPattern == UInt32(try #require(expected["float32_bits"] as? Int)))
        #expect(file["test.bool"]?.bool == true)
        #expect(file["test.string"]?.string == values["test.string"] as? String)
        #expect(file["test.uint64"] == .uint64(UInt64(try #require(values["test.uint64"] as? String))!))
        #expect(file["test.int64"] == .int64(Int64(try #require(values["test.int64"] as? String))!))
        #expect(file["test.float64"]?.double == 0.1)
        #expect(file["test.array.int32"]?.ints == [1, -2, 3])
        #expect(file["test.array.string"]?.strings == ["a", "", "ü"])
        #expect(file["test.array.float32"]?.floats == [0.5, -1.25])
        #expect(file["test.array.bool"]?.array?.map(\.bool) == [true, false])
        let nested = try #require(file["test.array.nested"]?.array)
        #expect(nested.map(\.ints) == [[1, 2], [3], [4, 5, 6]])
        #expect(file["general.architecture"]?.string == "llama")

        let info = try file.info("t")
        #expect(info.dimensions == [3, 2] && info.shape == [2, 3] && info.type == .f32)
        #expect(try file.tensor("t") == Tensor(shape: [2, 3], scalars: [0, 1, 2, 3, 4, 5]))
        #expect(try file.storedTensor("t").decoded().scalars == [0, 1, 2, 3, 4, 5])
    }

    // MARK: - The tiny model

    @Test(arguments: ["F32", "F16", "Q8_0", "Q4_0", "Q4_1"])
    func tinyModelEqualsGGUFPyDequantization(_ variant: String) throws {
        let manifest = try jsonObject("tiny/manifest.json")
        let entry = try #require((manifest["gguf"] as? [String: Any])?[variant] as? [String: Any])
        let permutations = try #require(manifest["permutation"] as? [String: Any])
        let file = try GGUFFile(path: Fixtures.path("tiny/" + (try #require(entry["file"] as? String))))
        let tensors = try #require(entry["tensors"] as? [[String: Any]])
        #expect(file.names == tensors.compactMap { $0["name"] as? String })
        #expect(file["llama.block_count"]?.int == 2)
        #expect(file["llama.attention.head_count_kv"]?.int == 2)
        #expect(file["llama.rope.freq_base"]?.float == 10000)
        #expect(file["tokenizer.ggml.tokens"]?.strings?.count == 96)

        var expectedFiles: [String: [Float]] = [:]
        for t in tensors {
            let name = try #require(t["name"] as? String), shape = try #require(t["shape"] as? [Int])
            let count = try #require(t["count"] as? Int), offset = try #require(t["offset"] as? Int)
            let source = try #require(t["expected"] as? String)
            if expectedFiles[source] == nil {
                expectedFiles[source] = source.hasSuffix(".u16")
                    ? try Fixtures.uint16s("tiny/" + source).map(floatFromHalfBits)
                    : try Fixtures.floats("tiny/" + source)
            }
            var want = floatSlice(expectedFiles[source]!, offset: offset, count: count)
            if let which = t["row_permutation"] as? String {            // GGUF row i = HF row permutation[i]
                let permutation = try #require(permutations[which] as? [Int])
                let columns = count / shape[0]
                let hf = want
                want = permutation.flatMap { hf[($0 * columns)..<(($0 + 1) * columns)] }
            }
            let info = try file.info(name)
            #expect(info.shape == shape && info.type.description == t["type"] as? String, "\(name)")
            let loaded = try file.tensor(name)
            #expect(loaded.shape == shape)
            expectBitwiseEqual(loaded.scalars, want, "\(variant) \(name)")
        }
    }

    // MARK: - The real model

    @Test func smolLM2LayerZeroEqualsGGUFPyAndTransformers() throws {
        let file = try GGUFFile(path: Fixtures.modelPath)
        #expect(file.tensors.count == 272)
        #expect(file.tensors.reduce(0) { $0 + $1.count } == 134_515_008)
        #expect(file["llama.block_count"]?.int == 30)
        #expect(file["llama.attention.head_count"]?.int == 9)
        #expect(file["tokenizer.ggml.tokens"]?.strings?.count == 49_152)
        #expect(file["tokenizer.ggml.merges"]?.strings?.count == 48_900)

        let manifest = try #require(try jsonObject("formats/smollm2/layer0.json")["tensors"] as? [String: [String: Any]])
        for (label, ggufName, hfLabel) in [("gguf.attn_q", "blk.0.attn_q.weight", "transformers.q_proj"),
                                           ("gguf.attn_k", "blk.0.attn_k.weight", "transformers.k_proj")] {
            let entry = try #require(manifest[label]), hfEntry = try #require(manifest[hfLabel])
            let tensor = try file.tensor(ggufName)
            let shape = try #require(entry["shape"] as? [Int])
            #expect(tensor.shape == shape && file.tensors.first { $0.name == ggufName }?.type == .q4_1)
            let columns = shape[1]

            // The GGUF's own row order: rows exact, every row's sum, the norm.
            let rows = try #require(entry["rows"] as? [Int])
            let want = try Fixtures.floats("formats/" + (try #require(entry["rows_file"] as? String)))
            let got = rows.flatMap { tensor.scalars[($0 * columns)..<(($0 + 1) * columns)] }
            expectBitwiseEqual(got, want, label)
            let sums = (0..<shape[0]).map { r in tensor.scalars[(r * columns)..<((r + 1) * columns)].reduce(0.0) { $0 + Double($1) } }
            let wantSums = try Fixtures.floats("formats/" + (try #require(entry["row_sums_file"] as? String)))
            for (s, w) in zip(sums, wantSums) {
                #expect(abs(s - Double(w)) <= rowSumRelative * max(abs(s), 1e-3), "\(label) row sum \(s) vs \(w)")
            }
            let norm = tensor.scalars.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
            let wantNorm = try #require(entry["frobenius"] as? Double)
            #expect(abs(norm - wantNorm) <= frobeniusRelative * wantNorm)

            // transformers un-permutes the rows; that is a permutation, so the norm and the multiset
            // of row sums must agree with this file's order too (the un-permutation is Checkpoint's).
            let hfNorm = try #require(hfEntry["frobenius"] as? Double)
            #expect(abs(norm - hfNorm) <= frobeniusRelative * hfNorm)
            let hfSums = try Fixtures.floats("formats/" + (try #require(hfEntry["row_sums_file"] as? String))).sorted()
            #expect(hfSums == wantSums.sorted())
        }
    }

    // MARK: - Handcrafted valid files

    /// A valid file: `general.architecture = "llama"`, one 2×4 F32 tensor "w" holding 0…7.
    func validFile(version: UInt32 = 3) -> [UInt8] {
        var b = LittleEndianBytes()
        b.ggufHeader(version: version, tensors: 1, metadata: 1)
        b.string("general.architecture"); b.u32(8); b.string("llama")
        b.ggufTensorInfo("w", dims: [4, 2], type: 0, offset: 0)
        b.pad(to: 32)
        for i in 0..<8 { b.f32(Float(i)) }
        return b.bytes
    }

    @Test(arguments: [UInt32(2), 3])
    func versionsTwoAndThreeRead(_ version: UInt32) throws {
        let file = try GGUFFile(path: try scratchFile(validFile(version: version)))
        #expect(file.version == version)
        #expect(file.dataStart == 128)             // 24 header + 45 metadata + 41 tensor info = 110 → 128
        #expect(try file.tensor("w") == Tensor(shape: [2, 4], scalars: (0..<8).map(Float.init)))
    }

    // MARK: - One handcrafted file per error

    func expectError(_ expected: GGUFError, opening bytes: [UInt8], mentions words: [String] = [],
                     sourceLocation: SourceLocation = #_sourceLocation) throws {
        let path = try scratchFile(bytes, name: "bad.gguf")
        let error = expected.with(file: path)
        #expect(throws: error, sourceLocation: sourceLocation) { try GGUFFile(path: path) }
        #expect(error.description.hasPrefix(path + ":"), sourceLocation: sourceLocation)
        for word in words {
            #expect(error.description.contains(word), "\(error.description) lacks \(word)", sourceLocation: sourceLocation)
        }
    }

    @Test func badMagic() throws {
        var bytes = validFile()
        bytes[2] = UInt8(ascii: "M"); bytes[3] = UInt8(ascii: "L")
        try expectError(.badMagic(file: "", found: [0x47, 0x47, 0x4D, 0x4C]), opening: bytes, mentions: ["47 47 4d 4c", "GGUF"])
    }

    @Test func unknownVersion() throws {
        var b = LittleEndianBytes()
        b.ggufHeader(version: 4, tensors: 0, metadata: 0)
        try expectError(.unsupportedVersion(file: "", found: 4, supported: [2, 3]), opening: b.bytes, mentions: ["version 4", "2, 3"])
    }

    @Test func versionOne() throws {
        var b = LittleEndianBytes()
        b.ggufHeader(version: 1, tensors: 0, metadata: 0)
        try expectError(.unsupportedVersion(file: "", found: 1, supported: [2, 3]), opening: b.bytes)
    }

    @Test func bigEndianFile() throws {
        var b = LittleEndianBytes()
        b.raw(Array("GGUF".utf8)); b.raw([0, 0, 0, 3]); b.u64(0); b.u64(0)
        try expectError(.unsupportedVersion(file: "", found: 0x0300_0000, supported: [2, 3]), opening: b.bytes, mentions: ["big-endian"])
    }

    @Test func truncatedHeader() throws {
        let bytes = Array(validFile()[0..<11])
        try expectError(.truncated(file: "", reading: "the tensor count", offset: 8, needed: 8, available: 3),
                        opening: bytes, mentions: ["tensor count", "byte 8", "3 remain"])
    }

    @Test func truncatedTensorData() throws {
        let bytes = Array(validFile().dropLast(4))
        try expectError(.tensorDataPastEnd(file: "", tensor: "w", offset: 0, byteCount: 32, dataSize: 28),
                        opening: bytes, mentions: ["'w'", "32 bytes", "28 bytes"])
    }

    @Test func tensorCountLargerThanTheFileCouldHold() throws {
        var b = LittleEndianBytes()
        b.ggufHeader(tensors: 1_000_000, metadata: 0)
        b.raw([UInt8](repeating: 0, count: 100))
        try expectError(.tensorCountTooLarge(file: "", count: 1_000_000, maximum: 4), opening: b.bytes, mentions: ["1000000"])
    }

    @Test func metadataCountLargerThanTheFileCouldHold() throws {
        var b = LittleEndianBytes()
        b.ggufHeader(tensors: 0, metadata: 1 << 40)
        b.raw([UInt8](repeating: 0, count: 26))
        try expectError(.metadataCountTooLarge(file: "", count: 1 << 40, maximum: 2), opening: b.bytes)
    }

    @Test func stringLengthPastTheEnd() throws {
        var b = LittleEndianBytes()
        b.ggufHeader(tensors: 0, metadata: 1)
        b.u64(1000); b.raw(Array("general.ar".utf8))
        try expectError(.stringPastEnd(file: "", reading: "the key of metadata entry 0", length: 1000, available: 10),
                        opening: b.bytes, mentions: ["1000", "10 bytes"])
    }

    @Test func stringLengthAboveIntMax() throws {
        var b = LittleEndianBytes()
        b.ggufHeader(tensors: 0, metadata: 1)
        b.u64(UInt64.max); b.raw([UInt8](repeating: 0, count: 8))
        try expectError(.stringPastEnd(file: "", reading: "the key of metadata entry 0", length: UInt64.max, available: 8),
                        opening: b.bytes)
    }

    @Test func invalidUTF8() throws {
        var b = LittleEndianBytes()
        b.ggufHeader(tensors: 0, metadata: 1)
        b.u64(2); b.raw([0xC3, 0x28]); b.u32(0); b.u8(1)
        try expectError(.invalidUTF8(file: "", reading: "the key of metadata entry 0"), opening: b.bytes)
    }

    @Test func misalignedDataOffset() throws {
        var b = LittleEndianBytes()
        b.ggufHeader(tensors: 1, metadata: 0)
        b.ggufTensorInfo("w", dims: [2], type: 0, offset: 4)
        b.pad(to: 32); b.raw([UInt8](repeating: 0, count: 64))
        try expectError(.misalignedTensor(file: "", tensor: "w", offset: 4, alignment: 32), opening: b.bytes,
                        mentions: ["'w'", "offset 4", "alignment 32"])
    }

    @Test func unsupportedQuantizationType() throws {
        var b = LittleEndianBytes()
        b.ggufHeader(tensors: 1, metadata: 0)
        b.ggufTensorInfo("blk.0.attn_q.weight", dims: [256, 1], type: GGMLType.q2_K.rawValue, offset: 0)
        b.pad(to: 32); b.raw([UInt8](repeating: 0, count: 84))
        let path = try scratchFile(b.bytes, name: "q2k.gguf")
        let file = try GGUFFile(path: path)                        // opening (and inspecting) works
        #expect(try file.info("blk.0.attn_q.weight").byteCount == 84)
        let expected = GGUFError.unsupportedType(file: path, tensor: "blk.0.attn_q.weight", type: "Q2_K",
            supported: ["F32", "F16", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q4_K", "Q5_K", "Q6_K", "BF16"])
        #expect(throws: expected) { try file.tensor("blk.0.attn_q.weight") }
        #expect(expected.description.contains("Q2_K") && expected.description.contains("'blk.0.attn_q.weight'"))
        #expect(throws: GGUFError.notStoredAsFloat(file: path, tensor: "blk.0.attn_q.weight", type: "Q2_K",
                                                   expected: ["F32", "F16", "BF16"])) {
            try file.storedTensor("blk.0.attn_q.weight")
        }
    }

    @Test func unknownTensorType() throws {
        var b = LittleEndianBytes()
        b.ggufHeader(tensors: 1, metadata: 0)
        b.ggufTensorInfo("w", dims: [32], type: 99, offset: 0)
        try expectError(.unknownTensorType(file: "", tensor: "w", found: 99), opening: b.bytes, mentions: ["'w'", "99"])
    }

    @Test func unknownValueType() throws {
        var b = LittleEndianBytes()
        b.ggufHeader(tensors: 0, metadata: 1)
        b.string("k"); b.u32(13); b.u64(0)
        try expectError(.unknownValueType(file: "", key: "k", found: 13), opening: b.bytes, mentions: ["'k'", "13"])
    }

    @Test func arrayCountLargerThanTheFileCouldHold() throws {
        var b = LittleEndianBytes()
        b.ggufHeader(tensors: 0, metadata: 1)
        b.string("tokenizer.ggml.tokens"); b.u32(9); b.u32(8); b.u64(49_152); b.string("a"); b.string("b")
        try expectError(.arrayTooLong(file: "", key: "tokenizer.ggml.tokens", count: 49_152, maximum: 2), opening: b.bytes,
                        mentions: ["49152", "at most 2"])
    }

    @Test func arraysNestedTooDeep() throws {
        var b = LittleEndianBytes()
        b.ggufHeader(tensors: 0, metadata: 1)
        b.string("k"); b.u32(9)
        for _ in 0..<20 { b.u32(9); b.u64(1) }                     // array of array of … (20 deep)
        try expectError(.nestingTooDeep(file: "", key: "k", limit: 16), opening: b.bytes)
    }

    @Test func boolThatIsNeitherZeroNorOne() throws {
        var b = LittleEndianBytes()
        b.ggufHeader(tensors: 0, metadata: 1)
        b.string("b"); b.u32(7); b.u8(2)
        try expectError(.invalidBool(file: "", key: "b", found: 2), opening: b.bytes)
    }

    @Test func duplicateMetadataKey() throws {
        var b = LittleEndianBytes()
        b.ggufHeader(tensors: 0, metadata: 2)
        b.string("k"); b.u32(0); b.u8(1)
        b.string("k"); b.u32(0); b.u8(2)
        try expectError(.duplicateKey(file: "", key: "k"), opening: b.bytes, mentions: ["'k'"])
    }

    @Test func alignmentNotAPowerOfTwo() throws {
        var b = LittleEndianBytes()
        b.ggufHeader(tensors: 0, metadata: 1)
        b.string("general.alignment"); b.u32(4); b.u32(24)
        try expectError(.badAlignment(file: "", found: "uint32 24"), opening: b.bytes, mentions: ["uint32 24"])
    }

    @Test func alignmentOfTheWrongType() throws {
        var b = LittleEndianBytes()
        b.ggufHeader(tensors: 0, metadata: 1)
        b.string("general.alignment"); b.u32(10); b.u64(32)
        try expectError(.badAlignment(file: "", found: "uint64 32"), opening: b.bytes)
    }

    @Test func tooManyDimensions() throws {
        var b = LittleEndianBytes()
        b.ggufHeader(tensors: 1, metadata: 0)
        b.ggufTensorInfo("w", dims: [1, 1, 1, 1, 1], type: 0, offset: 0)
        try expectError(.tooManyDimensions(file: "", tensor: "w", found: 5, maximum: 4), opening: b.bytes)
    }

    @Test func dimensionsOverflow() throws {
        var b = LittleEndianBytes()
        b.ggufHeader(tensors: 1, metadata: 0)
        b.ggufTensorInfo("w", dims: [1 << 40, 1 << 40], type: 0, offset: 0)
        try expectError(.shapeOverflow(file: "", tensor: "w", dimensions: [1 << 40, 1 << 40]), opening: b.bytes)
    }

    @Test func rowNotAWholeNumberOfBlocks() throws {
        var b = LittleEndianBytes()
        b.ggufHeader(tensors: 1, metadata: 0)
        b.ggufTensorInfo("w", dims: [16, 2], type: GGMLType.q4_0.rawValue, offset: 0)
        try expectError(.rowNotWholeBlocks(file: "", tensor: "w", rowLength: 16, type: "Q4_0", blockSize: 32), opening: b.bytes,
                        mentions: ["16", "Q4_0", "32"])
    }

    @Test func duplicateTensorName() throws {
        var b = LittleEndianBytes()
        b.ggufHeader(tensors: 2, metadata: 0)
        b.ggufTensorInfo("w", dims: [8], type: 0, offset: 0)
        b.ggufTensorInfo("w", dims: [8], type: 0, offset: 32)
        b.pad(to: 32); b.raw([UInt8](repeating: 0, count: 64))
        try expectError(.duplicateTensor(file: "", tensor: "w"), opening: b.bytes, mentions: ["'w'"])
    }

    @Test func overlappingTensorData() throws {
        var b = LittleEndianBytes()
        b.ggufHeader(tensors: 2, metadata: 0)
        b.ggufTensorInfo("a", dims: [16], type: 0, offset: 0)
        b.ggufTensorInfo("b", dims: [16], type: 0, offset: 32)
        b.pad(to: 32); b.raw([UInt8](repeating: 0, count: 96))
        try expectError(.overlappingTensors(file: "", tensor: "b", range: 32..<96, other: "a", otherRange: 0..<64),
                        opening: b.bytes, mentions: ["'a'", "'b'"])
    }

    @Test func missingTensor() throws {
        let path = try scratchFile(validFile())
        #expect(throws: GGUFError.tensorNotFound(file: path, tensor: "v")) { try GGUFFile(path: path).tensor("v") }
    }
}

extension GGUFError {
    /// The same error naming `file` (the tests build expected errors before the file has a path).
    func with(file path: String) -> GGUFError {
        switch self {
        case let .truncated(_, a, b, c, d): .truncated(file: path, reading: a, offset: b, needed: c, available: d)
        case let .badMagic(_, a): .badMagic(file: path, found: a)
        case let .unsupportedVersion(_, a, b): .unsupportedVersion(file: path, found: a, supported: b)
        case let .tensorCountTooLarge(_, a, b): .tensorCountTooLarge(file: path, count: a, maximum: b)
        case let .metadataCountTooLarge(_, a, b): .metadataCountTooLarge(file: path, count: a, maximum: b)
        case let .stringPastEnd(_, a, b, c): .stringPastEnd(file: path, reading: a, length: b, available: c)
        case let .invalidUTF8(_, a): .invalidUTF8(file: path, reading: a)
        case let .unknownValueType(_, a, b): .unknownValueType(file: path, key: a, found: b)
        case let .arrayTooLong(_, a, b, c): .arrayTooLong(file: path, key: a, count: b, maximum: c)
        case let .nestingTooDeep(_, a, b): .nestingTooDeep(file: path, key: a, limit: b)
        case let .invalidBool(_, a, b): .invalidBool(file: path, key: a, found: b)
        case let .duplicateKey(_, a): .duplicateKey(file: path, key: a)
        case let .badAlignment(_, a): .badAlignment(file: path, found: a)
        case let .tooManyDimensions(_, a, b, c): .tooManyDimensions(file: path, tensor: a, found: b, maximum: c)
        case let .shapeOverflow(_, a, b): .shapeOverflow(file: path, tensor: a, dimensions: b)
        case let .unknownTensorType(_, a, b): .unknownTensorType(file: path, tensor: a, found: b)
        case let .rowNotWholeBlocks(_, a, b, c, d): .rowNotWholeBlocks(file: path, tensor: a, rowLength: b, type: c, blockSize: d)
        case let .duplicateTensor(_, a): .duplicateTensor(file: path, tensor: a)
        case let .misalignedTensor(_, a, b, c): .misalignedTensor(file: path, tensor: a, offset: b, alignment: c)
        case let .tensorDataPastEnd(_, a, b, c, d): .tensorDataPastEnd(file: path, tensor: a, offset: b, byteCount: c, dataSize: d)
        case let .overlappingTensors(_, a, b, c, d): .overlappingTensors(file: path, tensor: a, range: b, other: c, otherRange: d)
        case let .tensorNotFound(_, a): .tensorNotFound(file: path, tensor: a)
        case let .unsupportedType(_, a, b, c): .unsupportedType(file: path, tensor: a, type: b, supported: c)
        case let .notStoredAsFloat(_, a, b, c): .notStoredAsFloat(file: path, tensor: a, type: b, expected: c)
        }
    }
}
