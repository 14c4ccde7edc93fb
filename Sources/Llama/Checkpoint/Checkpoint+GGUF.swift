// Opening a GGUF file as a Checkpoint: the `llama.*` metadata keys become a Config, llama.cpp's
// tensor names become Hugging Face names, quantized tensors are dequantized, and the Q/K row
// permutation of llama.cpp's converter is undone.
import Tensor

extension Checkpoint {
    static func openGGUF(_ file: GGUFFile) throws -> Checkpoint {
        let path = file.path
        let config = try Config(gguf: file)
        var tensors: [CheckpointTensorInfo] = []
        var ggufName: [String: String] = [:]
        for info in file.tensors {
            guard let name = GGUFNames.canonical(info.name) else { continue }
            ggufName[name] = info.name
            tensors.append(CheckpointTensorInfo(name: name, shape: info.shape, dtype: info.type.description,
                                                byteCount: info.byteCount))
        }
        let checkpoint = Checkpoint(path: path, format: .gguf, config: config, files: [path], tensors: tensors,
                                    folder: nil, storage: .gguf(file, ggufName: ggufName))
        try checkpoint.checkRequiredTensors()
        return checkpoint
    }

    /// A GGUF tensor dequantized to Float; q_proj and k_proj get their rows back in HF order.
    func ggufTensor(_ file: GGUFFile, ggufName: String, canonical: String) throws -> Tensor {
        let t = try file.tensor(ggufName)
        if canonical.hasSuffix(LayerTensor.q.rawValue) { return unpermuteQK(t, heads: config.headCount) }
        if canonical.hasSuffix(LayerTensor.k.rawValue) { return unpermuteQK(t, heads: config.kvHeadCount) }
        return t
    }

    /// A GGUF matrix in its stored type; q_proj and k_proj get their rows back in HF order.
    func ggufMatrix(_ file: GGUFFile, ggufName: String, canonical: String) throws -> WeightMatrix? {
        guard let m = try file.matrix(ggufName) else { return nil }
        if canonical.hasSuffix(LayerTensor.q.rawValue) { return m.gatheringRows(unpermutedRowOrder(rows: m.rows, heads: config.headCount)) }
        if canonical.hasSuffix(LayerTensor.k.rawValue) { return m.gatheringRows(unpermutedRowOrder(rows: m.rows, heads: config.kvHeadCount)) }
        return m
    }
}

extension Config {
    /// Reads the `llama.*` keys (gguf-py `Keys.LLM` / `Keys.Attention` / `Keys.Rope`).
    init(gguf file: GGUFFile) throws {
        let path = file.path
        func value(_ key: String) throws -> GGUFValue {
            guard let v = file[key] else { throw CheckpointError.missingConfigKey(path: path, key: key) }
            return v
        }
        func int(_ key: String) throws -> Int {
            guard let i = try value(key).int else {
                throw CheckpointError.invalidConfig(path: path, reason: "\(key) is \(try value(key).summary), expected an integer")
            }
            return i
        }
        func optionalInt(_ key: String) throws -> Int? { file[key] == nil ? nil : try int(key) }
        func optionalFloat(_ key: String) throws -> Float? {
            guard let v = file[key] else { return nil }
            guard let f = v.float else {
                throw CheckpointError.invalidConfig(path: path, reason: "\(key) is \(v.summary), expected a number")
            }
            return f
        }
        guard let architecture = try value("general.architecture").string else {
            throw CheckpointError.invalidConfig(path: path, reason: "general.architecture is not a string")
        }
        guard architecture == "llama" else {
            throw CheckpointError.unsupportedArchitecture(path: path, found: architecture, expected: "llama")
        }
        if let scaling = file["llama.rope.scaling.type"]?.string, scaling != "none" {
            throw CheckpointError.unsupportedFeature(path: path, feature: "rope scaling type \"\(scaling)\"")
        }
        let hidden = try int("llama.embedding_length")
        let heads = try int("llama.attention.head_count")
        let vocab = try optionalInt("llama.vocab_size")
            ?? file["tokenizer.ggml.tokens"]?.array?.count
            ?? (try? file.info("token_embd.weight").shape[0])
        guard let vocab else { throw CheckpointError.missingConfigKey(path: path, key: "llama.vocab_size") }
        self.init(
            layerCount: try int("llama.block_count"),
            hiddenSize: hidden,
            headCount: heads,
            kvHeadCount: try optionalInt("llama.attention.head_count_kv") ?? heads,
            headDim: try optionalInt("llama.attention.key_length") ?? (heads > 0 ? hidden / heads : 0),
            intermediateSize: try int("llama.feed_forward_length"),
            vocabSize: vocab,
            rmsNormEpsilon: try optionalFloat("llama.attention.layer_norm_rms_epsilon") ?? 1e-5,
            ropeTheta: try optionalFloat("llama.rope.freq_base") ?? 10_000,
            contextLength: try optionalInt("llama.context_length") ?? 2048,
            tiedEmbeddings: !file.contains("output.weight"),
            bosTokenID: try optionalInt("tokenizer.ggml.bos_token_id"),
            eosTokenIDs: (try optionalInt("tokenizer.ggml.eos_token_id")).map { [$0] } ?? [])
        self = try validated(source: path)
    }
}
