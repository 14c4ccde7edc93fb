// The tokenizer files of an exported folder. From a Hugging Face folder they are copied as they
// are; from a GGUF file they are built from its `tokenizer.ggml.*` arrays as the `tokenizers`
// library's tokenizer.json, plus tokenizer_config.json (special tokens, add_bos_token, chat
// template) and special_tokens_map.json. Both kinds `Tokenizer` reads are written:
//
//   GGUF "gpt2" (byte-level BPE):   no normalizer · pre-tokenizer ByteLevel, or for pre "smollm"
//                                   Sequence[Digits(individual_digits), ByteLevel] · BPE with the
//                                   file's merges · ByteLevel decoder
//   GGUF "llama" (SentencePiece):   normalizer Prepend("▁") + Replace(" ", "▁") · no pre-tokenizer ·
//                                   BPE with merges made from the scores, byte_fallback, fuse_unk ·
//                                   decoder Replace("▁", " "), ByteFallback, Fuse, Strip(" ", 1, 0)
//
// Sources: the tokenizers library's serialization (tokenizers/src/{models/bpe, pre_tokenizers,
// processors, decoders}); transformers' GGUF tokenizer conversion and `generate_merges`.
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One file of the output folder.
package struct ExportFile: Sendable {
    package var name: String
    package var contents: [UInt8]
}

// MARK: - From a checkpoint

/// The files a Hugging Face folder may hold for its tokenizer (and generation defaults), copied as is.
let huggingFaceTokenizerFileNames = [
    "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "chat_template.jinja",
    "chat_template.json", "tokenizer.model", "vocab.json", "merges.txt", "added_tokens.json",
    "generation_config.json",
]

/// The tokenizer files for the model read from `source`: copies of its folder's files, or built from
/// its GGUF metadata. A folder without tokenizer files gives none.
package func tokenizerFiles(of source: Checkpoint) throws -> [ExportFile] {
    switch source.storage {
    case .gguf(let file, _):
        let metadata = try GGUFTokenizerMetadata(file)
        return try huggingFaceTokenizerFiles(gguf: metadata, source: file.path,
                                             modelMaxLength: source.config.contextLength)
    case .safetensors, .sharded:
        guard let folder = source.folder else { return [] }
        var files: [ExportFile] = []
        for name in huggingFaceTokenizerFileNames {
            let path = folder + "/" + name
            guard FileManager.default.fileExists(atPath: path) else { continue }
            do {
                files.append(ExportFile(name: name, contents: [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))))
            } catch {
                throw ExportError.cannotWrite(path: path, reason: "cannot read it to copy: \(errorReason(error))")
            }
        }
        return files
    }
}

// MARK: - From GGUF metadata

/// llama.cpp's token types (`llama_token_type`), as in Tokenizer+GGUF.swift.
private enum GGUFTokenType: Int32 {
    case normal = 1, unknown, control, userDefined, unused, byte
}

