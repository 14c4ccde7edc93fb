// The hyper-parameters of a Llama-family model, read from a Hugging Face `config.json` or from the
// `llama.*` keys of a GGUF file. Anything this project does not implement is an error, not a guess.
import FoundationEssentials

/// The architecture of a Llama-family model.
/// Legend used across the model code: L layers · D model dim · H query heads · G kv heads ·
/// Dh head dim · F MLP dim · V vocab.
public struct Config: Sendable, Equatable, Codable {
    public var layerCount: Int            // L
    public var hiddenSize: Int            // D
    public var headCount: Int             // H
    public var kvHeadCount: Int           // G (H is a multiple of G: grouped-query attention)
    public var headDim: Int               // Dh (usually D / H)
    public var intermediateSize: Int      // F
    public var vocabSize: Int             // V
    public var rmsNormEpsilon: Float
    public var ropeTheta: Float
    public var contextLength: Int
    public var tiedEmbeddings: Bool
    public var bosTokenID: Int?
    public var eosTokenIDs: [Int]
    /// Per layer, the rank r of the latent its K and V come from (LatentKV.swift), 0 for a layer with
    /// dense K and V; nil for a model without latents. Only a factored folder (`compress --factored`)
    /// sets it.
    public var latentKVRanks: [Int]?

    public init(layerCount: Int, hiddenSize: Int, headCount: Int, kvHeadCount: Int, headDim: Int,
                intermediateSize: Int, vocabSize: Int, rmsNormEpsilon: Float, ropeTheta: Float,
                contextLength: Int, tiedEmbeddings: Bool, bosTokenID: Int?, eosTokenIDs: [Int],
                latentKVRanks: [Int]? = nil) {
        self.layerCount = layerCount
        self.hiddenSize = hiddenSize
        self.headCount = headCount
        self.kvHeadCount = kvHeadCount
        self.headDim = headDim
        self.intermediateSize = intermediateSize
        self.vocabSize = vocabSize
        self.rmsNormEpsilon = rmsNormEpsilon
        self.ropeTheta = ropeTheta
        self.contextLength = contextLength
        self.tiedEmbeddings = tiedEmbeddings
        self.bosTokenID = bosTokenID
        self.eosTokenIDs = eosTokenIDs
        self.latentKVRanks = latentKVRanks
    }

    /// The latent rank of `layer`, nil when its K and V are dense.
    public func latentRank(layer: Int) -> Int? {
        guard let ranks = latentKVRanks, layer < ranks.count, ranks[layer] > 0 else { return nil }
        return ranks[layer]
    }

    /// The longest context accepted. The RoPE tables (context × head dim floats) are built from it
    /// when a model loads, so it is bounded like a length in a file; 2²⁰ is more than any Llama-family
    /// checkpoint this project reads declares.
    package static let maximumContextLength = 1 << 20

    /// Checks the relations the forward pass relies on; `source` names the file for the error.
    func validated(source: String) throws -> Config {
        func require(_ ok: Bool, _ what: String) throws {
            if !ok { throw CheckpointError.invalidConfig(path: source, reason: what) }
        }
        try require(layerCount > 0, "num_hidden_layers is \(layerCount), expected > 0")
        try require(hiddenSize > 0, "hidden_size is \(hiddenSize), expected > 0")
        try require(headCount > 0 && kvHeadCount > 0, "head counts \(headCount)/\(kvHeadCount), expected > 0")
        try require(headCount % kvHeadCount == 0,
                    "num_attention_heads \(headCount) is not a multiple of num_key_value_heads \(kvHeadCount)")
        try require(headDim > 0 && headDim % 2 == 0, "head_dim is \(headDim), expected a positive even number")
        try require(intermediateSize > 0, "intermediate_size is \(intermediateSize), expected > 0")
        try require(vocabSize > 0, "vocab_size is \(vocabSize), expected > 0")
        try require(rmsNormEpsilon > 0 && rmsNormEpsilon.isFinite, "rms_norm_eps is \(rmsNormEpsilon), expected > 0")
        try require(ropeTheta > 0 && ropeTheta.isFinite, "rope_theta is \(ropeTheta), expected > 0")
        try require(contextLength > 0, "max_position_embeddings is \(contextLength), expected > 0")
        try require(contextLength <= Self.maximumContextLength,
                    "max_position_embeddings is \(contextLength), more than the \(Self.maximumContextLength) this project supports")
        // Tensor shapes multiply these: every product must be an Int.
        let products = [[headCount, headDim, hiddenSize], [kvHeadCount, headDim, hiddenSize],
                        [intermediateSize, hiddenSize], [vocabSize, hiddenSize], [contextLength, headDim]]
        for p in products where Checked.product(p) == nil {
            try require(false, "the product \(p.map(String.init).joined(separator: " × ")) of its sizes overflows")
        }
        if let ranks = latentKVRanks {
            try require(ranks.count == layerCount,
                        "latent_kv_ranks has \(ranks.count) entries for \(layerCount) layers")
            if let bad = ranks.firstIndex(where: { $0 < 0 }) {
                try require(false, "latent_kv_ranks[\(bad)] is \(ranks[bad]), expected ≥ 0 (0: dense K and V)")
            }
            if let r = ranks.max(), Checked.product([r, hiddenSize]) == nil || Checked.product([kvHeadCount, headDim, r]) == nil {
                try require(false, "latent rank \(r) times the model's sizes overflows")
            }
        }
        return self
    }
}

