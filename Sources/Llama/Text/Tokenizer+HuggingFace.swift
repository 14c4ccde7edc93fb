// Building a Tokenizer from Hugging Face files: tokenizer.json (the `tokenizers` library's format),
// tokenizer_config.json (add_bos_token, special token names, chat_template) and chat_template.jinja.
// Only the shapes the two supported kinds use are accepted; anything else is a named error.
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension Tokenizer {
    /// Reads `tokenizer.json`, and `tokenizer_config.json` and `chat_template.jinja` where present.
    public init(huggingFaceDirectory directory: String) throws {
        func read(_ name: String, required: Bool) throws -> Data? {
            let path = directory + "/" + name
            if !FileManager.default.fileExists(atPath: path) {
                if required { throw TokenizerError.missingFile(path: path) }
                return nil
            }
            do { return try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
                throw TokenizerError.unreadableFile(path: path, reason: errorReason(error))
            }
        }
        let template = try read("chat_template.jinja", required: false).map { String(decoding: $0, as: UTF8.self) }
        try self.init(tokenizerJSON: read("tokenizer.json", required: true)!,
                      tokenizerConfigJSON: read("tokenizer_config.json", required: false),
                      chatTemplate: template)
    }

    /// Builds from the contents of `tokenizer.json` and, optionally, `tokenizer_config.json`.
    /// `chatTemplate` (the contents of chat_template.jinja) takes precedence over the config's.
    public init(tokenizerJSON: Data, tokenizerConfigJSON: Data? = nil, chatTemplate: String? = nil) throws {
        let file: HFTokenizerFile
        do { file = try JSONDecoder().decode(HFTokenizerFile.self, from: tokenizerJSON) } catch {
            throw TokenizerError.invalidJSON(file: "tokenizer.json", reason: errorReason(error))
        }
        var config = HFValue.object([:])
        if let data = tokenizerConfigJSON {
            do { config = try JSONDecoder().decode(HFValue.self, from: data) } catch {
                throw TokenizerError.invalidJSON(file: "tokenizer_config.json", reason: errorReason(error))
            }
        }
        try self.init(definition(file, config: config, chatTemplate: chatTemplate))
    }
}

// MARK: - tokenizer.json, as decoded

private struct HFTokenizerFile: Decodable {
    var addedTokens: [HFAddedToken]
    var normalizer: HFValue?
    var preTokenizer: HFValue?
    var postProcessor: HFValue?
    var decoder: HFValue?
    var model: HFModel

    enum CodingKeys: String, CodingKey {
        case addedTokens = "added_tokens", normalizer, preTokenizer = "pre_tokenizer"
        case postProcessor = "post_processor", decoder, model
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        addedTokens = try c.decodeIfPresent([HFAddedToken].self, forKey: .addedTokens) ?? []
        normalizer = try c.decodeIfPresent(HFValue.self, forKey: .normalizer)
        preTokenizer = try c.decodeIfPresent(HFValue.self, forKey: .preTokenizer)
        postProcessor = try c.decodeIfPresent(HFValue.self, forKey: .postProcessor)
        self.decoder = try c.decodeIfPresent(HFValue.self, forKey: .decoder)
        model = try c.decode(HFModel.self, forKey: .model)
    }
}

private struct HFAddedToken: Decodable {
    var id: Int
    var content: String
    var singleWord: Bool?
    var lstrip: Bool?
    var rstrip: Bool?
    var normalized: Bool?
    var special: Bool?

    enum CodingKeys: String, CodingKey {
        case id, content, singleWord = "single_word", lstrip, rstrip, normalized, special
    }
}

private struct HFModel: Decodable {
    var type: String?
    var vocab: [String: Int]
    /// Each merge as its two sides. Files write "left right" strings (older) or ["left", "right"] pairs.
    var merges: [[String]]
    var unkToken: String?
    var byteFallback: Bool?
    var fuseUnk: Bool?
    var ignoreMerges: Bool?
    var dropout: Double?
    var continuingSubwordPrefix: String?
    var endOfWordSuffix: String?

