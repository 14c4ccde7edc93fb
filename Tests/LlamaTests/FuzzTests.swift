// The fuzz harness (Tools/fuzz) as CI runs it: a bounded, seeded run over damaged copies of the
// fixture models must find no trap, no hang and no allocation over budget. Then one regression test
// per thing it found, each named after the bug and built by hand from the fixture it was found in.
import Foundation
import Llama
import Testing
import TestSupport

/// Runs the `fuzz` executable built beside the test bundle; returns its exit status and stdout.
private func fuzz(_ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, output: String) {
    let result = try runProgram(builtProduct("fuzz"), arguments, environment: environment)
    return (result.status, result.stdout)
}

@Suite struct FuzzTests {
    /// CI's bounded run: 20 000 seeded cases over every fixture format (`make fuzz` runs a million).
    @Test func twentyThousandDamagedFilesGiveCleanErrorsOnly() throws {
        let (status, output) = try fuzz(["--cases", "20000", "--seed", "1"])
        #expect(status == 0, "\(output)")
        #expect(output.contains("traps         0"))
        #expect(output.contains("hangs         0"))
        #expect(output.contains("over budget   0"))
        #expect(!output.contains("loaded        0\n"), "no case loaded: the mutations never reach the tokenizer")
    }

    /// The harness itself: a planted trap and a planted hang are found, counted and named by case.
    @Test func plantedTrapAndHangAreFound() throws {
        let (status, output) = try fuzz(["--cases", "60", "--chunk", "30", "--case-timeout", "2"],
                                        environment: ["SURGERY_FUZZ_TRAP": "7", "SURGERY_FUZZ_HANG": "40"])
        #expect(status == 1)
        #expect(output.contains("traps         1") && output.contains("hangs         1"), "\(output)")
        #expect(output.contains("FINDING trap: case 7 ") && output.contains("planted trap in case 7"))
        #expect(output.contains("FINDING hang: case 40 "))
        // Every other case was still run and counted.
        let counted = ["loaded", "clean errors"].compactMap { label in
            output.split(separator: "\n").first { $0.hasPrefix("  \(label) ") }?.split(separator: " ").last.flatMap { Int($0) }
        }
        #expect(counted.reduce(0, +) == 58)
    }
}

// MARK: - What the fuzzer found

/// A copy of a fixture file or folder in a fresh temporary folder; returns the copy's path.
private func temporaryCopy(of fixture: String) throws -> String {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("surgery-fuzz-finding-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    let copy = folder.appendingPathComponent(URL(fileURLWithPath: fixture).lastPathComponent).path
    try FileManager.default.copyItem(atPath: Fixtures.path(fixture), toPath: copy)
    return copy
}

/// The folder `fixture` copied, with `edit` applied to its config.json.
private func folder(_ fixture: String, editingConfig edit: (inout [String: Any]) -> Void) throws -> String {
    let folder = try temporaryCopy(of: fixture)
    let url = URL(fileURLWithPath: folder + "/config.json")
    var config = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
    edit(&config)
    try JSONSerialization.data(withJSONObject: config).write(to: url)
    return folder
}

/// The tiny F32 GGUF copied, with the u32 value of metadata `key` set to `value`.
private func tinyGGUF(setting key: String, to value: UInt32) throws -> String {
    let path = try temporaryCopy(of: "tiny/gguf/tiny-F32.gguf")
    var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    let name = Array(key.utf8)
    let keyStart = try #require((0...(bytes.count - name.count)).first { Array(bytes[$0..<($0 + name.count)]) == name })
    let typeAt = keyStart + name.count                      // value type: u32, 4 = uint32
    #expect(bytes[typeAt] == 4, "\(key) is a uint32 in the fixture")
    for i in 0..<4 { bytes[typeAt + 4 + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt32(i))) }
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    return path
}

@Suite struct FuzzFindingTests {
    /// fuzz seed 1 case 1258 (and 50 more): a token id in tokenizer.json far beyond the number of
    /// tokens made the loader allocate a table of that many spellings (12 GB here), and Int.max
    /// overflowed `id + 1` and trapped. The id is now checked against the number of entries first.
    @Test func tokenIDFarBeyondTheVocabularyIsAnErrorNotAnAllocation() throws {
        for id in [4_294_967_296, Int.max - 1, Int.max] {
            let json = TokenizerErrorTests.byteLevelJSON {
                TokenizerErrorTests.editModel(&$0) { model in
                    var vocab = model["vocab"] as! [String: Int]
                    vocab["Ġt"] = id
                    model["vocab"] = vocab
                }
            }
            #expect(throws: TokenizerError.missingTokenID(id: 256, vocabularySize: id == Int.max ? id : id + 1)) {
                _ = try Tokenizer(tokenizerJSON: json)
            }
        }
    }

    /// fuzz seed 1 cases 2266, 2371, 5417: a layer count of 10⁵…10⁹ (config.json or GGUF) made the
    /// check for required tensors list 9 names per layer before looking at the file, so it ran out of
    /// memory. The check now stops at the first missing tensor.
    @Test func layerCountFarBeyondTheTensorsIsAMissingTensor() throws {
        let hf = try folder("tiny/bf16") { $0["num_hidden_layers"] = 4_294_967_296 }
        #expect(throws: CheckpointError.missingTensor(path: hf + "/model.safetensors", tensor: "model.layers.2.input_layernorm.weight")) {
            _ = try Checkpoint.open(hf)
        }
        let gguf = try tinyGGUF(setting: "llama.block_count", to: .max)
        #expect(throws: CheckpointError.missingTensor(path: gguf, tensor: "model.layers.2.input_layernorm.weight")) {
            _ = try Checkpoint.open(gguf)
        }
    }

    /// fuzz seed 1 case 1221 and GGUF cases: a context of 128 000 384 positions built a 4 GB RoPE
    /// table when the model loaded. Contexts are now bounded (`Config.maximumContextLength`).
    @Test func contextLengthOverTheLimitIsAnInvalidConfig() throws {
        let hf = try folder("tiny/bf16") { $0["max_position_embeddings"] = 128_000_384 }
        #expect(throws: CheckpointError.invalidConfig(path: hf + "/config.json",
                reason: "max_position_embeddings is 128000384, more than the 1048576 this project supports")) {
            _ = try Checkpoint.open(hf)
        }
        let gguf = try tinyGGUF(setting: "llama.context_length", to: .max)
        #expect(throws: CheckpointError.invalidConfig(path: gguf,
                reason: "max_position_embeddings is 4294967295, more than the 1048576 this project supports")) {
            _ = try Checkpoint.open(gguf)
        }
    }

    /// Found while reading the fuzzer's findings: head counts whose product with the head dimension
    /// overflows an Int trapped when the required shapes were computed (H·Dh).
    @Test func sizesWhoseProductOverflowsAreAnInvalidConfig() throws {
        let hf = try folder("tiny/bf16") {
            $0["num_attention_heads"] = 1 << 62
            $0["num_key_value_heads"] = 1 << 62
        }
        #expect(throws: CheckpointError.invalidConfig(path: hf + "/config.json",
                reason: "the product \(1 << 62) × 16 × 64 of its sizes overflows")) {
            _ = try Checkpoint.open(hf)
        }
    }
}
