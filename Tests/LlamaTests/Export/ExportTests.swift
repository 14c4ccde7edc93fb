// exportHuggingFace end to end: the tiny fixture model and SmolLM2 written as Hugging Face folders and
// reopened with Checkpoint.open — config equal, tensors equal to the source (F32) or to its rounding
// (BF16/F16, via Tensor's bfloat16Bits/halfBits), logits identical for the F32 export and within
// the forward tests' bound of transformers' recorded logits; then every refusal, with nothing left behind.
import Foundation
import Testing
import Llama
import Tensor
import TestSupport

/// transformers' SmolLM2 logits (Tests/Fixtures/model, Tools/reference/model.py) against ours: the same
/// bound as the forward-pass tests (float32 summation order, 30 layers; see ForwardTests.swift).
private let exportedLogitsMaxAbs: Float = 1e-3

/// A fresh path in a fresh parent folder (the parent is listed to check nothing is left behind).
private func scratchParent() throws -> String {
    let parent = FileManager.default.temporaryDirectory.appendingPathComponent("export-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: false)
    return parent
}

private func listing(_ folder: String) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
}

private func roundedScalars(_ t: Tensor, _ dtype: ScalarEncoding) -> [Float] {
    switch dtype {
    case .float32: t.scalars
    case .bfloat16: t.scalars.map { floatFromBFloat16Bits(bfloat16Bits(from: $0)) }
    case .float16: t.scalars.map { floatFromHalfBits(halfBits(from: $0)) }
    }
}

/// Every tensor the forward pass uses, by name.
private func named(_ w: Weights, _ c: Config) -> [(String, Tensor)] {
    var list = [(ModelTensor.embedding, w.embedding.decoded())]
    for (i, layer) in w.layers.enumerated() {
        for t in LayerTensor.allCases { list.append((t.name(layer: i), layer[t])) }
    }
    list.append((ModelTensor.finalNorm, w.finalNorm))
    if let head = w.outputHead { list.append((ModelTensor.outputHead, head.decoded())) }
    return list
}

/// The reopened checkpoint holds each source tensor rounded to `dtype`, bit for bit, stored as `dtype`.
private func expectTensorsEqual(_ reopened: Checkpoint, _ source: Weights, _ config: Config, _ dtype: ScalarEncoding) throws {
    let names = named(source, config)
    #expect(reopened.tensors.count == names.count)
    for (name, tensor) in names {
        #expect(reopened.info(named: name)?.dtype == dtype.rawValue, "\(name)")
        let back = try reopened.tensor(named: name)
        #expect(back.shape == tensor.shape, "\(name)")
        let want = roundedScalars(tensor, dtype)
        #expect(bitDifference(back.scalars, want) == nil, "\(name)")
    }
}

@Suite struct TinyExportTests {
    @Test(arguments: ScalarEncoding.allCases) func roundTrip(dtype: ScalarEncoding) throws {
        let source = try Checkpoint.open(Fixtures.path("tiny/f32"))
        let weights = try Weights(checkpoint: source)
        let parent = try scratchParent()
        defer { try? FileManager.default.removeItem(atPath: parent) }
        let out = parent + "/tiny-\(dtype.rawValue)"
        let result = try exportHuggingFace(weights: weights, config: source.config, tokenizerSource: source,
                                           dtype: dtype, to: out, metadata: ["surgery": "none", "format": "np"])
        // The tiny fixture has no tokenizer files: config, generation config and weights only.
        #expect(result.files.map(\.name) == ["config.json", "generation_config.json", "model.safetensors"])
        #expect(try listing(parent) == ["tiny-\(dtype.rawValue)"])
        #expect(try listing(out) == result.files.map(\.name))
        #expect(result.tensorCount == 3 + 2 * 9)
        #expect(result.parameterCount == source.tensors.reduce(0) { $0 + $1.parameterCount })

        let reopened = try Checkpoint.open(out)
        #expect(reopened.config == source.config)
        try expectTensorsEqual(reopened, weights, source.config, dtype)
        // transformers refuses a safetensors file whose format is not "pt"; ours wins over the caller's.
        let file = try SafetensorsFile(path: out + "/model.safetensors")
        #expect(file.metadata == ["format": "pt", "surgery": "none"])
        let generation = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/generation_config.json"))) as? [String: Int])
        #expect(generation == ["bos_token_id": 1, "eos_token_id": 2])

        if dtype == .float32 {
            let ids = [1, 5, 17, 33, 60, 2, 95]
            let a = Model(config: source.config, weights: weights).logits(ids)
            let b = try Model(checkpoint: reopened).logits(ids)
            #expect(bitDifference(a.scalars, b.scalars) == nil)
        }
    }

