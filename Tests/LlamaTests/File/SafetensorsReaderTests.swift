// Safetensors reading: the tiny model saved by transformers (F32, BF16, sharded, tied) against the
// values torch holds (Tests/Fixtures/tiny, Tools/reference/formats.py), and one handcrafted file per
// way a safetensors file can be wrong.
import Foundation
import Llama
import Tensor
import Testing
import TestSupport

// Tolerances: none. F32 is read as stored; BF16 is widened to float32, which is exact; the fixture
// holds torch's own bf16 bit patterns.

struct TinyManifestTensor {
    let name: String, ggufName: String, shape: [Int], offset: Int, count: Int
}

func tinyManifestTensors() throws -> [TinyManifestTensor] {
    let manifest = try jsonObject("tiny/manifest.json")
    let tensors = try #require(manifest["tensors"] as? [[String: Any]])
    return try tensors.map { t in
        TinyManifestTensor(name: try #require(t["name"] as? String), ggufName: try #require(t["gguf_name"] as? String),
                           shape: try #require(t["shape"] as? [Int]), offset: try #require(t["offset"] as? Int),
                           count: try #require(t["count"] as? Int))
    }
}

@Suite struct SafetensorsReaderTests {

    // MARK: - The tiny model

    @Test func tinyF32EqualsTorchExactly() throws {
        let file = try SafetensorsFile(path: Fixtures.path("tiny/f32/model.safetensors"))
        let expected = try Fixtures.floats("tiny/expected-f32.f32")
        let tensors = try tinyManifestTensors()
        #expect(Set(file.names) == Set(tensors.map(\.name)))
        #expect(file.metadata["format"] == "pt")
        for t in tensors {
            let info = try file.info(t.name)
            #expect(info.dtype == .float32 && info.shape == t.shape, "\(t.name)")
            let loaded = try file.tensor(t.name)
            #expect(loaded.shape == t.shape)
            let want = floatSlice(expected, offset: t.offset, count: t.count)
            expectBitwiseEqual(loaded.scalars, want, t.name)
            #expect(try file.storedTensor(t.name).encoding == .float32)
        }
    }

    @Test func tinyBF16EqualsTorchBitPatterns() throws {
        let file = try SafetensorsFile(path: Fixtures.path("tiny/bf16/model.safetensors"))
        let bits = try Fixtures.uint16s("tiny/expected-bf16.u16")
        for t in try tinyManifestTensors() {
            let stored = try file.storedTensor(t.name)
            #expect(stored.encoding == .bfloat16 && stored.shape == t.shape, "\(t.name)")
            let want = bits[t.offset..<(t.offset + t.count)].map(floatFromBFloat16Bits)
            let loaded = try file.tensor(t.name)
            expectBitwiseEqual(loaded.scalars, want, t.name)
        }
    }

    @Test func namesAreInByteOrder() throws {
        let file = try SafetensorsFile(path: Fixtures.path("tiny/f32/model.safetensors"))
        let offsets = try file.names.map { try file.info($0).dataOffsets.lowerBound }
        #expect(offsets == offsets.sorted())
        #expect(file.names.count == 21)
    }

    @Test func shardedCheckpointEqualsTheSingleFile() throws {
        let sharded = try ShardedSafetensors(indexPath: Fixtures.path("tiny/sharded/model.safetensors.index.json"))
        let bits = try Fixtures.uint16s("tiny/expected-bf16.u16")
        let tensors = try tinyManifestTensors()
        #expect(sharded.shards.count == 3)
        #expect(Set(sharded.names) == Set(tensors.map(\.name)) && sharded.names.count == tensors.count)
        #expect(sharded.totalSize == bits.count * 2)
        for t in tensors {
            let want = bits[t.offset..<(t.offset + t.count)].map(floatFromBFloat16Bits)
            expectBitwiseEqual(try sharded.tensor(t.name).scalars, want, t.name)
            #expect(try sharded.info(t.name).shape == t.shape)
        }
        #expect(throws: SafetensorsError.tensorNotFound(file: sharded.indexPath, tensor: "nope")) {
            try sharded.tensor("nope")
        }
    }

    @Test func tiedModelHasNoLMHead() throws {
        let file = try SafetensorsFile(path: Fixtures.path("tiny/tied/model.safetensors"))
        #expect(!file.contains("lm_head.weight"))
        #expect(try file.info("model.embed_tokens.weight").shape == [96, 64])
        #expect(try file.info("model.embed_tokens.weight").dtype == .bfloat16)
    }

    // MARK: - Handcrafted valid files

    @Test func everyDtypeAndEmptyTensorsAreAccepted() throws {
        var data = LittleEndianBytes()
        for v in [1.5, -2.25] as [Double] { data.u64(v.bitPattern) }               // F64 [2]
        data.u16(0x3C00)                                                         // F16 [1] = 1
        data.raw([1, 0])                                                         // BOOL [2]
        let header = """
        {"d":{"dtype":"F64","shape":[2],"data_offsets":[0,16]},"h":{"dtype":"F16","shape":[1],"data_offsets":[16,18]},\
        "e":{"dtype":"F32","shape":[0,3],"data_offsets":[18,18]},"b":{"dtype":"BOOL","shape":[2],"data_offsets":[18,20]},\
        "__metadata__":{"k":"v"}}
        """
        let path = try scratchFile(safetensorsBytes(header: header, data: data.bytes))
        let file = try SafetensorsFile(path: path)
        #expect(file.names == ["d", "h", "e", "b"])
        #expect(file.metadata == ["k": "v"])
        #expect(try file.tensor("d").scalars == [1.5, -2.25])
        #expect(try file.tensor("h").scalars == [1])
        #expect(try file.tensor("e").shape == [0, 3])
        #expect(throws: SafetensorsError.wrongDtype(file: path, tensor: "b", found: "BOOL", expected: ["F64", "F32", "F16", "BF16"])) {
            try file.tensor("b")
        }
        #expect(throws: SafetensorsError.wrongDtype(file: path, tensor: "d", found: "F64", expected: ["F32", "F16", "BF16"])) {
            try file.storedTensor("d")
        }
    }

    // MARK: - One handcrafted file per error

    /// A header of one F32 tensor "w" of `shape` at `offsets`, and `dataBytes` zero bytes of data.
    func oneTensor(shape: String = "[2]", dtype: String = "F32", offsets: String = "[0,8]", dataBytes: Int = 8) throws -> String {
        let header = "{\"w\":{\"dtype\":\"\(dtype)\",\"shape\":\(shape),\"data_offsets\":\(offsets)}}"
        return try scratchFile(safetensorsBytes(header: header, data: [UInt8](repeating: 0, count: dataBytes)))
    }

    func expectError(_ expected: SafetensorsError, opening path: String, mentions words: [String] = []) {
        #expect(throws: expected) { try SafetensorsFile(path: path) }
        #expect(expected.description.hasPrefix(path + ":"))
        for word in words { #expect(expected.description.contains(word), "\(expected.description) lacks \(word)") }
    }

    @Test func truncatedFile() throws {
        let path = try scratchFile([1, 0, 0])
        expectError(.truncated(file: path, fileSize: 3, needed: 8), opening: path, mentions: ["3 bytes"])
    }

    @Test func emptyFile() throws {
        let path = try scratchFile([])
        expectError(.truncated(file: path, fileSize: 0, needed: 8), opening: path)
    }

    @Test func headerLengthPastTheEnd() throws {
        var b = LittleEndianBytes()
        b.u64(100); b.raw(Array("{\"a\":1}...".utf8))
        let path = try scratchFile(b.bytes)
        expectError(.headerPastEnd(file: path, headerLength: 100, available: 10), opening: path, mentions: ["100", "10 bytes"])
    }

    @Test func headerOverTheLimit() throws {
        var b = LittleEndianBytes()
        b.u64(200_000_000); b.raw(Array("{}".utf8))
        let path = try scratchFile(b.bytes)
        expectError(.headerTooLarge(file: path, headerLength: 200_000_000, limit: 100_000_000), opening: path)
    }

    @Test func headerNotJSON() throws {
        let path = try scratchFile(safetensorsBytes(header: "{\"w\": nonsense}", data: []))
        #expect {
            try SafetensorsFile(path: path)
        } throws: { error in
            guard case .headerNotJSON(let file, let reason) = error as? SafetensorsError else { return false }
            return file == path && reason.contains("byte 6")
        }
    }

    @Test func headerNotAnObject() throws {
        let path = try scratchFile(safetensorsBytes(header: "[1, 2]", data: []))
        expectError(.headerNotObject(file: path, found: "an array"), opening: path, mentions: ["an array", "object"])
    }

    @Test func unknownDtype() throws {
        let path = try oneTensor(dtype: "F8_E4M3", dataBytes: 2)
        expectError(.unknownDtype(file: path, tensor: "w", found: "F8_E4M3", expected: SafetensorsDType.allCases.map(\.rawValue)),
                    opening: path, mentions: ["'w'", "F8_E4M3", "BF16"])
    }

    @Test func offsetsOutOfRange() throws {
        let path = try oneTensor(offsets: "[0,16]", dataBytes: 8)
        expectError(.offsetsOutOfRange(file: path, tensor: "w", begin: 0, end: 16, dataSize: 8), opening: path, mentions: ["'w'", "16", "8 bytes"])
    }

    @Test func offsetsReversed() throws {
        let path = try oneTensor(offsets: "[8,0]", dataBytes: 8)
        expectError(.offsetsOutOfRange(file: path, tensor: "w", begin: 8, end: 0, dataSize: 8), opening: path)
    }

    @Test func overlappingTensors() throws {
        let header = """
        {"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}
        """
        let path = try scratchFile(safetensorsBytes(header: header, data: [UInt8](repeating: 0, count: 12)))
        expectError(.overlappingTensors(file: path, tensor: "b", range: 4..<12, other: "a", otherRange: 0..<8),
                    opening: path, mentions: ["'a'", "'b'"])
    }

    @Test func holeBetweenTensors() throws {
        let header = """
        {"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[12,20]}}
        """
        let path = try scratchFile(safetensorsBytes(header: header, data: [UInt8](repeating: 0, count: 20)))
        expectError(.hole(file: path, range: 8..<12, before: "b"), opening: path, mentions: ["8..<12", "'b'"])
    }

    @Test func holeAtTheEnd() throws {
        let path = try oneTensor(dataBytes: 12)
        expectError(.hole(file: path, range: 8..<12, before: nil), opening: path, mentions: ["after the last tensor"])
    }

    @Test func bytesDisagreeWithShapeTimesDtype() throws {
        let path = try oneTensor(shape: "[3]", offsets: "[0,8]", dataBytes: 8)
        expectError(.byteCountMismatch(file: path, tensor: "w", shape: [3], dtype: "F32", expected: 12, found: 8),
                    opening: path, mentions: ["'w'", "12", "8 bytes"])
    }

    @Test func shapeProductOverflows() throws {
        let path = try oneTensor(shape: "[4611686018427387904, 4]", dataBytes: 8)
        expectError(.shapeOverflow(file: path, tensor: "w", shape: [4_611_686_018_427_387_904, 4], dtype: "F32"), opening: path)
    }

    @Test func duplicateTensorName() throws {
        let header = """
        {"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}
        """
        let path = try scratchFile(safetensorsBytes(header: header, data: [UInt8](repeating: 0, count: 8)))
        expectError(.duplicateTensor(file: path, tensor: "w"), opening: path, mentions: ["'w'"])
    }

    @Test func malformedEntry() throws {
        let path = try scratchFile(safetensorsBytes(header: "{\"w\":{\"dtype\":\"F32\",\"shape\":[1]}}", data: [0, 0, 0, 0]))
        expectError(.malformedEntry(file: path, tensor: "w", field: "data_offsets", found: "missing",
                                    expected: "two non-negative integers [begin, end]"), opening: path)
    }

    @Test func negativeDimension() throws {
        let path = try oneTensor(shape: "[-2]")
        expectError(.malformedEntry(file: path, tensor: "w", field: "a dimension of shape", found: "a number",
                                    expected: "a non-negative integer"), opening: path)
    }

    @Test func metadataNotStrings() throws {
        let path = try scratchFile(safetensorsBytes(header: "{\"__metadata__\":{\"n\":1}}", data: []))
        expectError(.metadataNotStrings(file: path, key: "n", found: "a number"), opening: path, mentions: ["'n'"])
    }

    @Test func missingTensor() throws {
        let path = try oneTensor()
        let file = try SafetensorsFile(path: path)
        #expect(throws: SafetensorsError.tensorNotFound(file: path, tensor: "v")) { try file.tensor("v") }
    }

    @Test func pathThatDoesNotExist() throws {
        let path = try scratchDirectory() + "/missing.safetensors"
        #expect(throws: FileAccessError.cannotOpen(file: path, reason: "No such file or directory")) {
            try SafetensorsFile(path: path)
        }
    }

    @Test func pathThatIsADirectory() throws {
        let path = try scratchDirectory()
        #expect(throws: FileAccessError.notARegularFile(file: path)) { try SafetensorsFile(path: path) }
    }

    // MARK: - Sharded index errors

    /// A folder with one shard holding tensors `a` and `b`, and an index with `weightMap`.
    func shardedFolder(weightMap: String) throws -> String {
        let folder = try scratchDirectory()
        let header = """
        {"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}
        """
        try Data(safetensorsBytes(header: header, data: [UInt8](repeating: 0, count: 8)))
            .write(to: URL(fileURLWithPath: folder + "/s1.safetensors"))
        try Data("{\"metadata\":{\"total_size\":8},\"weight_map\":\(weightMap)}".utf8)
            .write(to: URL(fileURLWithPath: folder + "/model.safetensors.index.json"))
        return folder
    }

    @Test func shardHoldsATensorTheIndexDoesNotList() throws {
        let folder = try shardedFolder(weightMap: "{\"a\":\"s1.safetensors\"}")
        let index = folder + "/model.safetensors.index.json"
        #expect(throws: SafetensorsError.tensorNotInIndex(file: folder + "/s1.safetensors", tensor: "b", index: index)) {
            try ShardedSafetensors(indexPath: index)
        }
    }

    @Test func indexListsATensorTheShardLacks() throws {
        let folder = try shardedFolder(weightMap: "{\"a\":\"s1.safetensors\",\"b\":\"s1.safetensors\",\"c\":\"s1.safetensors\"}")
        #expect(throws: SafetensorsError.tensorNotFound(file: folder + "/s1.safetensors", tensor: "c")) {
            try ShardedSafetensors(indexPath: folder + "/model.safetensors.index.json")
        }
    }

    @Test func indexNamesAShardOutsideItsFolder() throws {
        let folder = try shardedFolder(weightMap: "{\"a\":\"../s1.safetensors\"}")
        let index = folder + "/model.safetensors.index.json"
        #expect(throws: SafetensorsError.malformedIndex(file: index, reason: "shard name \"../s1.safetensors\" for 'a' is not a file name beside the index")) {
            try ShardedSafetensors(indexPath: index)
        }
    }

    @Test func indexListsATensorTwice() throws {
        let folder = try shardedFolder(weightMap: "{\"a\":\"s1.safetensors\",\"a\":\"s1.safetensors\",\"b\":\"s1.safetensors\"}")
        let index = folder + "/model.safetensors.index.json"
        #expect(throws: SafetensorsError.duplicateTensor(file: index, tensor: "a")) { try ShardedSafetensors(indexPath: index) }
    }

    @Test func indexWithoutWeightMap() throws {
        let folder = try scratchDirectory()
        let index = folder + "/model.safetensors.index.json"
        try Data("{\"metadata\":{}}".utf8).write(to: URL(fileURLWithPath: index))
        #expect(throws: SafetensorsError.malformedIndex(file: index, reason: "no \"weight_map\" object")) {
            try ShardedSafetensors(indexPath: index)
        }
    }
}