// MARK: - Hugging Face config.json

extension Config {
    /// The `model_type` of a factored folder: a Llama whose K and V come from latents, which
    /// transformers does not know (so it refuses the folder instead of filling k_proj at random).
    package static let latentModelType = "llama_latent_kv"

    /// Reads a Hugging Face `config.json` of a `LlamaForCausalLM` (model_type "llama"), or of a
    /// factored folder (model_type "llama_latent_kv" with `latent_kv_ranks`).
    public init(huggingFaceJSON data: Data, path: String) throws {
        let raw: HFConfig
        do {
            raw = try JSONDecoder().decode(HFConfig.self, from: data)
        } catch {
            throw CheckpointError.invalidConfig(path: path, reason: "not a readable config.json: \(errorReason(error))")
        }
        func required<T>(_ value: T?, _ key: String) throws -> T {
            guard let value else { throw CheckpointError.missingConfigKey(path: path, key: key) }
            return value
        }
        let modelType = try required(raw.model_type, "model_type")
        guard modelType == "llama" || modelType == Config.latentModelType else {
            throw CheckpointError.unsupportedArchitecture(path: path, found: modelType, expected: "llama")
        }
        if modelType == Config.latentModelType, raw.latent_kv_ranks == nil {
            throw CheckpointError.missingConfigKey(path: path, key: "latent_kv_ranks")
        }
        if modelType == "llama", raw.latent_kv_ranks != nil {
            throw CheckpointError.invalidConfig(path: path,
                reason: "latent_kv_ranks needs model_type \"\(Config.latentModelType)\", found \"llama\"")
        }
        if raw.attention_bias == true || raw.mlp_bias == true {
            throw CheckpointError.unsupportedFeature(path: path, feature: "attention_bias / mlp_bias = true")
        }
        if let act = raw.hidden_act, act != "silu" {
            throw CheckpointError.unsupportedFeature(path: path, feature: "hidden_act \"\(act)\" (only silu)")
        }
        // transformers 5 nests RoPE settings in `rope_parameters`; earlier versions use `rope_theta`
        // and `rope_scaling`. Only the default (unscaled) RoPE is implemented.
        for scaling in [raw.rope_scaling, raw.rope_parameters].compactMap({ $0 }) {
            let type = scaling.rope_type ?? scaling.type ?? "default"
            if type != "default" {
                throw CheckpointError.unsupportedFeature(path: path, feature: "rope_scaling type \"\(type)\"")
            }
        }
        let hidden = try required(raw.hidden_size, "hidden_size")
        let heads = try required(raw.num_attention_heads, "num_attention_heads")
        let theta = raw.rope_parameters?.rope_theta ?? raw.rope_theta ?? 10_000
        self.init(
            layerCount: try required(raw.num_hidden_layers, "num_hidden_layers"),
            hiddenSize: hidden,
            headCount: heads,
            kvHeadCount: raw.num_key_value_heads ?? heads,
            headDim: raw.head_dim ?? (heads > 0 ? hidden / heads : 0),
            intermediateSize: try required(raw.intermediate_size, "intermediate_size"),
            vocabSize: try required(raw.vocab_size, "vocab_size"),
            rmsNormEpsilon: Float(raw.rms_norm_eps ?? 1e-6),
            ropeTheta: Float(theta),
            contextLength: raw.max_position_embeddings ?? 2048,
            tiedEmbeddings: raw.tie_word_embeddings ?? false,
            bosTokenID: raw.bos_token_id,
            eosTokenIDs: raw.eos_token_id?.values ?? [],
            latentKVRanks: raw.latent_kv_ranks)
        self = try validated(source: path)
    }
}

/// The keys of `config.json` this project reads, named as in the file.
private struct HFConfig: Decodable {
    struct RoPE: Decodable {
        var rope_type: String?
        var type: String?
        var rope_theta: Double?
    }
    /// `eos_token_id` is an integer or a list of integers.
    struct IDs: Decodable {
        var values: [Int]
        init(from decoder: Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let one = try? container.decode(Int.self) { values = [one] } else { values = try container.decode([Int].self) }
        }
    }
    var model_type: String?
    var hidden_size: Int?
    var num_hidden_layers: Int?
    var num_attention_heads: Int?
    var num_key_value_heads: Int?
    var head_dim: Int?
    var intermediate_size: Int?
    var vocab_size: Int?
    var rms_norm_eps: Double?
    var rope_theta: Double?
    var rope_scaling: RoPE?
    var rope_parameters: RoPE?
    var max_position_embeddings: Int?
    var tie_word_embeddings: Bool?
    var bos_token_id: Int?
    var eos_token_id: IDs?
    var attention_bias: Bool?
    var mlp_bias: Bool?
    var hidden_act: String?
    var latent_kv_ranks: [Int]?
}