    /// A tied model: no lm_head.weight in the file, and the reopened model is tied.
    @Test func tiedModelOmitsOutputHead() throws {
        let source = try Checkpoint.open(Fixtures.path("tiny/tied"))
        let weights = try Weights(checkpoint: source)
        let parent = try scratchParent()
        defer { try? FileManager.default.removeItem(atPath: parent) }
        try exportHuggingFace(weights: weights, config: source.config, tokenizerSource: nil, dtype: .bfloat16, to: parent + "/out")
        let reopened = try Checkpoint.open(parent + "/out")
        #expect(reopened.config.tiedEmbeddings && reopened.info(named: ModelTensor.outputHead) == nil)
        try expectTensorsEqual(reopened, weights, source.config, .bfloat16)
    }

    /// A Hugging Face source folder's tokenizer files (and generation_config.json) are copied byte for byte.
    @Test func huggingFaceTokenizerFilesAreCopied() throws {
        let parent = try scratchParent()
        defer { try? FileManager.default.removeItem(atPath: parent) }
        let input = parent + "/input"
        try FileManager.default.createDirectory(atPath: input, withIntermediateDirectories: false)
        let copies = ["config.json": "tiny/f32/config.json", "model.safetensors": "tiny/f32/model.safetensors",
                      "tokenizer.json": "tokenizer/llama-bpe/tokenizer.json",
                      "tokenizer_config.json": "tokenizer/llama-bpe/tokenizer_config.json"]
        for (name, fixture) in copies {
            try FileManager.default.copyItem(atPath: Fixtures.path(fixture), toPath: input + "/" + name)
        }
        let generation = Data("{\"bos_token_id\": 1, \"eos_token_id\": 2, \"temperature\": 0.2}\n".utf8)
        try generation.write(to: URL(fileURLWithPath: input + "/generation_config.json"))
        let source = try Checkpoint.open(input)

        let result = try exportHuggingFace(weights: Weights(checkpoint: source), config: source.config,
                                           tokenizerSource: source, dtype: .bfloat16, to: parent + "/out")
        #expect(result.files.map(\.name) == ["config.json", "generation_config.json", "model.safetensors",
                                             "tokenizer.json", "tokenizer_config.json"])
        for name in ["tokenizer.json", "tokenizer_config.json", "generation_config.json"] {
            #expect(FileManager.default.contentsEqual(atPath: input + "/" + name, andPath: parent + "/out/" + name), "\(name)")
        }
        #expect(try Checkpoint.open(parent + "/out").tokenizer().encode("Hello world") == source.tokenizer().encode("Hello world"))
        #expect(try listing(input).count == 5, "the input is untouched")
    }

    /// An existing empty folder is filled (and keeps its name); a trailing slash names the same folder.
    @Test func emptyFolderIsFilled() throws {
        let source = try Checkpoint.open(Fixtures.path("tiny/f32"))
        let parent = try scratchParent()
        defer { try? FileManager.default.removeItem(atPath: parent) }
        try FileManager.default.createDirectory(atPath: parent + "/out", withIntermediateDirectories: false)
        try exportHuggingFace(weights: Weights(checkpoint: source), config: source.config, tokenizerSource: nil,
                              dtype: .float32, to: parent + "/out/")
        #expect(try listing(parent) == ["out"])
        #expect(try Checkpoint.open(parent + "/out").config == source.config)
    }
}

