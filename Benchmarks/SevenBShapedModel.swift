// A Llama-2-7B-shaped test model with random weights, for measuring what the project does at 7B
// size (the `big` area): a sharded bf16 Hugging Face folder — config.json, model-0000i-of-0000N
// .safetensors shards of at most 4 GB, model.safetensors.index.json, tokenizer.json and
// tokenizer_config.json. 32 layers, D 4096, F 11008, 32 heads and 32 KV heads of 128, vocab 32000,
// untied head: 6,738,415,616 parameters, 13.5 GB.
//
// Written tensor by tensor in chunks of 4 Mi values, so memory stays a few MB whatever the size.
// Values: uniform on [−a, a] with a = 0.02·√3 (standard deviation 0.02, as Llama's initializer),
// from the package's Xoshiro256** seeded per tensor (the same folder on every machine); norms are 1.
// The tokenizer is GPT-2-style byte-level BPE: <s> (0) and </s> (1), the 256 byte tokens, and 31,742
// merges synthesized in a fixed order (letter pairs, "Ġ"+letter, then longer lowercase words), so
// it tokenizes any text and needs no training; BOS is added as Llama's ("<s> $A").
import Foundation
import Tensor
#if canImport(Glibc)
import Glibc
#endif

private struct ShapedTensor {
    let name: String
    let shape: [Int]
    /// Norm weights are all 1; the rest random.
    let isNorm: Bool
    var count: Int { shape.reduce(1, *) }
    var bytes: Int { 2 * count }
}

private let layers = 32, hidden = 4096, intermediate = 11008, heads = 32, headDim = 128, vocab = 32000
private let shardLimit = 4_000_000_000

/// Writes the folder at `out` (through a `.partial` sibling renamed into place); false on failure.
func makeSevenBShapedModel(at out: String) -> Bool {
    let manager = FileManager.default
    if manager.fileExists(atPath: out) {
        print("make-7b-shaped: \(out) exists; remove it first")
        return false
    }
    let partial = out + ".partial"
    try? manager.removeItem(atPath: partial)
    do { try manager.createDirectory(atPath: partial, withIntermediateDirectories: true) } catch {
        print("make-7b-shaped: cannot create \(partial): \(error)")
        return false
    }

    // The tensors in file order, then shards of at most `shardLimit` bytes.
    var tensors = [ShapedTensor(name: "model.embed_tokens.weight", shape: [vocab, hidden], isNorm: false)]
    for l in 0..<layers {
        let p = "model.layers.\(l)."
        tensors += [
            ShapedTensor(name: p + "input_layernorm.weight", shape: [hidden], isNorm: true),
            ShapedTensor(name: p + "self_attn.q_proj.weight", shape: [heads * headDim, hidden], isNorm: false),
            ShapedTensor(name: p + "self_attn.k_proj.weight", shape: [heads * headDim, hidden], isNorm: false),
            ShapedTensor(name: p + "self_attn.v_proj.weight", shape: [heads * headDim, hidden], isNorm: false),
            ShapedTensor(name: p + "self_attn.o_proj.weight", shape: [hidden, heads * headDim], isNorm: false),
            ShapedTensor(name: p + "post_attention_layernorm.weight", shape: [hidden], isNorm: true),
            ShapedTensor(name: p + "mlp.gate_proj.weight", shape: [intermediate, hidden], isNorm: false),
            ShapedTensor(name: p + "mlp.up_proj.weight", shape: [intermediate, hidden], isNorm: false),
            ShapedTensor(name: p + "mlp.down_proj.weight", shape: [hidden, intermediate], isNorm: false),
        ]
    }
    tensors += [ShapedTensor(name: "model.norm.weight", shape: [hidden], isNorm: true),
                ShapedTensor(name: "lm_head.weight", shape: [vocab, hidden], isNorm: false)]
    var shards: [[Int]] = [[]]
    var shardBytes = 0
    for (index, tensor) in tensors.enumerated() {
        if shardBytes + tensor.bytes > shardLimit, !shards[shards.count - 1].isEmpty {
            shards.append([])
            shardBytes = 0
        }
        shards[shards.count - 1].append(index)
        shardBytes += tensor.bytes
    }

    let start = DispatchTime.now().uptimeNanoseconds
    var weightMap: [String: String] = [:]
    for (s, members) in shards.enumerated() {
        let file = String(format: "model-%05d-of-%05d.safetensors", s + 1, shards.count)
        guard writeShard(partial + "/" + file, members.map { (index: $0, tensor: tensors[$0]) }) else { return false }
        for index in members { weightMap[tensors[index].name] = file }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        print("  \(file): \(members.count) tensors, \(format(Double(fileOrFolderBytes(partial + "/" + file)) / 1e9, digits: 2)) GB"
              + " (\(format(seconds, digits: 0)) s so far)")
    }
    let totalSize = tensors.reduce(0) { $0 + $1.bytes }
    let index: [String: Any] = ["metadata": ["total_size": totalSize], "weight_map": weightMap]
    let config: [String: Any] = [
        "architectures": ["LlamaForCausalLM"], "model_type": "llama",
        "hidden_size": hidden, "intermediate_size": intermediate, "num_hidden_layers": layers,
        "num_attention_heads": heads, "num_key_value_heads": heads, "head_dim": headDim,
        "vocab_size": vocab, "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "max_position_embeddings": 4096,
        "tie_word_embeddings": false, "hidden_act": "silu", "attention_bias": false, "mlp_bias": false,
        "bos_token_id": 0, "eos_token_id": 1, "torch_dtype": "bfloat16",
    ]
    let tokenizerConfig: [String: Any] = [
        "bos_token": "<s>", "eos_token": "</s>", "add_bos_token": true, "add_eos_token": false,
        "model_max_length": 4096, "tokenizer_class": "PreTrainedTokenizerFast",
    ]
    do {
        try writeJSON(index, to: partial + "/model.safetensors.index.json")
        try writeJSON(config, to: partial + "/config.json")
        try writeJSON(byteLevelTokenizer(), to: partial + "/tokenizer.json")
        try writeJSON(tokenizerConfig, to: partial + "/tokenizer_config.json")
        try manager.moveItem(atPath: partial, toPath: out)
    } catch {
        print("make-7b-shaped: \(error)")
        return false
    }
    let parameters = tensors.reduce(0) { $0 + $1.count }
    print("wrote \(out): \(tensors.count) tensors, \(parameters) parameters, \(format(Double(totalSize) / 1e9, digits: 2)) GB of bf16 "
          + "in \(shards.count) shards")
    return true
}

