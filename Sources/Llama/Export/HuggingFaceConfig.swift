// config.json and generation_config.json for transformers' LlamaForCausalLM, from our `Config`.
// Keys and their order follow what transformers 5.24 writes (`save_pretrained`: sorted keys); the
// top-level `rope_theta` and `torch_dtype` are written too, for transformers 4, which reads those.
// `Config(huggingFaceJSON:)` reads the result back equal (a test checks it).
import Tensor

extension ScalarEncoding {
    /// PyTorch's name of the dtype ("float32", "bfloat16", "float16"), as config.json spells it.
    package var torchName: String {
        switch self {
        case .float32: "float32"
        case .bfloat16: "bfloat16"
        case .float16: "float16"
        }
    }
}

extension Config {
    // MARK: - config.json

    /// `config.json` of a `LlamaForCausalLM` whose weights are stored as `dtype`.
    ///
    /// | our field        | config.json key                                           |
    /// | ---------------- | --------------------------------------------------------- |
    /// | layerCount       | num_hidden_layers                                         |
    /// | hiddenSize       | hidden_size                                               |
    /// | headCount        | num_attention_heads                                       |
    /// | kvHeadCount      | num_key_value_heads                                       |
    /// | headDim          | head_dim                                                  |
    /// | intermediateSize | intermediate_size                                         |
    /// | vocabSize        | vocab_size                                                |
    /// | rmsNormEpsilon   | rms_norm_eps                                              |
    /// | ropeTheta        | rope_parameters.rope_theta (transformers 5), rope_theta (4) |
    /// | contextLength    | max_position_embeddings                                   |
    /// | tiedEmbeddings   | tie_word_embeddings                                       |
    /// | bosTokenID       | bos_token_id (null when none)                             |
    /// | eosTokenIDs      | eos_token_id (one id, a list, or null)                    |
    /// | latentKVRanks    | latent_kv_ranks (only in a factored folder, whose model_type is |
    /// |                  | "llama_latent_kv" and architecture "LlamaLatentKVForCausalLM") |
    package func huggingFaceConfigJSON(dtype: ScalarEncoding) -> JSONValue {
        var keys: [(String, JSONValue)] = [
            ("architectures", .array([.string(latentKVRanks == nil ? "LlamaForCausalLM" : "LlamaLatentKVForCausalLM")])),
            ("attention_bias", .bool(false)),
            ("attention_dropout", .number(0)),
            ("bos_token_id", bosTokenID.map(JSONValue.integer) ?? .null),
            ("dtype", .string(dtype.torchName)),
            ("eos_token_id", eosTokenIDsJSON),
            ("head_dim", .integer(headDim)),
            ("hidden_act", .string("silu")),
            ("hidden_size", .integer(hiddenSize)),
            ("intermediate_size", .integer(intermediateSize)),
        ]
        if let ranks = latentKVRanks { keys.append(("latent_kv_ranks", .array(ranks.map(JSONValue.integer)))) }
        keys += [
            ("max_position_embeddings", .integer(contextLength)),
            ("mlp_bias", .bool(false)),
            ("model_type", .string(latentKVRanks == nil ? "llama" : Config.latentModelType)),
            ("num_attention_heads", .integer(headCount)),
            ("num_hidden_layers", .integer(layerCount)),
            ("num_key_value_heads", .integer(kvHeadCount)),
            ("rms_norm_eps", .decimal(rmsNormEpsilon)),
            ("rope_parameters", .object([
                ("rope_theta", .decimal(ropeTheta)),
                ("rope_type", .string("default")),
            ])),
            ("rope_theta", .decimal(ropeTheta)),
            ("tie_word_embeddings", .bool(tiedEmbeddings)),
            ("torch_dtype", .string(dtype.torchName)),
            ("use_cache", .bool(true)),
            ("vocab_size", .integer(vocabSize)),
        ]
        return .object(keys)
    }

    // MARK: - generation_config.json

    /// `generation_config.json`: the ids generation starts and stops with (`generate` stops at EOS).
    package func huggingFaceGenerationConfigJSON() -> JSONValue {
        .object([
            ("bos_token_id", bosTokenID.map(JSONValue.integer) ?? .null),
            ("eos_token_id", eosTokenIDsJSON),
        ])
    }

    /// transformers writes one EOS id as a number, several as a list.
    private var eosTokenIDsJSON: JSONValue {
        switch eosTokenIDs.count {
        case 0: .null
        case 1: .integer(eosTokenIDs[0])
        default: .array(eosTokenIDs.map(JSONValue.integer))
        }
    }
}
