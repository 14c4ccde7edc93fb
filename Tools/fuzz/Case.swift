// The real files the fuzzer starts from (Tests/Fixtures: the tiny model in every format, real
// tokenizer.json files), copied into a scratch folder, and case number i of a run: a seed, a file of
// it, one to three mutations, all drawn from a generator seeded by (run seed, i) — so any case can be
// replayed alone by its number.
import Foundation
import Llama
import Tensor

// MARK: - Seeds

/// A model as a user would point the tool at it: its files, and the path that is opened.
struct Seed {
    let name: String
    /// (name in the seed's folder, path under Tests/Fixtures).
    let files: [(name: String, fixture: String)]
    /// The file opened, or nil for the folder itself.
    let opens: String?

    static let all: [Seed] = {
        let byteLevel = ("tokenizer.json", "tokenizer/byte-bpe/tokenizer.json")
        var seeds = ["F32", "F16", "Q8_0", "Q4_0", "Q4_1"].map { type in
            Seed(name: "gguf-\(type)", files: [("tiny-\(type).gguf", "tiny/gguf/tiny-\(type).gguf")], opens: "tiny-\(type).gguf")
        }
        seeds.append(Seed(name: "gguf-metadata", files: [("metadata.gguf", "formats/metadata.gguf")], opens: "metadata.gguf"))
        seeds.append(Seed(name: "hf-bf16", files: [("config.json", "tiny/bf16/config.json"),
                                                   ("model.safetensors", "tiny/bf16/model.safetensors"), byteLevel], opens: nil))
        seeds.append(Seed(name: "hf-f32-sentencepiece",
                          files: [("config.json", "tiny/f32/config.json"), ("model.safetensors", "tiny/f32/model.safetensors"),
                                  ("tokenizer.json", "tokenizer/llama-bpe/tokenizer.json"),
                                  ("tokenizer_config.json", "tokenizer/llama-bpe/tokenizer_config.json")],
                          opens: "model.safetensors"))
        seeds.append(Seed(name: "hf-tied", files: [("config.json", "tiny/tied/config.json"),
                                                   ("model.safetensors", "tiny/tied/model.safetensors"), byteLevel], opens: nil))
        let shards = (1...3).map { ("model-0000\($0)-of-00003.safetensors", "tiny/sharded/model-0000\($0)-of-00003.safetensors") }
        seeds.append(Seed(name: "hf-sharded", files: [("config.json", "tiny/sharded/config.json"),
                                                      ("model.safetensors.index.json", "tiny/sharded/model.safetensors.index.json")]
                                                     + shards + [byteLevel], opens: nil))
        return seeds
    }()
}

