// Factored folders (`exportHuggingFace(…, factored: true)`): the tiny fixture model with K/V factors
// written and reopened — factors bit for bit, latent ranks in config.json, the same logits from the
// latent runtime — and one handcrafted bad folder per way a factored folder can be wrong.
import Foundation
import Testing
import Llama
import Tensor
import TestSupport

private func scratchFolder() throws -> String {
    let parent = FileManager.default.temporaryDirectory.appendingPathComponent("factored-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: false)
    return parent
}

/// The tiny model (2 layers, D 64, G·Dh 32) with seeded random factors of rank 12 in layer 0 and 20
/// in layer 1 (different ranks, so a swapped or shared rank shows).
private func tinyFactored() throws -> (checkpoint: Checkpoint, weights: Weights) {
    let checkpoint = try Checkpoint.open(Fixtures.path("tiny/f32"))
    var weights = try Weights(checkpoint: checkpoint)
    var rng = Xoshiro256StarStar(seed: 5)
    func random(_ shape: [Int]) -> Tensor {
        Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in Float.random(in: -0.3..<0.3, using: &rng) })
    }
    for (layer, rank) in [(0, 12), (1, 20)] {
        let factors = LatentKV(down: random([rank, 64]), keyUp: random([32, rank]), valueUp: random([32, rank]))
        weights.layers[layer].k = WeightMatrix(factors.denseKeys)
        weights.layers[layer].v = WeightMatrix(factors.denseValues)
        weights.layers[layer].latentKV = factors
    }
    return (checkpoint, weights)
}

/// Writes the factored tiny model as F32 into a new folder and returns its path.
private func writeFactored() throws -> (folder: String, weights: Weights, config: Config) {
    let (checkpoint, weights) = try tinyFactored()
    let folder = try scratchFolder() + "/factored"
    try exportHuggingFace(weights: weights, config: checkpoint.config, tokenizerSource: nil, dtype: .float32,
                          to: folder, factored: true)
    return (folder, weights, checkpoint.config)
}

/// config.json of `folder`, changed by `edit`, written back.
private func editConfig(_ folder: String, _ edit: (inout [String: Any]) -> Void) throws {
    let path = folder + "/config.json"
    var json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
    edit(&json)
    try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: path))
}

/// model.safetensors of `folder` rewritten with its tensors changed by `edit` (name → tensor).
private func editTensors(_ folder: String, _ edit: (inout [String: Tensor]) -> Void) throws {
    let path = folder + "/model.safetensors"
    let file = try SafetensorsFile(path: path)
    var tensors: [String: Tensor] = [:]
    for name in file.names { tensors[name] = try file.tensor(name) }
    edit(&tensors)
    try FileManager.default.removeItem(atPath: path)
    try SafetensorsFile.write(tensors.sorted { $0.key < $1.key }.map { SafetensorsEntry(name: $0.key, tensor: $0.value, dtype: .float32) },
                              metadata: ["format": "pt"], to: path)
}

private func openError(_ folder: String) -> CheckpointError? {
    do {
        _ = try Weights(checkpoint: Checkpoint.open(folder))
        return nil
    } catch {
        return error as? CheckpointError
    }
}