@Suite struct SmolLM2ExportTests {
    /// F32: tensors bit for bit, identical logits, tokenizer files that give the same ids, and logits
    /// within the forward tests' bound of transformers' on the original GGUF.
    @Test func float32RoundTrip() throws {
        let real = try realModel()
        let parent = try scratchParent()
        defer { try? FileManager.default.removeItem(atPath: parent) }
        let out = parent + "/smollm2-f32"
        let result = try exportHuggingFace(weights: real.model.weights, config: real.model.config,
                                           tokenizerSource: real.checkpoint, dtype: .float32, to: out)
        #expect(result.files.map(\.name) == ["config.json", "generation_config.json", "model.safetensors",
                                             "special_tokens_map.json", "tokenizer.json", "tokenizer_config.json"])
        let reopened = try Checkpoint.open(out)
        #expect(reopened.config == real.model.config)
        #expect(result.tensorCount == 2 + 30 * 9)                      // tied: no lm_head.weight
        try expectTensorsEqual(reopened, real.model.weights, real.model.config, .float32)

        let manifest = try #require(try Fixtures.json("model/smollm2.json") as? [String: Any])
        let prompts = try #require((manifest["logits"] as? [String: Any])?["prompts"] as? [[String: Any]])
        let prompt = try #require(prompts.first { $0["name"] as? String == "plain" })
        let ids = try #require(prompt["ids"] as? [Int])
        let text = try #require(prompt["text"] as? String)
        #expect(try reopened.tokenizer().encode(text, addingSpecialTokens: false) == ids)

        let exported = try Model(checkpoint: reopened)
        let logits = exported.logits(ids)
        #expect(bitDifference(logits.scalars, real.model.logits(ids).scalars) == nil)
        let positions = try #require(prompt["positions"] as? [Int])
        let expected = try Fixtures.floats("model/smollm2_plain_logits.f32")
        let v = real.model.config.vocabSize
        for (row, position) in positions.enumerated() {
            let difference = zip(logits.scalars[(position * v)..<((position + 1) * v)], expected[(row * v)..<((row + 1) * v)])
                .reduce(Float(0)) { max($0, abs($1.0 - $1.1)) }
            #expect(difference <= exportedLogitsMaxAbs, "position \(position)")
        }
    }

    /// BF16 and F16: every tensor is the source value rounded (bfloat16Bits/halfBits), the reopened model
    /// computes exactly what the source computes with its weights rounded the same way in memory (the
    /// kernels read a 16-bit matrix in their own summation order, so the reference holds 16-bit
    /// matrices too), and its logits are within the forward tests' bound of transformers' on the GGUF model
    /// rounded to the same dtype (Tools/reference/export.py → Tests/Fixtures/export).
    @Test(arguments: [ScalarEncoding.bfloat16, .float16]) func roundedRoundTrip(dtype: ScalarEncoding) throws {
        let real = try realModel()
        let parent = try scratchParent()
        defer { try? FileManager.default.removeItem(atPath: parent) }
        let out = parent + "/smollm2-\(dtype.rawValue)"
        try exportHuggingFace(weights: real.model.weights, config: real.model.config,
                              tokenizerSource: real.checkpoint, dtype: dtype, to: out)
        let reopened = try Checkpoint.open(out)
        #expect(reopened.config == real.model.config)
        try expectTensorsEqual(reopened, real.model.weights, real.model.config, dtype)
        let config = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/config.json"))) as? [String: Any])
        #expect(config["dtype"] as? String == dtype.torchName && config["torch_dtype"] as? String == dtype.torchName)

        // The same rounding done in memory: matrices kept in `dtype` (so the same kernels read them),
        // norms widened back to Float as the loader widens them.
        var rounded = real.model.weights
        func round(_ t: Tensor) -> Tensor { Tensor(shape: t.shape, scalars: roundedScalars(t, dtype)) }
        rounded.embedding = WeightMatrix(rounding: rounded.embedding.decoded(), to: dtype)
        rounded.finalNorm = round(rounded.finalNorm)
        for i in rounded.layers.indices {
            for t in LayerTensor.allCases {
                if t == .inputNorm || t == .postAttentionNorm {
                    rounded.layers[i][t] = round(rounded.layers[i][t])
                } else {
                    rounded.layers[i][matrix: t] = WeightMatrix(rounding: rounded.layers[i][t], to: dtype)
                }
            }
        }
        let reference = try #require(try Fixtures.json("export/smollm2.json") as? [String: Any])
        let ids = try #require(reference["ids"] as? [Int])
        #expect(real.tokenizer.encode(try #require(reference["prompt"] as? String), addingSpecialTokens: false) == ids)
        let logits = try Model(checkpoint: reopened).logits(ids)
        #expect(bitDifference(logits.scalars, Model(config: real.model.config, weights: rounded).logits(ids).scalars) == nil)

        let positions = try #require(reference["positions"] as? [Int])
        let expected = try Fixtures.floats("export/smollm2_\(dtype.torchName)_logits.f32")
        let v = real.model.config.vocabSize
        for (row, position) in positions.enumerated() {
            let difference = zip(logits.scalars[(position * v)..<((position + 1) * v)], expected[(row * v)..<((row + 1) * v)])
                .reduce(Float(0)) { max($0, abs($1.0 - $1.1)) }
            #expect(difference <= exportedLogitsMaxAbs, "\(dtype) position \(position)")
        }
    }
}