/// Tests/Fixtures of the checkout this tool was built from.
let defaultFixtures: String = {
    var url = URL(fileURLWithPath: #filePath)       // …/Tools/fuzz/Case.swift
    url.deleteLastPathComponent()
    url.deleteLastPathComponent()
    url.deleteLastPathComponent()
    return url.appendingPathComponent("Tests/Fixtures").path
}()

// MARK: - Workspace

/// The seeds copied into a scratch folder, their files' bytes and structure held in memory.
final class Workspace {
    let root: String
    let seeds: [(seed: Seed, folder: String, targets: [Target], bytes: Int)]

    init(fixtures: String) throws {
        root = Self.scratch + "/" + Self.prefix(ProcessInfo.processInfo.processIdentifier) + "\(UInt32.random(in: 0...UInt32.max))"
        var seeds: [(Seed, String, [Target], Int)] = []
        for seed in Seed.all {
            let folder = root + "/" + seed.name
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            var targets: [Target] = []
            for (name, fixture) in seed.files {
                var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: fixtures + "/" + fixture)))
                if name.hasPrefix("tiny-") { bytes = addingEmptyMerges(bytes) }
                try Data(bytes).write(to: URL(fileURLWithPath: folder + "/" + name))
                let kind: FileKind = name.hasSuffix(".gguf") ? .gguf : name.hasSuffix(".safetensors") ? .safetensors : .json
                targets.append(Target(name: name, kind: kind, bytes: bytes))
            }
            seeds.append((seed, folder, targets, targets.reduce(0) { $0 + $1.bytes.count }))
        }
        seeds.append(try Self.factoredSeed(in: root + "/hf-factored", fixtures: fixtures))
        self.seeds = seeds
    }

    /// A factored folder (`compress --factored`: K/V latents, latent_kv_ranks), which the fixtures do
    /// not hold: the tiny f32 model with seeded factors of rank 8 in layer 0 and 20 in layer 1,
    /// written as bf16 by the exporter, with the byte-level tokenizer beside it.
    private static func factoredSeed(in folder: String, fixtures: String) throws -> (Seed, String, [Target], Int) {
        let checkpoint = try Checkpoint.open(fixtures + "/tiny/f32")
        var weights = try Weights(checkpoint: checkpoint)
        var rng = Xoshiro256StarStar(seed: 11)
        func random(_ shape: [Int]) -> Tensor {
            Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in Float.random(in: -0.3..<0.3, using: &rng) })
        }
        for (layer, rank) in [(0, 8), (1, 20)] {
            weights.layers[layer].latentKV = LatentKV(down: random([rank, 64]), keyUp: random([32, rank]), valueUp: random([32, rank]))
        }
        try exportHuggingFace(weights: weights, config: checkpoint.config, tokenizerSource: nil, dtype: .bfloat16,
                              to: folder, factored: true)
        try FileManager.default.copyItem(atPath: fixtures + "/tokenizer/byte-bpe/tokenizer.json", toPath: folder + "/tokenizer.json")
        let targets = try ["config.json", "model.safetensors", "tokenizer.json"].map { name in
            Target(name: name, kind: name.hasSuffix(".safetensors") ? .safetensors : .json,
                   bytes: [UInt8](try Data(contentsOf: URL(fileURLWithPath: folder + "/" + name))))
        }
        return (Seed(name: "hf-factored", files: [], opens: nil), folder, targets, targets.reduce(0) { $0 + $1.bytes.count })
    }

    func remove() { try? FileManager.default.removeItem(atPath: root) }

    /// Memory-backed when the system has it: cases rewrite files thousands of times a second.
    static let scratch = FileManager.default.isWritableFile(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()

    static func prefix(_ pid: Int32) -> String { "surgery-fuzz-\(pid)-" }

    /// Removes what a worker that trapped or was killed left behind.
    static func removeLeftovers(of pid: Int32) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: scratch)) ?? []
        for name in names where name.hasPrefix(prefix(pid)) { try? FileManager.default.removeItem(atPath: scratch + "/" + name) }
    }

    /// The path the load path opens for seed `s`.
    func openPath(_ s: Int) -> String {
        seeds[s].seed.opens.map { seeds[s].folder + "/" + $0 } ?? seeds[s].folder
    }

    /// Case `index` of the run `runSeed`: which seed, which file, and the damaged bytes.
    func make(_ index: Int, runSeed: UInt64) -> FuzzCase {
        var rng = Xoshiro256StarStar(seed: runSeed ^ (UInt64(index) &* 0x9E37_79B9_7F4A_7C15))
        let s = Int.random(in: 0..<seeds.count, using: &rng)
        let t = Int.random(in: 0..<seeds[s].targets.count, using: &rng)
        let target = seeds[s].targets[t]
        var bytes = target.bytes
        let count = [1, 1, 1, 1, 2, 2, 3].randomElement(using: &rng)!
        var steps: [String] = []
        for _ in 0..<count { steps.append(mutate(&bytes, target, using: &rng)) }
        return FuzzCase(index: index, seed: s, target: t, bytes: bytes,
                        description: "\(seeds[s].seed.name)/\(target.name): " + steps.joined(separator: "; "))
    }

    /// Writes the case's damaged file into its seed, runs the load path, and puts the file back.
    func run(_ c: FuzzCase, budgeted: Bool) throws -> Outcome {
        let folder = seeds[c.seed].folder
        let target = seeds[c.seed].targets[c.target]
        let url = URL(fileURLWithPath: folder + "/" + target.name)
        try Data(c.bytes).write(to: url, options: .atomic)     // a new inode: no mapping sees the change
        defer { try? Data(target.bytes).write(to: url, options: .atomic) }
        let input = seeds[c.seed].bytes - target.bytes.count + c.bytes.count
        return loadPath(openPath(c.seed), budget: budgeted ? AllocationBudget(forInput: input) : nil)
    }

    /// The seed's folder with the case's damaged file in it, copied to `folder` (for a regression test).
    func keep(_ c: FuzzCase, in folder: String) throws {
        try? FileManager.default.removeItem(atPath: folder)
        try FileManager.default.copyItem(atPath: seeds[c.seed].folder, toPath: folder)
        try Data(c.bytes).write(to: URL(fileURLWithPath: folder + "/" + seeds[c.seed].targets[c.target].name))
    }
}

struct FuzzCase {
    let index: Int
    let seed: Int
    let target: Int
    let bytes: [UInt8]
    let description: String
}

// MARK: - A tokenizer for the tiny GGUF

/// The tiny GGUF with an empty `tokenizer.ggml.merges` added, so that its tokenizer builds and the
/// fuzzer reaches the tokenizer from GGUF metadata too (the fixture's writer left the key out).
/// A padding string key keeps the inserted bytes a multiple of the alignment, so the data section
/// stays aligned and every tensor offset stays valid.
func addingEmptyMerges(_ gguf: [UInt8]) -> [UInt8] {
    let (fields, _) = ggufFields(gguf)
    guard let end = fields.first(where: { $0.role == "length of a tensor name" })?.offset else { return gguf }
    func u32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
    func u64(_ v: Int) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
    func string(_ s: String) -> [UInt8] { u64(s.utf8.count) + Array(s.utf8) }
    let alignment = 32                                    // the tiny files use the default
    var entries = string("tokenizer.ggml.merges") + u32(9) + u32(8) + u64(0)       // array of 0 strings
    let fixed = entries.count + string("fuzz.padding").count + 4 + 8
    entries += string("fuzz.padding") + u32(8) + string(String(repeating: " ", count: (alignment - fixed % alignment) % alignment))
    var result = gguf
    result.insert(contentsOf: entries, at: end)
    var count = 0
    for i in 0..<8 { count |= Int(result[16 + i]) << (8 * i) }
    result.replaceSubrange(16..<24, with: u64(count + 2))
    return result
}