/// tokenizer.json, tokenizer_config.json and special_tokens_map.json for a GGUF tokenizer.
/// `source` names the file in errors; `modelMaxLength` is the model's context length.
package func huggingFaceTokenizerFiles(gguf m: GGUFTokenizerMetadata, source: String,
                                       modelMaxLength: Int) throws -> [ExportFile] {
    func unsupported(_ reason: String) -> ExportError { .unsupportedTokenizer(path: source, reason: reason) }

    // Everything Tokenizer(gguf:) checks (model, counts, merges, pre-tokenizer, ids) holds from here on.
    let tokenizer: Tokenizer
    do { tokenizer = try Tokenizer(gguf: m) } catch { throw unsupported("\(error)") }
    let n = m.tokens.count
    var types = (m.tokenTypes ?? []).map { GGUFTokenType(rawValue: $0) ?? .normal }
    if types.isEmpty { types = Array(repeating: .normal, count: n) }

    // The vocabulary: one member per token, in id order. Spellings are compared as bytes (see Text/README.md).
    var firstID: [[UInt8]: Int] = [:]
    var vocab: [(key: String, value: JSONValue)] = []
    vocab.reserveCapacity(n)
    for (id, spelling) in m.tokens.enumerated() {
        if let first = firstID.updateValue(id, forKey: Array(spelling.utf8)) {
            throw ExportError.duplicateTokenSpelling(spelling: spelling, firstID: first, secondID: id)
        }
        vocab.append((spelling, .integer(id)))
    }

    // Tokens matched whole before BPE: unknown and control ones are special, user-defined ones not
    // (llama.cpp's special-token cache; transformers' GGUF loader marks them the same way).
    var addedTokens: [JSONValue] = []
    for (id, type) in types.enumerated() where type == .unknown || type == .control || type == .userDefined {
        addedTokens.append(.object([
            ("id", .integer(id)), ("content", .string(m.tokens[id])), ("single_word", .bool(false)),
            ("lstrip", .bool(false)), ("rstrip", .bool(false)), ("normalized", .bool(false)),
            ("special", .bool(type != .userDefined)),
        ]))
    }

    func spelling(_ id: Int?) -> String? { id.map { m.tokens[$0] } }
    let bos = tokenizer.bosTokenID, eos = tokenizer.eosTokenID
    let addBOS = tokenizer.addsBOSToken, addEOS = tokenizer.addsEOSToken

    var normalizer = JSONValue.null, preTokenizer = JSONValue.null, decoder: JSONValue
    var model: [(key: String, value: JSONValue)] = [("type", .string("BPE")), ("dropout", .null)]
    switch tokenizer.kind {
    case .byteLevelBPE:
        let byteLevel = JSONValue.object([("type", .string("ByteLevel")), ("add_prefix_space", .bool(false)),
                                          ("trim_offsets", .bool(true)), ("use_regex", .bool(true))])
        switch tokenizer.preTokenizer {
        case .gpt2:
            preTokenizer = byteLevel
        case .digitsThenGPT2:
            preTokenizer = .object([("type", .string("Sequence")), ("pretokenizers", .array([
                .object([("type", .string("Digits")), ("individual_digits", .bool(true))]), byteLevel,
            ]))])
        }
        decoder = .object([("type", .string("ByteLevel")), ("add_prefix_space", .bool(true)),
                           ("trim_offsets", .bool(true)), ("use_regex", .bool(true))])
        // A byte with no token is dropped, as transformers' GGUF tokenizer (no unk_token) does.
        model += [("unk_token", .null), ("continuing_subword_prefix", .null), ("end_of_word_suffix", .null),
                  ("fuse_unk", .bool(false)), ("byte_fallback", .bool(false)), ("ignore_merges", .bool(false)),
                  ("vocab", .object(vocab)),
                  ("merges", .array((m.merges ?? []).map { line in
                      let sides = line.split(separator: " ", omittingEmptySubsequences: false)
                      return .array(sides.map { .string(String($0)) })
                  }))]

    case .sentencePieceBPE:
        guard m.addSpacePrefix != false else {
            throw unsupported("add_space_prefix is false; tokenizer.json's Llama normalizer always prepends \"▁\"")
        }
        normalizer = .object([("type", .string("Sequence")), ("normalizers", .array([
            .object([("type", .string("Prepend")), ("prepend", .string("\u{2581}"))]),
            .object([("type", .string("Replace")), ("pattern", .object([("String", .string(" "))])),
                     ("content", .string("\u{2581}"))]),
        ]))])
        decoder = .object([("type", .string("Sequence")), ("decoders", .array([
            .object([("type", .string("Replace")), ("pattern", .object([("String", .string("\u{2581}"))])),
                     ("content", .string(" "))]),
            .object([("type", .string("ByteFallback"))]),
            .object([("type", .string("Fuse"))]),
            .object([("type", .string("Strip")), ("content", .string(" ")), ("start", .integer(1)), ("stop", .integer(0))]),
        ]))])
        let byteFallback = !tokenizer.idOfByteToken.isEmpty
        model += [("unk_token", spelling(tokenizer.symbolUnknownID.map(Int.init)).map(JSONValue.string) ?? .null),
                  ("continuing_subword_prefix", .null), ("end_of_word_suffix", .null),
                  ("fuse_unk", .bool(true)), ("byte_fallback", .bool(byteFallback)), ("ignore_merges", .bool(false)),
                  ("vocab", .object(vocab)),
                  ("merges", .array(mergesFromScores(m, types: types, byteTokens: tokenizer.idOfByteToken)
                      .map { .array([.string($0.left), .string($0.right)]) }))]
    }

    let tokenizerJSON = JSONValue.object([
        ("version", .string("1.0")),
        ("truncation", .null),
        ("padding", .null),
        ("added_tokens", .array(addedTokens)),
        ("normalizer", normalizer),
        ("pre_tokenizer", preTokenizer),
        ("post_processor", postProcessor(bos: addBOS ? spelling(bos).map { ($0, bos!) } : nil,
                                         eos: addEOS ? spelling(eos).map { ($0, eos!) } : nil,
                                         byteLevel: tokenizer.kind == .byteLevelBPE)),
        ("decoder", decoder),
        ("model", .object(model)),
    ])

    // tokenizer_config.json: transformers rebuilds the post-processor from add_bos_token/add_eos_token,
    // so both are written, agreeing with the post-processor above. Keys sorted, as transformers writes.
    func token(_ id: Int?) -> JSONValue { spelling(id).map(JSONValue.string) ?? .null }
    var config: [(key: String, value: JSONValue)] = [
        ("add_bos_token", .bool(addBOS)),
        ("add_eos_token", .bool(addEOS)),
        ("bos_token", token(bos)),
    ]
    if let template = m.chatTemplate { config.append(("chat_template", .string(template))) }
    config += [
        ("clean_up_tokenization_spaces", .bool(false)),
        ("eos_token", token(eos)),
        ("model_max_length", .integer(modelMaxLength)),
        ("pad_token", token(tokenizer.paddingTokenID)),
        // The generic class: transformers 5 maps it to TokenizersBackend, which takes tokenizer.json as
        // written; a model-specific class (LlamaTokenizer) would impose its own pre-tokenizer.
        ("tokenizer_class", .string("PreTrainedTokenizerFast")),
        ("unk_token", token(tokenizer.unknownTokenID)),
    ]
    var specialTokensMap: [(key: String, value: JSONValue)] = []
    for (key, id) in [("bos_token", bos), ("eos_token", eos), ("pad_token", tokenizer.paddingTokenID),
                      ("unk_token", tokenizer.unknownTokenID)] {
        if let s = spelling(id) { specialTokensMap.append((key, .string(s))) }
    }

    return [
        ExportFile(name: "tokenizer.json", contents: tokenizerJSON.prettyPrinted()),
        ExportFile(name: "tokenizer_config.json", contents: JSONValue.object(config).prettyPrinted()),
        ExportFile(name: "special_tokens_map.json", contents: JSONValue.object(specialTokensMap).prettyPrinted()),
    ]
}