    enum CodingKeys: String, CodingKey {
        case type, vocab, merges, unkToken = "unk_token", byteFallback = "byte_fallback", fuseUnk = "fuse_unk"
        case ignoreMerges = "ignore_merges", dropout, continuingSubwordPrefix = "continuing_subword_prefix"
        case endOfWordSuffix = "end_of_word_suffix"
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        type = try c.decodeIfPresent(String.self, forKey: .type)
        vocab = try c.decode([String: Int].self, forKey: .vocab)
        if let pairs = try? c.decode([[String]].self, forKey: .merges) {
            merges = pairs
        } else {
            let lines = try c.decodeIfPresent([String].self, forKey: .merges) ?? []
            merges = lines.map { line in
                let sides = line.split(separator: " ", omittingEmptySubsequences: false)
                return sides.count == 2 ? sides.map(String.init) : [line]   // checked below
            }
        }
        unkToken = try c.decodeIfPresent(String.self, forKey: .unkToken)
        byteFallback = try c.decodeIfPresent(Bool.self, forKey: .byteFallback)
        fuseUnk = try c.decodeIfPresent(Bool.self, forKey: .fuseUnk)
        ignoreMerges = try c.decodeIfPresent(Bool.self, forKey: .ignoreMerges)
        dropout = try c.decodeIfPresent(Double.self, forKey: .dropout)
        continuingSubwordPrefix = try c.decodeIfPresent(String.self, forKey: .continuingSubwordPrefix)
        endOfWordSuffix = try c.decodeIfPresent(String.self, forKey: .endOfWordSuffix)
    }
}

// MARK: - Reading it