@Suite struct ExportRefusalTests {
    let source: Checkpoint
    let weights: Weights
    init() throws {
        source = try Checkpoint.open(Fixtures.path("tiny/f32"))
        weights = try Weights(checkpoint: source)
    }

    /// Runs an export expected to fail with `expected`, and checks the parent folder is as it was.
    private func expectRefusal(_ expected: ExportError, weights w: Weights? = nil, config: Config? = nil,
                               tokenizerSource: Checkpoint? = nil, dtype: ScalarEncoding = .float32,
                               to out: String, in parent: String) throws {
        let before = try listing(parent)
        #expect(throws: expected) {
            try exportHuggingFace(weights: w ?? weights, config: config ?? source.config,
                                  tokenizerSource: tokenizerSource, dtype: dtype, to: out)
        }
        #expect(try listing(parent) == before, "nothing left behind")
    }

    @Test func nonEmptyFolderIsRefused() throws {
        let parent = try scratchParent()
        defer { try? FileManager.default.removeItem(atPath: parent) }
        try FileManager.default.createDirectory(atPath: parent + "/out", withIntermediateDirectories: false)
        try Data("keep me".utf8).write(to: URL(fileURLWithPath: parent + "/out/notes.txt"))
        try expectRefusal(.outputNotEmpty(path: parent + "/out", entries: ["notes.txt"]), to: parent + "/out", in: parent)
        #expect(try listing(parent + "/out") == ["notes.txt"])
        #expect(try String(contentsOfFile: parent + "/out/notes.txt", encoding: .utf8) == "keep me")
    }

    /// A hidden file counts: the folder is not empty.
    @Test func hiddenFileCounts() throws {
        let parent = try scratchParent()
        defer { try? FileManager.default.removeItem(atPath: parent) }
        try FileManager.default.createDirectory(atPath: parent + "/out", withIntermediateDirectories: false)
        try Data().write(to: URL(fileURLWithPath: parent + "/out/.hidden"))
        try expectRefusal(.outputNotEmpty(path: parent + "/out", entries: [".hidden"]), to: parent + "/out", in: parent)
    }

    /// The input itself as the output: a file, so refused, and untouched.
    @Test func fileIsRefused() throws {
        let parent = try scratchParent()
        defer { try? FileManager.default.removeItem(atPath: parent) }
        try Data("x".utf8).write(to: URL(fileURLWithPath: parent + "/model.gguf"))
        try expectRefusal(.outputNotAFolder(path: parent + "/model.gguf"), to: parent + "/model.gguf", in: parent)
        #expect(try String(contentsOfFile: parent + "/model.gguf", encoding: .utf8) == "x")
    }

    @Test func missingParentIsRefused() throws {
        let parent = try scratchParent()
        defer { try? FileManager.default.removeItem(atPath: parent) }
        try expectRefusal(.parentFolderMissing(path: parent + "/a/b", parent: parent + "/a"), to: parent + "/a/b", in: parent)
    }

    @Test func wrongShapeIsRefused() throws {
        let parent = try scratchParent()
        defer { try? FileManager.default.removeItem(atPath: parent) }
        var w = weights
        w.layers[1].k = WeightMatrix(Tensor(shape: [16, 64], scalars: [Float](repeating: 0, count: 16 * 64)))
        try expectRefusal(.wrongShape(tensor: "model.layers.1.self_attn.k_proj.weight", found: [16, 64], expected: [32, 64]),
                          weights: w, to: parent + "/out", in: parent)
    }

    @Test func layerCountIsChecked() throws {
        let parent = try scratchParent()
        defer { try? FileManager.default.removeItem(atPath: parent) }
        var w = weights
        w.layers.removeLast()
        try expectRefusal(.wrongLayerCount(found: 1, expected: 2), weights: w, to: parent + "/out", in: parent)
    }

    @Test func outputHeadMustMatchTying() throws {
        let parent = try scratchParent()
        defer { try? FileManager.default.removeItem(atPath: parent) }
        var w = weights
        w.outputHead = nil
        try expectRefusal(.outputHeadMismatch(tiedEmbeddings: false, hasOutputHead: false), weights: w,
                          to: parent + "/out", in: parent)
        var tied = source.config
        tied.tiedEmbeddings = true
        try expectRefusal(.outputHeadMismatch(tiedEmbeddings: true, hasOutputHead: true), config: tied,
                          to: parent + "/out", in: parent)
    }

    /// 65520 rounds to ∞ in binary16 (65504 is its largest finite value); NaN fits no dtype.
    @Test func unrepresentableValuesAreRefused() throws {
        let parent = try scratchParent()
        defer { try? FileManager.default.removeItem(atPath: parent) }
        var w = weights
        var scalars = w.finalNorm.scalars
        scalars[3] = 65_520
        w.finalNorm = Tensor(shape: w.finalNorm.shape, scalars: scalars)
        try expectRefusal(.valueNotRepresentable(tensor: "model.norm.weight", index: 3, value: 65_520, dtype: "F16"),
                          weights: w, dtype: .float16, to: parent + "/out", in: parent)
        scalars[3] = 65_504
        w.finalNorm = Tensor(shape: w.finalNorm.shape, scalars: scalars)
        try exportHuggingFace(weights: w, config: source.config, tokenizerSource: nil, dtype: .float16, to: parent + "/ok")
        try FileManager.default.removeItem(atPath: parent + "/ok")
        scalars[3] = .infinity
        w.finalNorm = Tensor(shape: w.finalNorm.shape, scalars: scalars)
        try expectRefusal(.valueNotRepresentable(tensor: "model.norm.weight", index: 3, value: .infinity, dtype: "F32"),
                          weights: w, to: parent + "/out", in: parent)
    }

    /// A GGUF whose tokenizer cannot be built (the tiny fixture's has no merges): refused before anything is written.
    @Test func unusableTokenizerIsRefused() throws {
        let parent = try scratchParent()
        defer { try? FileManager.default.removeItem(atPath: parent) }
        let gguf = try Checkpoint.open(Fixtures.path("tiny/gguf/tiny-F32.gguf"))
        let before = try listing(parent)
        #expect {
            try exportHuggingFace(weights: weights, config: source.config, tokenizerSource: gguf, dtype: .float32, to: parent + "/out")
        } throws: { error in
            guard case ExportError.unsupportedTokenizer(let path, _) = error else { return false }
            return path.hasSuffix("tiny-F32.gguf")
        }
        #expect(try listing(parent) == before)
    }

    /// An invalid config is refused with the checkpoint's own error.
    @Test func invalidConfigIsRefused() throws {
        let parent = try scratchParent()
        defer { try? FileManager.default.removeItem(atPath: parent) }
        var config = source.config
        config.rmsNormEpsilon = .nan
        #expect(throws: CheckpointError.self) {
            try exportHuggingFace(weights: weights, config: config, tokenizerSource: nil, dtype: .float32, to: parent + "/out")
        }
        #expect(try listing(parent).isEmpty)
    }
}