// MARK: - Safetensors, streamed

/// One shard: 8-byte little-endian header length, the JSON header (padded with spaces to a
/// multiple of 8), then each tensor's bytes in header order.
private func writeShard(_ path: String, _ members: [(index: Int, tensor: ShapedTensor)]) -> Bool {
    var entries: [String] = ["\"__metadata__\":{\"format\":\"pt\"}"]
    var offset = 0
    for (_, tensor) in members {
        let shape = tensor.shape.map(String.init).joined(separator: ",")
        entries.append("\"\(tensor.name)\":{\"dtype\":\"BF16\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(offset + tensor.bytes)]}")
        offset += tensor.bytes
    }
    var header = Array(("{" + entries.joined(separator: ",") + "}").utf8)
    while header.count % 8 != 0 { header.append(UInt8(ascii: " ")) }

    guard let file = fopen(path, "wb") else {
        print("make-7b-shaped: cannot open \(path)")
        return false
    }
    defer { fclose(file) }
    var length = UInt64(header.count).littleEndian
    var ok = fwrite(&length, 8, 1, file) == 1 && fwrite(header, 1, header.count, file) == header.count
    let chunk = 1 << 22
    var buffer = [UInt16](repeating: 0, count: chunk)
    for (index, tensor) in members where ok {
        var rng = Xoshiro256StarStar(seed: 0x7B_5EED &+ UInt64(index) &* 0x9E37_79B9_7F4A_7C15)
        var remaining = tensor.count
        while remaining > 0 && ok {
            let n = min(chunk, remaining)
            buffer.withUnsafeMutableBufferPointer { out in
                if tensor.isNorm {
                    for i in 0..<n { out[i] = 0x3F80 }                      // bf16 1.0
                } else {
                    fillUniformBF16(out.baseAddress!, count: n, using: &rng)
                }
                ok = fwrite(out.baseAddress!, 2, n, file) == n
            }
            remaining -= n
        }
    }
    if !ok { print("make-7b-shaped: writing \(path) failed (disk full?)") }
    return ok
}

