// The weights of a Llama model in Hugging Face layout, loaded from a Checkpoint. Projection matrices
// stay in their file's encoding (WeightMatrix: F16, BF16, Q4_1, …, usually memory-mapped); norms are
// decoded to Float. A value type: surgery makes a changed copy, whose replaced matrices are Float,
// and unchanged ones share storage.
import Tensor

// D model dim · H query heads · G kv heads · Dh head dim · F MLP dim · V vocab

/// One decoder layer's weights (PyTorch `[out, in]` layout for projections).
public struct LayerWeights: Sendable {
    public var inputNorm: Tensor            // (D)
    public var q: WeightMatrix              // (H·Dh, D)
    public var k: WeightMatrix              // (G·Dh, D)
    public var v: WeightMatrix              // (G·Dh, D)
    public var o: WeightMatrix              // (D, H·Dh)
    public var postAttentionNorm: Tensor    // (D)
    public var gate: WeightMatrix           // (F, D)
    public var up: WeightMatrix             // (F, D)
    public var down: WeightMatrix           // (D, F)
    /// K and V as factors of one latent (LatentKV.swift); when present the forward pass runs the
    /// latent attention and caches r values per token, and `k`, `v` hold the dense equivalents
    /// B_k A and B_v A. Replacing `k` or `v` drops the factors.
    public var latentKV: LatentKV?

    /// A layer of Float matrices.
    public init(inputNorm: Tensor, q: Tensor, k: Tensor, v: Tensor, o: Tensor, postAttentionNorm: Tensor,
                gate: Tensor, up: Tensor, down: Tensor, latentKV: LatentKV? = nil) {
        self.init(inputNorm: inputNorm, q: WeightMatrix(q), k: WeightMatrix(k), v: WeightMatrix(v), o: WeightMatrix(o),
                  postAttentionNorm: postAttentionNorm, gate: WeightMatrix(gate), up: WeightMatrix(up),
                  down: WeightMatrix(down), latentKV: latentKV)
    }

    public init(inputNorm: Tensor, q: WeightMatrix, k: WeightMatrix, v: WeightMatrix, o: WeightMatrix,
                postAttentionNorm: Tensor, gate: WeightMatrix, up: WeightMatrix, down: WeightMatrix,
                latentKV: LatentKV? = nil) {
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

    /// A tensor as Float values (a stored matrix is decoded); setting one replaces it with a Float
    /// matrix (or vector) of the same shape.
    public subscript(tensor: LayerTensor) -> Tensor {
        get {
            switch tensor {
            case .inputNorm: inputNorm
            case .postAttentionNorm: postAttentionNorm
            default: self[matrix: tensor].decoded()
            }
        }
        set {
            switch tensor {
            case .inputNorm:
                precondition(newValue.shape == inputNorm.shape, "replacing inputNorm of shape \(inputNorm.shape) with shape \(newValue.shape)")
                inputNorm = newValue
            case .postAttentionNorm:
                precondition(newValue.shape == postAttentionNorm.shape,
                             "replacing postAttentionNorm of shape \(postAttentionNorm.shape) with shape \(newValue.shape)")
                postAttentionNorm = newValue
            default: self[matrix: tensor] = WeightMatrix(newValue)
            }
        }
    }

    /// One of the seven projection matrices, as stored. Replacing `k` or `v` drops the factors.
    public subscript(matrix tensor: LayerTensor) -> WeightMatrix {
        get {
            switch tensor {
            case .q: q
            case .k: k
            case .v: v
            case .o: o
            case .gate: gate
            case .up: up
            case .down: down
            case .inputNorm, .postAttentionNorm: preconditionFailure("\(tensor.rawValue) is a vector, not a matrix")
            }
        }
        set {
            precondition(newValue.shape == self[matrix: tensor].shape,
                         "replacing \(tensor.rawValue) of shape \(self[matrix: tensor].shape) with shape \(newValue.shape)")
            switch tensor {
            case .q: q = newValue
            case .k: k = newValue; latentKV = nil
            case .v: v = newValue; latentKV = nil
            case .o: o = newValue
            case .gate: gate = newValue
            case .up: up = newValue
            case .down: down = newValue
            case .inputNorm, .postAttentionNorm: preconditionFailure("\(tensor.rawValue) is a vector, not a matrix")
            }
        }
    }
}

/// All weights of a model.
public struct Weights: Sendable {
    public var embedding: WeightMatrix      // (V, D)
    public var layers: [LayerWeights]
    public var finalNorm: Tensor            // (D)
    /// (V, D); `nil` when the output head is tied to the embedding.
    public var outputHead: WeightMatrix?

    /// Opens every tensor the forward pass needs, checking names and shapes: matrices stay as
    /// stored, vectors and K/V factors are decoded.
    public init(checkpoint: Checkpoint) throws {
        let c = checkpoint.config
        func load(_ name: String, _ shape: [Int]) throws -> Tensor {
            let t = try checkpoint.tensor(named: name)
            guard t.shape == shape else {
                throw CheckpointError.wrongShape(path: checkpoint.path, tensor: name, found: t.shape, expected: shape)
            }
            return t
        }
        embedding = try checkpoint.matrix(named: ModelTensor.embedding, shape: [c.vocabSize, c.hiddenSize])
        layers = try (0..<c.layerCount).map { layer in
            func part(_ t: LayerTensor) throws -> WeightMatrix { try checkpoint.matrix(named: t.name(layer: layer), shape: t.shape(c)) }
            func vector(_ t: LayerTensor) throws -> Tensor { try load(t.name(layer: layer), t.shape(c)) }
            var latent: LatentKV?
            if let rank = c.latentRank(layer: layer) {
                func factor(_ t: LatentTensor) throws -> Tensor { try load(t.name(layer: layer), t.shape(c, rank: rank)) }
                latent = LatentKV(down: try factor(.down), keyUp: try factor(.keyUp), valueUp: try factor(.valueUp))
            }
            return LayerWeights(inputNorm: try vector(.inputNorm), q: try part(.q),
                                k: try latent.map { WeightMatrix($0.denseKeys) } ?? part(.k),
                                v: try latent.map { WeightMatrix($0.denseValues) } ?? part(.v),
                                o: try part(.o), postAttentionNorm: try vector(.postAttentionNorm),
                                gate: try part(.gate), up: try part(.up), down: try part(.down), latentKV: latent)
        }
        finalNorm = try load(ModelTensor.finalNorm, [c.hiddenSize])
        outputHead = c.tiedEmbeddings ? nil : try checkpoint.matrix(named: ModelTensor.outputHead, shape: [c.vocabSize, c.hiddenSize])
    }

    /// The matrix that maps the final hidden state to logits: (V, D).
    public var head: WeightMatrix { outputHead ?? embedding }

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