/// Not a check: writes SmolLM2 as a Hugging Face folder for Tools/reference/compress_check.py, run by
/// hand (Tests/Fixtures/export/README.md). Enabled only when SURGERY_EXPORT_OUT names the folder to
/// write; SURGERY_EXPORT_DTYPE is F32 (default), BF16 or F16. Beside the folder it writes
/// `<folder>.ours-logits.f32`: this project's logits [T, V] on the *original* model for
/// compress_check.py's default prompt, for its `--expected`.
@Suite struct CompressCheckHarness {
    static let out = ProcessInfo.processInfo.environment["SURGERY_EXPORT_OUT"]
    /// compress_check.py's PROMPT.
    static let prompt = "The old lighthouse keeper climbed the stairs every evening, lit the lamp, and watched"

    @Test(.enabled(if: out != nil)) func writeSmolLM2ForCompressCheck() throws {
        let out = try #require(Self.out)
        let name = ProcessInfo.processInfo.environment["SURGERY_EXPORT_DTYPE"] ?? "F32"
        let dtype = try #require(ScalarEncoding(rawValue: name))
        let real = try realModel()
        try exportHuggingFace(weights: real.model.weights, config: real.model.config, tokenizerSource: real.checkpoint,
                              dtype: dtype, to: out, metadata: ["written_by": "surgery CompressCheckHarness"])
        let logits = real.model.logits(real.tokenizer.encode(Self.prompt, addingSpecialTokens: false))
        let bytes = logits.scalars.flatMap { value in (0..<4).map { UInt8(truncatingIfNeeded: value.bitPattern.littleEndian >> (8 * $0)) } }
        try Data(bytes).write(to: URL(fileURLWithPath: out + ".ours-logits.f32"))
    }
}