/// `count` bf16 values uniform on [−a, a], a = 0.02·√3, four per 64-bit draw (16 bits each).
/// bf16 = the top 16 bits of the float32, rounded to nearest even (no NaNs arise here).
private func fillUniformBF16(_ out: UnsafeMutablePointer<UInt16>, count: Int, using rng: inout Xoshiro256StarStar) {
    let a: Float = 0.02 * Float(3).squareRoot()
    let scale = 2 * a / 65536
    var i = 0
    while i < count {
        var bits = rng.next()
        for _ in 0..<4 where i < count {
            let u = Float(Int(bits & 0xFFFF) - 32768) + 0.5                 // (−32768, 32768)
            let f = (u * scale).bitPattern
            out[i] = UInt16(truncatingIfNeeded: (f &+ 0x7FFF &+ ((f >> 16) & 1)) >> 16)
            bits >>= 16
            i += 1
        }
    }
}

private func writeJSON(_ value: Any, to path: String) throws {
    let data = try JSONSerialization.data(withJSONObject: value, options: [.sortedKeys])
    try data.write(to: URL(fileURLWithPath: path))
}

// MARK: - The tokenizer

/// GPT-2's byte → character table: printable Latin-1 bytes stand for themselves, the others
/// (controls, space, …) for U+0100 + their rank, so every byte has a visible one-character spelling.
private func gpt2ByteCharacters() -> [String] {
    let printable = Array(33...126) + Array(161...172) + Array(174...255)
    var table = [String](repeating: "", count: 256)
    var next = 256
    for b in 0..<256 {
        if printable.contains(b) {
            table[b] = String(UnicodeScalar(UInt8(b)))
        } else {
            table[b] = String(UnicodeScalar(UInt32(next))!)
            next += 1
        }
    }
    return table
}

/// tokenizer.json of a byte-level BPE with `vocab` entries: ids 0 and 1 are <s> and </s>, then the
/// 256 byte tokens, then one token per merge.
private func byteLevelTokenizer() -> [String: Any] {
    let bytes = gpt2ByteCharacters()
    let space = bytes[32]                                                   // "Ġ"
    let letters = (UInt8(ascii: "a")...UInt8(ascii: "z")).map { String(UnicodeScalar($0)) }
    var merges: [(String, String)] = []
    let wanted = vocab - 2 - 256
    for x in letters { merges.append((space, x)) }                          // "Ġa"
    for x in letters { for y in letters { merges.append((x, y)) } }        // "ab"
    for x in letters { for y in letters { merges.append((space + x, y)) } } // "Ġab"
    for x in letters { for y in letters { for z in letters { merges.append((x + y, z)) } } }     // "abc"
    outer: for x in letters { for y in letters { for z in letters {                             // "Ġabc"
        if merges.count >= wanted { break outer }
        merges.append((space + x + y, z))
    } } }
    merges = Array(merges.prefix(wanted))

    var model: [String: Int] = ["<s>": 0, "</s>": 1]
    for (b, spelling) in bytes.enumerated() { model[spelling] = 2 + b }
    for (i, merge) in merges.enumerated() { model[merge.0 + merge.1] = 2 + 256 + i }
    func special(_ id: Int, _ content: String) -> [String: Any] {
        ["id": id, "content": content, "single_word": false, "lstrip": false, "rstrip": false,
         "normalized": false, "special": true]
    }
    let byteLevel: [String: Any] = ["type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true]
    // Llama's "<s> $A": BOS before every sequence, in transformers as here (add_bos_token agrees).
    func piece(_ kind: String, _ id: String, _ typeID: Int) -> [String: Any] { [kind: ["id": id, "type_id": typeID]] }
    let bosTemplate: [String: Any] = [
        "type": "TemplateProcessing",
        "single": [piece("SpecialToken", "<s>", 0), piece("Sequence", "A", 0)],
        "pair": [piece("SpecialToken", "<s>", 0), piece("Sequence", "A", 0), piece("SpecialToken", "<s>", 1), piece("Sequence", "B", 1)],
        "special_tokens": ["<s>": ["id": "<s>", "ids": [0], "tokens": ["<s>"]]],
    ]
    return [
        "version": "1.0",
        "truncation": NSNull(), "padding": NSNull(),
        "added_tokens": [special(0, "<s>"), special(1, "</s>")],
        "normalizer": NSNull(),
        "pre_tokenizer": byteLevel,
        "post_processor": bosTemplate,
        "decoder": byteLevel,
        "model": [
            "type": "BPE", "dropout": NSNull(), "unk_token": NSNull(), "continuing_subword_prefix": NSNull(),
            "end_of_word_suffix": NSNull(), "fuse_unk": false, "byte_fallback": false, "ignore_merges": false,
            "vocab": model, "merges": merges.map { "\($0.0) \($0.1)" },
        ] as [String: Any],
    ]
}