private func definition(_ file: HFTokenizerFile, config: HFValue, chatTemplate: String?) throws -> TokenizerDefinition {
    let model = file.model

    // The BPE model and the options it is known with.
    if let type = model.type, type != "BPE" { throw TokenizerError.unsupportedModel(type) }
    if let p = model.dropout, p != 0 { throw TokenizerError.unsupportedModelOption(name: "dropout", value: "\(p)") }
    if let s = model.continuingSubwordPrefix, !s.isEmpty {
        throw TokenizerError.unsupportedModelOption(name: "continuing_subword_prefix", value: s)
    }
    if let s = model.endOfWordSuffix, !s.isEmpty {
        throw TokenizerError.unsupportedModelOption(name: "end_of_word_suffix", value: s)
    }
    if model.ignoreMerges == true { throw TokenizerError.unsupportedModelOption(name: "ignore_merges", value: "true") }

    // The vocabulary: model ids and added-token ids together must run 0..<count. So no id can reach
    // the number of entries; that is checked before `count` spellings are allocated, as a lying id
    // would make the table any size.
    let highest = max(model.vocab.values.max() ?? -1, file.addedTokens.map(\.id).max() ?? -1)
    if highest >= model.vocab.count + file.addedTokens.count {
        let used = Set(model.vocab.values).union(file.addedTokens.map(\.id))
        let hole = (0..<highest).first { !used.contains($0) } ?? highest    // fewer ids than slots: one is free
        throw TokenizerError.missingTokenID(id: hole, vocabularySize: highest == Int.max ? highest : highest + 1)
    }
    let count = highest + 1
    var spellings = [String?](repeating: nil, count: max(count, 0))
    for (spelling, id) in model.vocab {
        guard id >= 0 else { throw TokenizerError.missingTokenID(id: id, vocabularySize: count) }
        if let first = spellings[id] { throw TokenizerError.duplicateTokenID(id: id, first: first, second: spelling) }
        spellings[id] = spelling
    }
    for t in file.addedTokens {
        guard t.id >= 0 else { throw TokenizerError.missingTokenID(id: t.id, vocabularySize: count) }
        if let first = spellings[t.id], first.utf8.elementsEqual(t.content.utf8) == false {
            throw TokenizerError.duplicateTokenID(id: t.id, first: first, second: t.content)
        }
        spellings[t.id] = t.content
    }
    if let hole = spellings.firstIndex(where: { $0 == nil }) {
        throw TokenizerError.missingTokenID(id: hole, vocabularySize: count)
    }
    let vocabulary = spellings.map { $0! }
    var idOfSpelling: [[UInt8]: Int] = [:]
    for (id, s) in vocabulary.enumerated() { idOfSpelling[Array(s.utf8)] = id }   // by bytes, as Tokenizer does
    func id(of spelling: String) -> Int? { idOfSpelling[Array(spelling.utf8)] }

    // Which kind: GPT-2's byte-level split with no normalizer, or Llama's normalizer with no pre-tokenizer.
    let kind: Tokenizer.Kind
    var preTokenizer = PreTokenizer.gpt2
    switch (file.normalizer ?? .null, file.preTokenizer ?? .null) {
    case (.null, .null):
        throw TokenizerError.unsupportedPreTokenizer("none (a BPE model needs a byte-level split or Llama's normalizer)")
    case (.null, let pre):
        kind = .byteLevelBPE
        preTokenizer = try byteLevelPreTokenizer(pre)
    case (let normalizer, .null):
        guard isLlamaNormalizer(normalizer) else { throw TokenizerError.unsupportedNormalizer("\(normalizer)") }
        kind = .sentencePieceBPE
    case (let normalizer, _):
        throw TokenizerError.unsupportedNormalizer("\(normalizer)")
    }

    var d = TokenizerDefinition(kind: kind, spellings: vocabulary, merges: .ranked([]), addedTokens: [])
    d.preTokenizer = preTokenizer

    // Merges.
    var pairs: [(left: String, right: String)] = []
    pairs.reserveCapacity(model.merges.count)
    for (index, sides) in model.merges.enumerated() {
        guard sides.count == 2 else { throw TokenizerError.malformedMerge(index: index, found: sides.joined(separator: " ")) }
        pairs.append((sides[0], sides[1]))
    }
    d.merges = .ranked(pairs)

    // Added tokens, matched whole before BPE.
    for t in file.addedTokens {
        if t.lstrip == true { throw TokenizerError.unsupportedAddedTokenOption(token: t.content, option: "lstrip") }
        if t.rstrip == true { throw TokenizerError.unsupportedAddedTokenOption(token: t.content, option: "rstrip") }
        if t.singleWord == true { throw TokenizerError.unsupportedAddedTokenOption(token: t.content, option: "single_word") }
        if t.normalized == true && kind == .sentencePieceBPE {
            throw TokenizerError.unsupportedAddedTokenOption(token: t.content, option: "normalized")
        }
        d.addedTokens.append((t.content, Int32(t.id), t.special ?? false))
    }

    // The decoder must undo what encoding did.
    switch kind {
    case .byteLevelBPE:
        if model.byteFallback == true { throw TokenizerError.unsupportedModelOption(name: "byte_fallback", value: "true") }
        if let decoder = file.decoder, decoder != .null, decoder["type"]?.string != "ByteLevel" {
            throw TokenizerError.unsupportedDecoder("\(decoder)")
        }
    case .sentencePieceBPE:
        d.dummyPrefix = true
        d.stripsLeadingSpace = try llamaDecoderStripsSpace(file.decoder ?? .null)
        if model.byteFallback == true {
            for b in 0...255 {
                if let id = id(of: byteTokenSpelling(UInt8(b))) { d.byteTokens[UInt8(b)] = Int32(id) }
            }
        }
    }

    // What BPE does with a starting symbol that is not in the vocabulary.
    d.symbolUnknownID = model.unkToken.flatMap(id(of:))
    d.fusesUnknown = model.fuseUnk ?? false

    // Special tokens by name: tokenizer_config.json first, then the model's unk_token and the post-processor.
    func named(_ key: String) throws -> Int? {
        let value = config[key]
        guard let spelling = value?.string ?? value?["content"]?.string else { return nil }
        guard let id = id(of: spelling) else { throw TokenizerError.unknownSpecialToken(name: key, spelling: spelling) }
        return id
    }
    let (prefix, suffix) = try postProcessorTokens(file.postProcessor ?? .null)
    d.bosID = try named("bos_token") ?? prefix.flatMap(id(of:))
    d.eosID = try named("eos_token") ?? suffix.flatMap(id(of:))
    d.unknownID = try named("unk_token") ?? model.unkToken.flatMap(id(of:))
    d.paddingID = try named("pad_token")
    if let p = prefix, id(of: p) != d.bosID { throw TokenizerError.unsupportedPostProcessor("adds \(p), which is not BOS") }
    if let s = suffix, id(of: s) != d.eosID { throw TokenizerError.unsupportedPostProcessor("adds \(s), which is not EOS") }
    // transformers rebuilds the post-processor from add_bos_token/add_eos_token when the config has them.
    d.addBOS = config["add_bos_token"]?.bool ?? (prefix != nil)
    d.addEOS = config["add_eos_token"]?.bool ?? (suffix != nil)

    d.chatTemplate = chatTemplate ?? config["chat_template"]?.string
        ?? config["chat_template"]?.array?.first { $0["name"]?.string == "default" }?["template"]?.string
    return d
}

/// `ByteLevel(add_prefix_space: false, use_regex: true)`, alone or after `Digits(individual_digits: true)`.
private func byteLevelPreTokenizer(_ pre: HFValue) throws -> PreTokenizer {
    func isGPT2ByteLevel(_ v: HFValue) -> Bool {
        v["type"]?.string == "ByteLevel" && v["add_prefix_space"]?.bool != true && v["use_regex"]?.bool != false
    }
    if isGPT2ByteLevel(pre) { return .gpt2 }
    if pre["type"]?.string == "Sequence", let steps = pre["pretokenizers"]?.array, steps.count == 2,
       steps[0]["type"]?.string == "Digits", steps[0]["individual_digits"]?.bool == true, isGPT2ByteLevel(steps[1]) {
        return .digitsThenGPT2
    }
    throw TokenizerError.unsupportedPreTokenizer("\(pre)")
}

