// A tiny random Llama model for the Surgery tests: written as a Hugging Face folder (config.json +
// model.safetensors) in a temporary directory and loaded through `Checkpoint`, the only way to make
// `Weights`. The values are seeded Gaussians, so every run sees the same model.
import Foundation
import Linalg
import Llama
import Tensor
import Surgery

enum TinyModel {
    /// L 3 · D 16 · H 4 · G 2 · Dh 4 · F 24 · V 32. q, o: (16, 16); k, v: (8, 16); gate, up: (24, 16),
    /// so their samples are the columns; down: (16, 24).
    static var config: [String: Any] { [
        "model_type": "llama", "hidden_size": 16, "num_hidden_layers": 3, "num_attention_heads": 4,
        "num_key_value_heads": 2, "head_dim": 4, "intermediate_size": 24, "vocab_size": 32,
        "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "max_position_embeddings": 64,
        "tie_word_embeddings": true, "hidden_act": "silu",
    ] }

    /// Loads (once per process) the tiny model's weights.
    static let weights: Weights = {
        do { return try make(seed: 7) } catch { fatalError("tiny model: \(error)") }
    }()

    static func make(seed: UInt64) throws -> Weights {
        let folder = FileManager.default.temporaryDirectory
            .appendingPathComponent("surgery-tiny-\(ProcessInfo.processInfo.processIdentifier)-\(seed)")
        try? FileManager.default.removeItem(at: folder)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }

        let configData = try JSONSerialization.data(withJSONObject: config)
        try configData.write(to: folder.appendingPathComponent("config.json"))
        let c = try Config(huggingFaceJSON: configData, path: "tiny/config.json")

        var rng = Xoshiro256StarStar(seed: seed)
        var tensors: [(String, [Int], [Float])] = []
        for (name, shape) in ModelTensor.required(c) {
            let count = shape.reduce(1, *)
            // Norms are ones; matrices get Gaussians with a decaying column scale so that the
            // spectra are not flat and thresholds pick different counts; a per-column offset
            // gives the rows a mean that centring matters for.
            if shape.count == 1 {
                tensors.append((name, shape, [Float](repeating: 1, count: count)))
                continue
            }
            let columns = shape[1]
            let offsets = gaussianTensor(shape: [columns], using: &rng).scalars.map { $0 * 0.3 }
            let noise = gaussianTensor(shape: [count], using: &rng).scalars
            var values = [Float](repeating: 0, count: count)
            for i in 0..<count {
                let j = i % columns
                values[i] = noise[i] / Float(1 + j) + offsets[j]
            }
            tensors.append((name, shape, values))
        }
        try writeSafetensors(tensors, to: folder.appendingPathComponent("model.safetensors"))
        return try Weights(checkpoint: Checkpoint.open(folder.path))
    }

    /// Minimal F32 safetensors writer: 8-byte little-endian header length, JSON header, data.
    static func writeSafetensors(_ tensors: [(String, [Int], [Float])], to url: URL) throws {
        var header: [String: Any] = [:]
        var offset = 0
        for (name, shape, values) in tensors {
            header[name] = ["dtype": "F32", "shape": shape, "data_offsets": [offset, offset + 4 * values.count]]
            offset += 4 * values.count
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while json.count % 8 != 0 { json.append(UInt8(ascii: " ")) }
        var file = Data()
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { file.append(contentsOf: $0) }
        file.append(json)
        for (_, _, values) in tensors {
            for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { file.append(contentsOf: $0) } }
        }
        try file.write(to: url)
    }
}

// MARK: - Names in the reference fixtures

struct UnknownFixtureName: Error { let name: String }

/// A mode as the fixtures spell it (`separate`, `shared-kv`, `shared-kv-layers`).
func fixtureGrouping(_ name: String) throws -> Grouping {
    let all: [Grouping] = [.separate, .sharedKV, .sharedKVLayers(groupSize: nil)]
    guard let mode = all.first(where: { $0.description == name }) else { throw UnknownFixtureName(name: name) }
    return mode
}

func fixtureCentring(_ name: String) throws -> Centring {
    guard let centring = Centring(rawValue: name) else { throw UnknownFixtureName(name: name) }
    return centring
}