/// What the tokenizer adds around a sequence: `TemplateProcessing` with BOS and/or EOS, or, when it adds
/// neither, the byte-level processor (offsets only) or nothing.
private func postProcessor(bos: (String, Int)?, eos: (String, Int)?, byteLevel: Bool) -> JSONValue {
    if bos == nil && eos == nil {
        return byteLevel
            ? .object([("type", .string("ByteLevel")), ("add_prefix_space", .bool(true)),
                       ("trim_offsets", .bool(false)), ("use_regex", .bool(true))])
            : .null
    }
    func special(_ t: (String, Int)?, typeID: Int) -> [JSONValue] {
        guard let (s, _) = t else { return [] }
        return [.object([("SpecialToken", .object([("id", .string(s)), ("type_id", .integer(typeID))]))])]
    }
    func sequence(_ name: String, typeID: Int) -> JSONValue {
        .object([("Sequence", .object([("id", .string(name)), ("type_id", .integer(typeID))]))])
    }
    let single = special(bos, typeID: 0) + [sequence("A", typeID: 0)] + special(eos, typeID: 0)
    let pair = single + special(bos, typeID: 1) + [sequence("B", typeID: 1)] + special(eos, typeID: 1)
    var tokens: [(key: String, value: JSONValue)] = []
    for t in [bos, eos].compactMap({ $0 }) where !tokens.contains(where: { $0.key == t.0 }) {
        tokens.append((t.0, .object([("id", .string(t.0)), ("ids", .array([.integer(t.1)])),
                                     ("tokens", .array([.string(t.0)]))])))
    }
    return .object([("type", .string("TemplateProcessing")), ("single", .array(single)),
                    ("pair", .array(pair)), ("special_tokens", .object(tokens))])
}

/// sentencepiece BPE keeps a score per piece, not a merge list; tokenizer.json needs merges. Every cut
/// of a mergeable piece (normal or user-defined, as sentencepiece merges only those) into two vocabulary
/// pieces is a merge, ranked by the piece's score, best first; equal scores put the longer left side
/// first, then the longer right side, then id order — transformers' `generate_merges` ordering.
private func mergesFromScores(_ m: GGUFTokenizerMetadata, types: [GGUFTokenType],
                              byteTokens: [Int32]) -> [(left: String, right: String)] {
    let scores = m.scores ?? []
    var isByteToken = [Bool](repeating: false, count: m.tokens.count)
    for id in byteTokens where id >= 0 { isByteToken[Int(id)] = true }
    var idOf: [[UInt8]: Int] = [:]
    for (id, s) in m.tokens.enumerated() { idOf[Array(s.utf8)] = id }

    struct Candidate { var left: String, right: String, score: Float, leftLength: Int, rightLength: Int }
    var candidates: [Candidate] = []
    for (id, piece) in m.tokens.enumerated()
    where (types[id] == .normal || types[id] == .userDefined) && !isByteToken[id] {
        let scalars = Array(piece.unicodeScalars)
        var local: [(l: Int, r: Int, cut: Int)] = []
        for cut in 1..<max(scalars.count, 1) {
            let l = String(String.UnicodeScalarView(scalars[..<cut])), r = String(String.UnicodeScalarView(scalars[cut...]))
            if let li = idOf[Array(l.utf8)], let ri = idOf[Array(r.utf8)] { local.append((li, ri, cut)) }
        }
        local.sort { ($0.l, $0.r) < ($1.l, $1.r) }
        for c in local {
            candidates.append(Candidate(left: m.tokens[c.l], right: m.tokens[c.r], score: scores[id],
                                        leftLength: c.cut, rightLength: scalars.count - c.cut))
        }
    }
    // A stable sort, best first (Python's sorted(..., reverse=True) keeps equal items in order).
    let order = candidates.indices.sorted { a, b in
        let x = candidates[a], y = candidates[b]
        if x.score != y.score { return x.score > y.score }
        if x.leftLength != y.leftLength { return x.leftLength > y.leftLength }
        if x.rightLength != y.rightLength { return x.rightLength > y.rightLength }
        return a < b
    }
    return order.map { (candidates[$0].left, candidates[$0].right) }
}