/// Llama's `Sequence[Prepend("▁"), Replace(" ", "▁")]`.
private func isLlamaNormalizer(_ n: HFValue) -> Bool {
    guard n["type"]?.string == "Sequence", let steps = n["normalizers"]?.array, steps.count == 2 else { return false }
    return steps[0]["type"]?.string == "Prepend" && steps[0]["prepend"]?.string == "\u{2581}"
        && steps[1]["type"]?.string == "Replace" && steps[1]["pattern"]?["String"]?.string == " "
        && steps[1]["content"]?.string == "\u{2581}"
}

/// Llama's decoder `Sequence[Replace("▁", " "), ByteFallback, Fuse, Strip(" ", 1, 0)]`; the Replace step is
/// required, the others optional. Returns whether it strips one leading space.
private func llamaDecoderStripsSpace(_ decoder: HFValue) throws -> Bool {
    guard decoder["type"]?.string == "Sequence", let steps = decoder["decoders"]?.array else {
        throw TokenizerError.unsupportedDecoder("\(decoder)")
    }
    var replaces = false, strips = false
    for step in steps {
        switch step["type"]?.string {
        case "Replace" where step["pattern"]?["String"]?.string == "\u{2581}" && step["content"]?.string == " ":
            replaces = true
        case "ByteFallback", "Fuse":
            break
        case "Strip" where step["content"]?.string == " " && (step["start"]?.int ?? 0) <= 1 && (step["stop"]?.int ?? 0) == 0:
            strips = step["start"]?.int == 1
        default:
            throw TokenizerError.unsupportedDecoder("\(step)")
        }
    }
    guard replaces else { throw TokenizerError.unsupportedDecoder("\(decoder)") }
    return strips
}

/// The special token a `TemplateProcessing` post-processor puts before and after a single sequence.
private func postProcessorTokens(_ p: HFValue) throws -> (prefix: String?, suffix: String?) {
    switch p["type"]?.string {
    case nil where p == .null, "ByteLevel":
        return (nil, nil)
    case "Sequence":
        var found: (prefix: String?, suffix: String?) = (nil, nil)
        for step in p["processors"]?.array ?? [] {
            let (a, b) = try postProcessorTokens(step)
            found = (found.prefix ?? a, found.suffix ?? b)
        }
        return found
    case "TemplateProcessing":
        guard let single = p["single"]?.array,
              let sequence = single.firstIndex(where: { $0["Sequence"] != nil }) else {
            throw TokenizerError.unsupportedPostProcessor("\(p)")
        }
        let before = single[..<sequence].compactMap { $0["SpecialToken"]?["id"]?.string }
        let after = single[(sequence + 1)...].compactMap { $0["SpecialToken"]?["id"]?.string }
        guard before.count <= 1, after.count <= 1, before.count + after.count == single.count - 1 else {
            throw TokenizerError.unsupportedPostProcessor("\(p)")
        }
        return (before.first, after.first)
    default:
        throw TokenizerError.unsupportedPostProcessor("\(p)")
    }
}

// MARK: - JSON values

/// Any JSON value, for the parts of the files whose shape depends on a "type" field.
private enum HFValue: Decodable, Equatable, Sendable, CustomStringConvertible {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([HFValue])
    case object([String: HFValue])

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let x = try? c.decode(Double.self) { self = .number(x) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([HFValue].self) { self = .array(a) }
        else { self = .object(try c.decode([String: HFValue].self)) }
    }

    subscript(key: String) -> HFValue? {
        if case .object(let o) = self { return o[key] }
        return nil
    }

    var string: String? { if case .string(let s) = self { return s }; return nil }
    var bool: Bool? { if case .bool(let b) = self { return b }; return nil }
    var int: Int? { if case .number(let x) = self, let i = Int(exactly: x) { return i }; return nil }
    var array: [HFValue]? { if case .array(let a) = self { return a }; return nil }

    /// Compact JSON-like text, for error messages.
    var description: String {
        switch self {
        case .null: "null"
        case .bool(let b): "\(b)"
        case .number(let x): "\(x)"
        case .string(let s): "\"\(s)\""
        case .array(let a): "[" + a.map(\.description).joined(separator: ", ") + "]"
        case .object(let o): "{" + o.keys.sorted().map { "\"\($0)\": \(o[$0]!)" }.joined(separator: ", ") + "}"
        }
    }
}