@Suite struct FactoredExportTests {
    @Test func roundTrip() throws {
        let (folder, weights, config) = try writeFactored()
        let reopened = try Checkpoint.open(folder)
        #expect(reopened.config.latentKVRanks == [12, 20])
        #expect(reopened.info(named: LayerTensor.k.name(layer: 0)) == nil, "a factored layer has no k_proj")
        let loaded = try Weights(checkpoint: reopened)
        #expect(loaded.latentRanks == [12, 20])
        for layer in 0..<2 {
            #expect(loaded.layers[layer].latentKV == weights.layers[layer].latentKV, "layer \(layer) factors bit for bit")
        }
        // The latent runtime on the reopened folder: the same floats, the same work, the same logits.
        let ids = try Fixtures.int32s("model/tiny_prefill_2_ids.i32").map(Int.init)
        let written = Model(config: config, weights: weights).logits(ids)
        #expect(try Model(checkpoint: reopened).logits(ids) == written)
        #expect(ModelSummary(reopened).architecture == "LlamaLatentKVForCausalLM")
        #expect(ModelSummary(reopened).kvCacheBytesPerToken == (12 + 20) * 4)
        // transformers must refuse the folder (an unknown model_type) rather than fill k_proj at random.
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder + "/config.json"))) as! [String: Any]
        #expect(json["model_type"] as? String == "llama_latent_kv")
    }

    /// Without `factored`, latent weights are written as a plain Llama folder holding B A.
    @Test func denseExportOfLatentWeights() throws {
        let (checkpoint, weights) = try tinyFactored()
        let folder = try scratchFolder() + "/dense"
        try exportHuggingFace(weights: weights, config: checkpoint.config, tokenizerSource: nil, dtype: .float32, to: folder)
        let reopened = try Checkpoint.open(folder)
        #expect(reopened.config.latentKVRanks == nil)
        #expect(try reopened.tensor(named: LayerTensor.k.name(layer: 1)) == weights.layers[1].k.decoded())
    }

    @Test func factoredExportNeedsFactors() throws {
        let checkpoint = try Checkpoint.open(Fixtures.path("tiny/f32"))
        let folder = try scratchFolder() + "/none"
        #expect(throws: ExportError.nothingFactored) {
            try exportHuggingFace(weights: try Weights(checkpoint: checkpoint), config: checkpoint.config,
                                  tokenizerSource: nil, dtype: .float32, to: folder, factored: true)
        }
        #expect(!FileManager.default.fileExists(atPath: folder))
    }

    // MARK: - Bad folders, one per error

    @Test func missingFactor() throws {
        let (folder, _, _) = try writeFactored()
        try editTensors(folder) { $0[LatentTensor.valueUp.name(layer: 1)] = nil }
        #expect(openError(folder) == .missingTensor(path: folder + "/model.safetensors", tensor: "model.layers.1.self_attn.v_b_proj.weight"))
    }

    @Test func factorOfWrongRank() throws {
        let (folder, _, _) = try writeFactored()
        try editTensors(folder) { $0[LatentTensor.keyUp.name(layer: 0)] = Tensor(zeros: [32, 13]) }
        #expect(openError(folder) == .wrongShape(path: folder + "/model.safetensors", tensor: "model.layers.0.self_attn.k_b_proj.weight",
                                                 found: [32, 13], expected: [32, 12]))
    }

    @Test func ranksDisagreeWithTensors() throws {
        let (folder, _, _) = try writeFactored()
        try editConfig(folder) { $0["latent_kv_ranks"] = [20, 12] }
        #expect(openError(folder) == .wrongShape(path: folder + "/model.safetensors", tensor: "model.layers.0.self_attn.kv_a_proj.weight",
                                                 found: [12, 64], expected: [20, 64]))
    }

    @Test func denseLayerWithoutProjections() throws {
        let (folder, _, _) = try writeFactored()
        try editConfig(folder) { $0["latent_kv_ranks"] = [12, 0] }       // layer 1 now claims dense K and V
        #expect(openError(folder) == .missingTensor(path: folder + "/model.safetensors", tensor: "model.layers.1.self_attn.k_proj.weight"))
    }

    @Test func rankListOfWrongLength() throws {
        let (folder, _, _) = try writeFactored()
        try editConfig(folder) { $0["latent_kv_ranks"] = [12] }
        #expect(openError(folder) == .invalidConfig(path: folder + "/config.json", reason: "latent_kv_ranks has 1 entries for 2 layers"))
    }

    @Test func negativeRank() throws {
        let (folder, _, _) = try writeFactored()
        try editConfig(folder) { $0["latent_kv_ranks"] = [12, -20] }
        #expect(openError(folder) == .invalidConfig(path: folder + "/config.json",
                                                    reason: "latent_kv_ranks[1] is -20, expected ≥ 0 (0: dense K and V)"))
    }

    @Test func latentModelTypeWithoutRanks() throws {
        let (folder, _, _) = try writeFactored()
        try editConfig(folder) { $0["latent_kv_ranks"] = nil }
        #expect(openError(folder) == .missingConfigKey(path: folder + "/config.json", key: "latent_kv_ranks"))
    }

    @Test func ranksUnderPlainLlama() throws {
        let (folder, _, _) = try writeFactored()
        try editConfig(folder) { $0["model_type"] = "llama" }
        #expect(openError(folder) == .invalidConfig(path: folder + "/config.json",
                                                    reason: "latent_kv_ranks needs model_type \"llama_latent_kv\", found \"llama\""))
    }
}
