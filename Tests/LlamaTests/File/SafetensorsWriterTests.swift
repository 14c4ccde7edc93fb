// Safetensors writing: byte-for-byte equality with a file Python's `safetensors` wrote from the same
// values (so that package reads what this project writes, bit for bit), round trips, and the
// never-a-partial-file rules.
import Foundation
import Llama
import Tensor
import Testing
import TestSupport

// Tolerance: none. Bytes are compared exactly; F16/BF16 rounding must be torch's (nearest, ties even).

@Suite struct SafetensorsWriterTests {

    @Test func bytesEqualWhatPythonSafetensorsWrites() throws {
        let spec = try jsonObject("formats/writer/writer.json")
        let tensors = try #require(spec["tensors"] as? [[String: Any]])
        let metadata = try #require(spec["metadata"] as? [String: String])
        let source = try Fixtures.floats("formats/writer/source.f32")
        var entries: [SafetensorsEntry] = []
        var offset = 0
        for t in tensors {
            let shape = try #require(t["shape"] as? [Int])
            let dtypeName = try #require(t["dtype"] as? String)
            let dtype = try #require(ScalarEncoding(rawValue: dtypeName))
            let count = shape.reduce(1, *)
            entries.append(SafetensorsEntry(name: try #require(t["name"] as? String), shape: shape,
                                            values: floatSlice(source, offset: offset, count: count), dtype: dtype))
            offset += count
        }
        #expect(offset == source.count)
        let path = try scratchDirectory() + "/written.safetensors"
        try SafetensorsFile.write(entries, metadata: metadata, to: path)
        let written = try Data(contentsOf: URL(fileURLWithPath: path))
        let reference = try Fixtures.data("formats/writer/reference.safetensors")
        let firstDifference = zip(written, reference).enumerated().first { $0.element.0 != $0.element.1 }?.offset
        #expect(written == reference, "sizes \(written.count) vs \(reference.count), first different byte \(String(describing: firstDifference))")
    }

    @Test func roundTrip() throws {
        let folder = try scratchDirectory()
        let path = folder + "/model.safetensors"
        let a = Tensor(shape: [2, 3], scalars: [1, -2.5, 3.25, 0, -0, .infinity])
        let b = Tensor(shape: [5], scalars: [0.1, 1e-8, 70000, -1, 1.0 / 3])
        let tiny = try SafetensorsFile(path: Fixtures.path("tiny/bf16/model.safetensors"))
        let stored = try tiny.storedTensor("model.norm.weight")
        try SafetensorsFile.write([
            SafetensorsEntry(name: "a", tensor: a, dtype: .float32),
            SafetensorsEntry(name: "b16", tensor: b, dtype: .bfloat16),
            SafetensorsEntry(name: "h16", tensor: b, dtype: .float16),
            SafetensorsEntry(name: "norm", stored: stored),
            SafetensorsEntry(name: "norm32", stored: stored, dtype: .float32),
        ], metadata: ["format": "pt", "surgery": "q,k,v at 90%"], to: path)

        let file = try SafetensorsFile(path: path)
        #expect(file.metadata == ["format": "pt", "surgery": "q,k,v at 90%"])
        #expect(file.names == ["a", "norm32", "b16", "norm", "h16"])             // F32, BF16, F16; then by name
        #expect(bitwiseEqual(try file.tensor("a").scalars, a.scalars))
        #expect(try file.tensor("b16").scalars == b.scalars.map { floatFromBFloat16Bits(bfloat16Bits(from: $0)) })
        #expect(try file.tensor("h16").scalars == b.scalars.map { floatFromHalfBits(halfBits(from: $0)) })
        #expect(try file.info("h16").dtype == .float16 && file.info("h16").shape == [5])
        #expect(Array(try file.storedTensor("norm").bytes) == Array(stored.bytes))
        #expect(try file.tensor("norm32").scalars == stored.decoded().scalars)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["model.safetensors"])
    }

    /// Stored tensors larger than the write buffer go straight from the mapping to the file.
    @Test func largeStoredTensorCopiesExactly() throws {
        let folder = try scratchDirectory()
        let values = (0..<400_000).map { Float($0) * 0.001 - 7 }
        try SafetensorsFile.write([SafetensorsEntry(name: "big", shape: [400, 1000], values: values, dtype: .float32),
                                   SafetensorsEntry(name: "small", shape: [3], values: [1, 2, 3], dtype: .bfloat16)],
                                  to: folder + "/a.safetensors")
        let first = try SafetensorsFile(path: folder + "/a.safetensors")
        try SafetensorsFile.write(try first.names.map { SafetensorsEntry(name: $0, stored: try first.storedTensor($0)) },
                                  to: folder + "/b.safetensors")
        let a = try Data(contentsOf: URL(fileURLWithPath: folder + "/a.safetensors"))
        let b = try Data(contentsOf: URL(fileURLWithPath: folder + "/b.safetensors"))
        #expect(elementDifference(a, b) == nil)
        #expect(bitwiseEqual(try SafetensorsFile(path: folder + "/b.safetensors").tensor("big").scalars, values))
    }

    @Test func refusesToReplaceAnExistingFile() throws {
        let folder = try scratchDirectory()
        let path = folder + "/out.safetensors"
        let entry = SafetensorsEntry(name: "x", tensor: Tensor(shape: [1], scalars: [1]), dtype: .float32)
        try SafetensorsFile.write([entry], to: path)
        #expect(throws: FileAccessError.destinationExists(file: path)) { try SafetensorsFile.write([entry], to: path) }
        let second = SafetensorsEntry(name: "x", tensor: Tensor(shape: [1], scalars: [2]), dtype: .float32)
        try SafetensorsFile.write([second], to: path, replacing: true)
        #expect(try SafetensorsFile(path: path).tensor("x").scalars == [2])
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["out.safetensors"])
    }

    @Test func valuesThatDoNotFillTheShape() throws {
        let folder = try scratchDirectory()
        let entry = SafetensorsEntry(name: "x", shape: [2, 2], values: [1, 2, 3], dtype: .float16)
        #expect(throws: SafetensorsError.valueCountMismatch(tensor: "x", shape: [2, 2], expected: 4, found: 3)) {
            try SafetensorsFile.write([entry], to: folder + "/out.safetensors")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).isEmpty)
    }

    @Test func duplicateNamesAreRefused() throws {
        let folder = try scratchDirectory()
        let entry = SafetensorsEntry(name: "x", tensor: Tensor(shape: [1], scalars: [1]), dtype: .float32)
        #expect(throws: SafetensorsError.duplicateTensor(file: "(output)", tensor: "x")) {
            try SafetensorsFile.write([entry, entry], to: folder + "/out.safetensors")
        }
    }

    @Test func unwritableFolderLeavesNothing() throws {
        let path = try scratchDirectory() + "/no/such/folder/out.safetensors"
        let entry = SafetensorsEntry(name: "x", tensor: Tensor(shape: [1], scalars: [1]), dtype: .float32)
        #expect(throws: FileAccessError.cannotWrite(file: path, reason: "No such file or directory")) {
            try SafetensorsFile.write([entry], to: path)
        }
    }
}