/// `LayerReplacements`: matrices made when the writer reaches their layer give the same file, byte
/// for byte, as the weights with those matrices in place; each layer is asked for in one run of
/// calls (name order visits 0, 1, 10, 11, 2, …); a replacement's failure is the export's, with
/// nothing left behind.
@Suite struct ReplacementExportTests {
    let source: Checkpoint
    /// The tiny fixture's two layers repeated to twelve, so that name order differs from layer order.
    let weights: Weights
    let config: Config

    init() throws {
        source = try Checkpoint.open(Fixtures.path("tiny/f32"))
        var w = try Weights(checkpoint: source)
        w.layers = (0..<12).map { w.layers[$0 % 2] }
        weights = w
        var c = source.config
        c.layerCount = 12
        config = c
    }

    /// Layer l's q and v scaled by (l + 2), as `keep` in `compress` would hand them over (bf16).
    private func replacement(_ layer: Int, _ t: LayerTensor) -> WeightMatrix {
        let original = weights.layers[layer][t]
        return WeightMatrix(rounding: Tensor(shape: original.shape, scalars: original.scalars.map { $0 * Float(layer + 2) }),
                            to: .bfloat16)
    }

    @Test func equalsTheWeightsWithTheMatricesInPlace() throws {
        let parent = try scratchParent()
        defer { try? FileManager.default.removeItem(atPath: parent) }
        let replaced: [[LayerTensor]] = (0..<12).map { $0 == 5 ? [] : [.q, .v] }
        var asked: [Int] = []
        let replacements = LayerReplacements(tensors: replaced) { layer in
            asked.append(layer)
            return Dictionary(uniqueKeysWithValues: replaced[layer].map { ($0, replacement(layer, $0)) })
        }
        try exportHuggingFace(weights: weights, replacing: replacements, config: config, tokenizerSource: nil,
                              dtype: .bfloat16, to: parent + "/deferred", metadata: ["surgery": "test"])
        var whole = weights
        for (layer, tensors) in replaced.enumerated() {
            for t in tensors { whole.layers[layer][matrix: t] = replacement(layer, t) }
        }
        try exportHuggingFace(weights: whole, config: config, tokenizerSource: nil, dtype: .bfloat16,
                              to: parent + "/whole", metadata: ["surgery": "test"])
        let a = try Data(contentsOf: URL(fileURLWithPath: parent + "/deferred/model.safetensors"))
        let b = try Data(contentsOf: URL(fileURLWithPath: parent + "/whole/model.safetensors"))
        #expect(elementDifference(a, b) == nil)
        // Each replaced layer twice (q, v), in one run each, in name order.
        let runs = asked.enumerated().filter { $0.offset == 0 || asked[$0.offset - 1] != $0.element }.map(\.element)
        #expect(runs == [0, 1, 10, 11, 2, 3, 4, 6, 7, 8, 9])
        #expect(asked.count == 2 * 11)
    }

    @Test func anUnrepresentableReplacementIsRefused() throws {
        let parent = try scratchParent()
        defer { try? FileManager.default.removeItem(atPath: parent) }
        var replaced = [[LayerTensor]](repeating: [], count: 12)
        replaced[3] = [.k]
        let k = weights.layers[3][.k]
        var scalars = k.scalars
        scalars[7] = 65_520                                  // ∞ in binary16
        let bad = WeightMatrix(Tensor(shape: k.shape, scalars: scalars))
        let replacements = LayerReplacements(tensors: replaced) { _ in [.k: bad] }
        #expect(throws: ExportError.valueNotRepresentable(tensor: "model.layers.3.self_attn.k_proj.weight", index: 7,
                                                          value: 65_520, dtype: "F16")) {
            try exportHuggingFace(weights: weights, replacing: replacements, config: config, tokenizerSource: nil,
                                  dtype: .float16, to: parent + "/out")
        }
        #expect(try listing(parent).isEmpty, "nothing left behind")
    }

    struct Failure: Error, Equatable {}

    @Test func aReplacementsFailureIsTheExports() throws {
        let parent = try scratchParent()
        defer { try? FileManager.default.removeItem(atPath: parent) }
        let replacements = LayerReplacements(tensors: (0..<12).map { _ in [.o] }) { _ in throw Failure() }
        #expect(throws: Failure()) {
            try exportHuggingFace(weights: weights, replacing: replacements, config: config, tokenizerSource: nil,
                                  dtype: .bfloat16, to: parent + "/out")
        }
        #expect(try listing(parent).isEmpty, "nothing left behind")
    }
}
