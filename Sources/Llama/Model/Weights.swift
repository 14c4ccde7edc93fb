// The weights of a Llama model as Float tensors in Hugging Face layout, loaded from a Checkpoint.
// A value type: surgery makes a changed copy, and unchanged tensors share storage (copy-on-write).
import Tensor

// D model dim · H query heads · G kv heads · Dh head dim · F MLP dim · V vocab

/// One decoder layer's weights (PyTorch `[out, in]` layout for projections).
public struct LayerWeights: Sendable {
    public var inputNorm: Tensor            // (D)
    public var q: Tensor                    // (H·Dh, D)
    public var k: Tensor                    // (G·Dh, D)
    public var v: Tensor                    // (G·Dh, D)
    public var o: Tensor                    // (D, H·Dh)
    public var postAttentionNorm: Tensor    // (D)
    public var gate: Tensor                 // (F, D)
    public var up: Tensor                   // (F, D)
    public var down: Tensor                 // (D, F)
    /// K and V as factors of one latent (LatentKV.swift); when present the forward pass runs the
    /// latent attention and caches r values per token, and `k`, `v` hold the dense equivalents
    /// B_k A and B_v A. Replacing `k` or `v` drops the factors.
    public var latentKV: LatentKV?

    public init(inputNorm: Tensor, q: Tensor, k: Tensor, v: Tensor, o: Tensor, postAttentionNorm: Tensor,
                gate: Tensor, up: Tensor, down: Tensor, latentKV: LatentKV? = nil) {
        self.inputNorm = inputNorm
        self.q = q
        self.k = k
        self.v = v
        self.o = o
        self.postAttentionNorm = postAttentionNorm
        self.gate = gate
        self.up = up
        self.down = down
        self.latentKV = latentKV
    }

    public subscript(tensor: LayerTensor) -> Tensor {
        get {
            switch tensor {
            case .inputNorm: inputNorm
            case .q: q
            case .k: k
            case .v: v
            case .o: o
            case .postAttentionNorm: postAttentionNorm
            case .gate: gate
            case .up: up
            case .down: down
            }
        }
        set {
            precondition(newValue.shape == self[tensor].shape,
                         "replacing \(tensor.rawValue) of shape \(self[tensor].shape) with shape \(newValue.shape)")
            switch tensor {
            case .inputNorm: inputNorm = newValue
            case .q: q = newValue
            case .k: k = newValue; latentKV = nil
            case .v: v = newValue; latentKV = nil
            case .o: o = newValue
            case .postAttentionNorm: postAttentionNorm = newValue
            case .gate: gate = newValue
            case .up: up = newValue
            case .down: down = newValue
            }
        }
    }
}

/// All weights of a model.
public struct Weights: Sendable {
    public var embedding: Tensor            // (V, D)
    public var layers: [LayerWeights]
    public var finalNorm: Tensor            // (D)
    /// (V, D); `nil` when the output head is tied to the embedding.
    public var outputHead: Tensor?

    /// Loads and decodes every tensor the forward pass needs, checking names and shapes.
    public init(checkpoint: Checkpoint) throws {
        let c = checkpoint.config
        func load(_ name: String, _ shape: [Int]) throws -> Tensor {
            let t = try checkpoint.tensor(named: name)
            guard t.shape == shape else {
                throw CheckpointError.wrongShape(path: checkpoint.path, tensor: name, found: t.shape, expected: shape)
            }
            return t
        }
        embedding = try load(ModelTensor.embedding, [c.vocabSize, c.hiddenSize])
        layers = try (0..<c.layerCount).map { layer in
            func part(_ t: LayerTensor) throws -> Tensor { try load(t.name(layer: layer), t.shape(c)) }
            var latent: LatentKV?
            if let rank = c.latentRank(layer: layer) {
                func factor(_ t: LatentTensor) throws -> Tensor { try load(t.name(layer: layer), t.shape(c, rank: rank)) }
                latent = LatentKV(down: try factor(.down), keyUp: try factor(.keyUp), valueUp: try factor(.valueUp))
            }
            return LayerWeights(inputNorm: try part(.inputNorm), q: try part(.q),
                                k: try latent?.denseKeys ?? part(.k), v: try latent?.denseValues ?? part(.v),
                                o: try part(.o), postAttentionNorm: try part(.postAttentionNorm),
                                gate: try part(.gate), up: try part(.up), down: try part(.down), latentKV: latent)
        }
        finalNorm = try load(ModelTensor.finalNorm, [c.hiddenSize])
        outputHead = c.tiedEmbeddings ? nil : try load(ModelTensor.outputHead, [c.vocabSize, c.hiddenSize])
    }

    /// The matrix that maps the final hidden state to logits: (V, D).
    public var head: Tensor { outputHead ?? embedding }

    /// Each layer's latent rank r, nil for a layer that holds K and V dense.
    public var latentRanks: [Int?] { layers.map { $0.latentKV?.rank } }

    /// The same weights with every layer's K/V factors dropped: the dense reconstruction, run with a
    /// dense cache.
    public func droppingLatentKV() -> Weights {
        var dense = self
        for i in dense.layers.indices { dense.layers[i].latentKV = nil }
        return dense
    }
}
