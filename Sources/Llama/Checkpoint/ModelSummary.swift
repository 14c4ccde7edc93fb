// What `surgery inspect` shows: the architecture, one line per module as PyTorch lists a
// LlamaForCausalLM (name, kind, parameters), per-layer totals, the total, dtypes and file size.

public struct ModelSummary: Sendable, Codable {
    public struct Module: Sendable, Codable {
        public var name: String
        public var kind: String
        public var parameters: Int
        public var shape: [Int]
        public var dtype: String
        /// For a tied output head: the module whose weights it shares (its parameters are not counted again).
        public var tiedTo: String?
    }

    public struct DtypeShare: Sendable, Codable {
        public var dtype: String
        public var tensors: Int
        public var parameters: Int
        public var bytes: Int
    }

    public var path: String
    public var format: String
    public var architecture: String
    public var config: Config
    public var modules: [Module]
    public var layerParameters: [Int]
    public var totalParameters: Int
    public var dtypes: [DtypeShare]
    public var fileSize: Int
    /// Bytes per token of this project's Float KV cache: Σ over layers of 2·G·Dh values, or r for a
    /// layer whose K and V come from a latent of rank r.
    public var kvCacheBytesPerToken: Int
    /// The same for dense K and V in every layer.
    public var denseKVCacheBytesPerToken: Int

    public init(_ checkpoint: Checkpoint) {
        let c = checkpoint.config
        path = checkpoint.path
        format = checkpoint.format.rawValue
        architecture = c.latentKVRanks == nil ? "LlamaForCausalLM" : "LlamaLatentKVForCausalLM"
        config = c
        fileSize = checkpoint.fileSize
        func module(_ tensorName: String, _ moduleName: String, _ kind: String) -> Module {
            let info = checkpoint.info(named: tensorName)
            return Module(name: moduleName, kind: kind, parameters: info?.parameterCount ?? 0,
                          shape: info?.shape ?? [], dtype: info?.dtype ?? "?", tiedTo: nil)
        }
        // PyTorch's named_modules order: projections, MLP, then the two norms of each layer.
        let order: [LayerTensor] = [.q, .k, .v, .o, .gate, .up, .down, .inputNorm, .postAttentionNorm]
        var modules = [module(ModelTensor.embedding, "model.embed_tokens", "Embedding")]
        var layerParameters: [Int] = []
        for layer in 0..<c.layerCount {
            var names = order.map { ($0.name(layer: layer), $0.moduleKind) }
            if c.latentRank(layer: layer) != nil {      // a factored layer: A, B_k, B_v where k_proj, v_proj would be
                names.removeAll { $0.0 == LayerTensor.k.name(layer: layer) || $0.0 == LayerTensor.v.name(layer: layer) }
                names.insert(contentsOf: LatentTensor.allCases.map { ($0.name(layer: layer), "Linear") }, at: 1)
            }
            let parts = names.map { name, kind in module(name, String(name.dropLast(".weight".count)), kind) }
            layerParameters.append(parts.reduce(0) { $0 + $1.parameters })
            modules += parts
        }
        modules.append(module(ModelTensor.finalNorm, "model.norm", "LlamaRMSNorm"))
        if c.tiedEmbeddings {
            let embedding = modules[0]
            modules.append(Module(name: "lm_head", kind: "Linear", parameters: 0, shape: embedding.shape,
                                  dtype: embedding.dtype, tiedTo: "model.embed_tokens"))
        } else {
            modules.append(module(ModelTensor.outputHead, "lm_head", "Linear"))
        }
        self.modules = modules
        self.layerParameters = layerParameters
        totalParameters = modules.reduce(0) { $0 + $1.parameters }
        var shares: [String: DtypeShare] = [:]
        for t in checkpoint.tensors {
            var share = shares[t.dtype] ?? DtypeShare(dtype: t.dtype, tensors: 0, parameters: 0, bytes: 0)
            share.tensors += 1
            share.parameters += t.parameterCount
            share.bytes += t.byteCount
            shares[t.dtype] = share
        }
        dtypes = shares.values.sorted { $0.parameters > $1.parameters }
        let ranks = (0..<c.layerCount).map { c.latentRank(layer: $0) }
        kvCacheBytesPerToken = KVCache(config: c, capacity: 0, latentRanks: ranks).bytesPerPosition
        denseKVCacheBytesPerToken = KVCache(config: c, capacity: 0).bytesPerPosition
    }
}
