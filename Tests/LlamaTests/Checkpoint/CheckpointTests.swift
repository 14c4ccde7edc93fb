// One view over every format: the tiny model from each fixture file gives the same tensors under
// Hugging Face names (llama.cpp's Q/K permutation undone), the real model's layer-0 q/k equal what
// transformers loads from the same GGUF, the GGUF config equals config.json, and each bad
// checkpoint is an error naming the file and what was wrong.
import Foundation
import Testing
import Llama
import Tensor
import TestSupport

/// transformers dequantizes with the `gguf` package, whose float32 arithmetic (d·q + m) this
/// project's dequantization repeats operation for operation: values are equal, not just close.
private let dequantizedMaxAbs: Float = 0
/// Row sums were accumulated in float64 by numpy and stored as float32; ours in Float.
private let rowSumRelative = 1e-5

private func manifest() throws -> [String: Any] {
    try #require(try Fixtures.json("tiny/manifest.json") as? [String: Any])
}

@Suite struct CheckpointFormatsTests {
    /// The F32 GGUF holds the same numbers as the F32 safetensors, Q and K rows permuted; after
    /// un-permuting, every tensor is bit-identical.
    @Test func ggufF32EqualsSafetensorsAfterUnpermuting() throws {
        let gguf = try Checkpoint.open(Fixtures.path("tiny/gguf/tiny-F32.gguf"))
        let hf = try Checkpoint.open(Fixtures.path("tiny/f32"))
        #expect(gguf.format == .gguf && hf.format == .safetensors)
        #expect(Set(gguf.tensors.map(\.name)) == Set(hf.tensors.map(\.name)))
        for info in hf.tensors {
            let a = try gguf.tensor(named: info.name), b = try hf.tensor(named: info.name)
            #expect(a.shape == b.shape, "\(info.name)")
            let differing = zip(a.scalars, b.scalars).filter { $0.0.bitPattern != $0.1.bitPattern }.count
            #expect(differing == 0, "\(info.name): \(differing) values differ")
        }
    }

