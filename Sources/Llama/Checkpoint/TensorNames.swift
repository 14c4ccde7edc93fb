// Canonical (Hugging Face) tensor names of a Llama model, their shapes, and the one mapping table
// from llama.cpp's GGUF names. Also undoes the row permutation llama.cpp applies to Q and K.
import Tensor

/// The projections and norms of one decoder layer, by their Hugging Face suffix.
public enum LayerTensor: String, CaseIterable, Sendable {
    case inputNorm = "input_layernorm.weight"
    case q = "self_attn.q_proj.weight"
    case k = "self_attn.k_proj.weight"
    case v = "self_attn.v_proj.weight"
    case o = "self_attn.o_proj.weight"
    case postAttentionNorm = "post_attention_layernorm.weight"
    case gate = "mlp.gate_proj.weight"
    case up = "mlp.up_proj.weight"
    case down = "mlp.down_proj.weight"

    /// The canonical name in layer `layer`, e.g. `model.layers.3.self_attn.k_proj.weight`.
    public func name(layer: Int) -> String { "model.layers.\(layer).\(rawValue)" }

    /// Shape in PyTorch layout (`[out, in]` for projections).
    public func shape(_ c: Config) -> [Int] {
        switch self {
        case .inputNorm, .postAttentionNorm: [c.hiddenSize]
        case .q: [c.headCount * c.headDim, c.hiddenSize]
        case .k, .v: [c.kvHeadCount * c.headDim, c.hiddenSize]
        case .o: [c.hiddenSize, c.headCount * c.headDim]
        case .gate, .up: [c.intermediateSize, c.hiddenSize]
        case .down: [c.hiddenSize, c.intermediateSize]
        }
    }

    /// The module kind as in PyTorch's listing of a LlamaForCausalLM.
    public var moduleKind: String {
        switch self {
        case .inputNorm, .postAttentionNorm: "LlamaRMSNorm"
        default: "Linear"
        }
    }
}

/// The factors of a layer whose K and V come from a latent (LatentKV.swift), stored in a factored
/// folder in place of `k_proj` and `v_proj`. DeepSeek-V2 names its down-projection `kv_a_proj`
/// and its up-projections `kv_b_proj`; here K's and V's up-projections are two tensors.
public enum LatentTensor: String, CaseIterable, Sendable {
    case down = "self_attn.kv_a_proj.weight"
    case keyUp = "self_attn.k_b_proj.weight"
    case valueUp = "self_attn.v_b_proj.weight"

    public func name(layer: Int) -> String { "model.layers.\(layer).\(rawValue)" }

    /// Shape in PyTorch layout at latent rank r: A (r, D), B_k and B_v (G·Dh, r).
    public func shape(_ c: Config, rank r: Int) -> [Int] {
        switch self {
        case .down: [r, c.hiddenSize]
        case .keyUp, .valueUp: [c.kvHeadCount * c.headDim, r]
        }
    }
}

package enum ModelTensor {
    package static let embedding = "model.embed_tokens.weight"
    package static let finalNorm = "model.norm.weight"
    package static let outputHead = "lm_head.weight"

    /// Every tensor the forward pass needs, with its shape, in data-flow order; a layer with a latent
    /// rank has the three latent factors where `k_proj` and `v_proj` would be.
    package static func required(_ c: Config) -> [(name: String, shape: [Int])] {
        var list: [(name: String, shape: [Int])] = []
        forEachRequired(c) { list.append(($0, $1)) }
        return list
    }

    /// The tensors of `required(_:)` one at a time: a check that stops at the first missing one never
    /// lists the 9 × 10⁹ tensors of a config that claims 10⁹ layers.
    package static func forEachRequired(_ c: Config, _ body: (_ name: String, _ shape: [Int]) throws -> Void) rethrows {
        try body(embedding, [c.vocabSize, c.hiddenSize])
        for layer in 0..<c.layerCount {
            for t in LayerTensor.allCases {
                if let rank = c.latentRank(layer: layer), t == .k || t == .v {
                    if t == .k { for f in LatentTensor.allCases { try body(f.name(layer: layer), f.shape(c, rank: rank)) } }
                    continue
                }
                try body(t.name(layer: layer), t.shape(c))
            }
        }
        try body(finalNorm, [c.hiddenSize])
        if !c.tiedEmbeddings { try body(outputHead, [c.vocabSize, c.hiddenSize]) }
    }
}

// MARK: - GGUF names

/// llama.cpp's tensor names (gguf-py `MODEL_TENSOR` for LLAMA) → Hugging Face names.
enum GGUFNames {
    static let layerSuffixes: [String: LayerTensor] = [
        "attn_norm.weight": .inputNorm,
        "attn_q.weight": .q,
        "attn_k.weight": .k,
        "attn_v.weight": .v,
        "attn_output.weight": .o,
        "ffn_norm.weight": .postAttentionNorm,
        "ffn_gate.weight": .gate,
        "ffn_up.weight": .up,
        "ffn_down.weight": .down,
    ]
    static let globals: [String: String] = [
        "token_embd.weight": ModelTensor.embedding,
        "output_norm.weight": ModelTensor.finalNorm,
        "output.weight": ModelTensor.outputHead,
    ]

    /// The canonical name of a GGUF tensor, or nil for one this project does not use
    /// (e.g. `rope_freqs.weight`).
    static func canonical(_ ggufName: String) -> String? {
        if let name = globals[ggufName] { return name }
        guard ggufName.hasPrefix("blk.") else { return nil }
        let rest = ggufName.dropFirst(4)
        guard let dot = rest.firstIndex(of: "."), let layer = Int(rest[..<dot]),
              let tensor = layerSuffixes[String(rest[rest.index(after: dot)...])] else { return nil }
        return tensor.name(layer: layer)
    }
}

// MARK: - llama.cpp's Q/K row permutation

/// llama.cpp's converter (`convert_hf_to_gguf.py`, `LlamaModel.permute`) reorders the rows of
/// q_proj and k_proj so that its RoPE can rotate adjacent pairs (2i, 2i+1) instead of Hugging Face's
/// "rotate half" pairs (i, i + Dh/2):
///
///     gguf = hf.reshape(heads, 2, Dh/2, cols).swapaxes(1, 2).reshape(rows, cols)
///
/// so GGUF row `h·Dh + 2j + s` holds HF row `h·Dh + s·Dh/2 + j` (s ∈ {0, 1}, j < Dh/2).
/// This undoes it: HF row i is GGUF row `order[i]`, for a matrix of `rows` = heads·Dh rows.
package func unpermutedRowOrder(rows: Int, heads: Int) -> [Int] {
    let headDim = rows / heads, half = headDim / 2
    var order = [Int](repeating: 0, count: rows)
    for h in 0..<heads {
        for j in 0..<half {
            for s in 0..<2 { order[h * headDim + s * half + j] = h * headDim + 2 * j + s }
        }
    }
    return order
}

/// `w` (heads·Dh, cols) with its rows in Hugging Face order.
package func unpermuteQK(_ w: Tensor, heads: Int) -> Tensor {
    WeightMatrix(w).gatheringRows(unpermutedRowOrder(rows: w.shape[0], heads: heads)).decoded()
}