    /// Quantized GGUFs: q_proj/k_proj equal the `gguf` package's dequantized rows (recorded in GGUF
    /// order) moved to Hugging Face order by the recorded permutation — not by this project's code.
    @Test(arguments: ["Q8_0", "Q4_0", "Q4_1"]) func quantizedQKInHuggingFaceOrder(type: String) throws {
        let m = try manifest()
        let gguf = try #require((m["gguf"] as? [String: Any])?[type] as? [String: Any])
        let entries = try #require(gguf["tensors"] as? [[String: Any]])
        let permutations = try #require(m["permutation"] as? [String: Any])
        let checkpoint = try Checkpoint.open(Fixtures.path("tiny/" + (try #require(gguf["file"] as? String))))
        for entry in entries {
            guard let permutationName = entry["row_permutation"] as? String else { continue }
            let name = try #require(entry["name"] as? String)
            let shape = try #require(entry["shape"] as? [Int])
            let expectedFile = try #require(entry["expected"] as? String)
            let offset = try #require(entry["offset"] as? Int), count = try #require(entry["count"] as? Int)
            let expected = Array(try Fixtures.floats("tiny/" + expectedFile)[offset..<(offset + count)])
            let permutation = try #require(permutations[permutationName] as? [Int])
            let canonical = name.replacingOccurrences(of: "blk.", with: "model.layers.")
                .replacingOccurrences(of: ".attn_q.weight", with: ".self_attn.q_proj.weight")
                .replacingOccurrences(of: ".attn_k.weight", with: ".self_attn.k_proj.weight")
            let ours = try checkpoint.tensor(named: canonical)
            #expect(ours.shape == shape)
            let columns = shape[1]
            var maxAbs: Float = 0
            for ggufRow in 0..<shape[0] {
                let hfRow = permutation[ggufRow]
                for j in 0..<columns {
                    maxAbs = max(maxAbs, abs(ours.scalars[hfRow * columns + j] - expected[ggufRow * columns + j]))
                }
            }
            #expect(maxAbs <= dequantizedMaxAbs, "\(type) \(canonical)")
        }
    }

    @Test func ggufConfigEqualsConfigJSON() throws {
        let gguf = try Checkpoint.open(Fixtures.path("tiny/gguf/tiny-Q8_0.gguf")).config
        let hf = try Checkpoint.open(Fixtures.path("tiny/f32")).config
        #expect(gguf.layerCount == hf.layerCount)
        #expect(gguf.hiddenSize == hf.hiddenSize)
        #expect(gguf.headCount == hf.headCount && gguf.kvHeadCount == hf.kvHeadCount)
        #expect(gguf.headDim == hf.headDim)
        #expect(gguf.intermediateSize == hf.intermediateSize)
        #expect(gguf.vocabSize == hf.vocabSize)
        #expect(gguf.rmsNormEpsilon == hf.rmsNormEpsilon)
        #expect(gguf.ropeTheta == hf.ropeTheta)
        #expect(gguf.tiedEmbeddings == hf.tiedEmbeddings)
    }

    @Test func shardedBF16AndTiedFoldersOpen() throws {
        let sharded = try Checkpoint.open(Fixtures.path("tiny/sharded"))
        #expect(sharded.files.count >= 3)                          // index + ≥ 2 shards (+ config)
        let tied = try Checkpoint.open(Fixtures.path("tiny/tied"))
        #expect(tied.config.tiedEmbeddings)
        #expect(tied.info(named: ModelTensor.outputHead) == nil)
    }
}

@Suite struct SmolLM2CheckpointTests {
    /// Layer 0's q_proj and k_proj from the Q4_1 GGUF, un-permuted, against transformers' load of
    /// the same file (Tests/Fixtures/formats/smollm2/layer0.json).
    @Test(arguments: ["q_proj", "k_proj"]) func layerZeroEqualsTransformers(name: String) throws {
        let manifest = try #require(try Fixtures.json("formats/smollm2/layer0.json") as? [String: Any])
        let entry = try #require((manifest["tensors"] as? [String: Any])?["transformers.\(name)"] as? [String: Any])
        let rows = try #require(entry["rows"] as? [Int])
        let shape = try #require(entry["shape"] as? [Int])
        let expectedRows = try Fixtures.floats("formats/" + (try #require(entry["rows_file"] as? String)))
        let expectedSums = try Fixtures.floats("formats/" + (try #require(entry["row_sums_file"] as? String)))
        let ours = try Checkpoint.open(Fixtures.modelPath).tensor(named: "model.layers.0.self_attn.\(name).weight")
        #expect(ours.shape == shape)
        let columns = shape[1]
        for (k, row) in rows.enumerated() {
            let a = ours.scalars[(row * columns)..<((row + 1) * columns)]
            let b = expectedRows[(k * columns)..<((k + 1) * columns)]
            #expect(zip(a, b).allSatisfy { abs($0 - $1) <= dequantizedMaxAbs }, "row \(row)")
        }
        for row in 0..<shape[0] {
            let sum = ours.scalars[(row * columns)..<((row + 1) * columns)].reduce(0.0) { $0 + Double($1) }
            let expected = Double(expectedSums[row])
            #expect(abs(sum - expected) <= rowSumRelative * max(abs(expected), 1e-3), "row sum \(row)")
        }
        let frobenius = ours.scalars.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
        #expect(abs(frobenius - (try #require(entry["frobenius"] as? Double))) <= 1e-9 * frobenius)
    }
}

@Suite struct CheckpointErrorTests {
    /// A copy of the tiny F32 folder with `edit` applied to its config.json.
    private func tinyFolder(editingConfig edit: (inout [String: Any]) -> Void) throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("surgery-checkpoint-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: Fixtures.path("tiny/f32/model.safetensors"),
                                         toPath: folder.appendingPathComponent("model.safetensors").path)
        var config = try #require(try JSONSerialization.jsonObject(
            with: Data(contentsOf: URL(fileURLWithPath: Fixtures.path("tiny/f32/config.json")))) as? [String: Any])
        edit(&config)
        try JSONSerialization.data(withJSONObject: config).write(to: folder.appendingPathComponent("config.json"))
        return folder.path
    }

    private func expectError(_ path: String, _ expected: CheckpointError) {
        #expect(throws: expected) { _ = try Checkpoint.open(path) }
    }

    /// A .safetensors file opened by itself needs a config.json beside it.
    @Test func missingConfigBesideSafetensors() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("surgery-checkpoint-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let file = folder.appendingPathComponent("model.safetensors").path
        try FileManager.default.copyItem(atPath: Fixtures.path("tiny/f32/model.safetensors"), toPath: file)
        expectError(file, .missingConfig(path: folder.path + "/config.json", model: file))
        #expect(CheckpointError.missingConfig(path: "a/config.json", model: "a/m.safetensors").description
                == "a/config.json: no such file; a safetensors model (a/m.safetensors) needs its config.json beside it")
    }

    /// A config.json that cannot be read (here: a folder of that name).
    @Test func unreadableConfig() throws {
        let folder = try tinyFolder { _ in }
        try FileManager.default.removeItem(atPath: folder + "/config.json")
        try FileManager.default.createDirectory(atPath: folder + "/config.json", withIntermediateDirectories: false)
        expectError(folder, .unreadableConfig(path: folder + "/config.json"))
    }

    @Test func missingConfigKey() throws {
        let folder = try tinyFolder { $0.removeValue(forKey: "hidden_size") }
        expectError(folder, .missingConfigKey(path: folder + "/config.json", key: "hidden_size"))
    }

    @Test func otherArchitecture() throws {
        let folder = try tinyFolder { $0["model_type"] = "mistral" }
        expectError(folder, .unsupportedArchitecture(path: folder + "/config.json", found: "mistral", expected: "llama"))
    }

    @Test func scaledRoPE() throws {
        let folder = try tinyFolder { $0["rope_parameters"] = ["rope_type": "llama3", "rope_theta": 10000.0] }
        expectError(folder, .unsupportedFeature(path: folder + "/config.json", feature: "rope_scaling type \"llama3\""))
    }

    @Test func headsNotAMultipleOfKVHeads() throws {
        let folder = try tinyFolder { $0["num_key_value_heads"] = 3 }
        #expect(throws: CheckpointError.self) { _ = try Checkpoint.open(folder) }
    }

    @Test func missingTensor() throws {
        let source = try Checkpoint.open(Fixtures.path("tiny/f32"))
        let folder = try tinyFolder { _ in }
        let path = folder + "/model.safetensors"
        try FileManager.default.removeItem(atPath: path)
        let kept = source.tensors.filter { $0.name != "model.layers.1.self_attn.k_proj.weight" }
        try SafetensorsFile.write(try kept.map { SafetensorsEntry(name: $0.name, tensor: try source.tensor(named: $0.name), dtype: .float32) },
                                  to: path)
        expectError(folder, .missingTensor(path: path, tensor: "model.layers.1.self_attn.k_proj.weight"))
    }

    @Test func wrongShapeForTheConfig() throws {
        let folder = try tinyFolder { $0["intermediate_size"] = 128 }
        expectError(folder, .wrongShape(path: folder + "/model.safetensors", tensor: "model.layers.0.mlp.gate_proj.weight",
                                        found: [96, 64], expected: [128, 64]))
    }

    @Test func pathsWithoutAModel() throws {
        expectError("/nonexistent/folder", .notFound(path: "/nonexistent/folder"))
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("surgery-empty-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        expectError(empty, .noModelInDirectory(path: empty))
    }

    @Test func safetensorsFileWithoutConfig() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("surgery-noconfig-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let path = folder.appendingPathComponent("model.safetensors").path
        try FileManager.default.copyItem(atPath: Fixtures.path("tiny/f32/model.safetensors"), toPath: path)
        #expect(throws: CheckpointError.self) { _ = try Checkpoint.open(path) }
    }
}
