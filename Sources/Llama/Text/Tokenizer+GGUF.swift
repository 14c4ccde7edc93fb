// Building a Tokenizer from the arrays GGUF metadata holds (`tokenizer.ggml.*`, `tokenizer.chat_template`),
// read the way llama.cpp (llama-vocab.cpp) and transformers (integrations/gguf) read them.

/// A GGUF file's tokenizer, field by field. The GGUF reader fills it; nothing here knows the file.
///
/// | field            | GGUF key                         |
/// | ---------------- | -------------------------------- |
/// | model            | tokenizer.ggml.model             |
/// | preTokenizer     | tokenizer.ggml.pre               |
/// | tokens           | tokenizer.ggml.tokens            |
/// | tokenTypes       | tokenizer.ggml.token_type        |
/// | merges           | tokenizer.ggml.merges            |
/// | scores           | tokenizer.ggml.scores            |
/// | bosTokenID …     | tokenizer.ggml.bos_token_id, eos_token_id, unknown_token_id, padding_token_id |
/// | addBOSToken      | tokenizer.ggml.add_bos_token (and add_eos_token) |
/// | addSpacePrefix   | tokenizer.ggml.add_space_prefix  |
/// | chatTemplate     | tokenizer.chat_template          |
package struct GGUFTokenizerMetadata: Sendable, Equatable {
    /// "gpt2" (byte-level BPE, merges by rank) or "llama" (SentencePiece BPE, merges by score).
    package var model: String
    /// The byte-level split: "gpt2" or "smollm" (digits one by one, then GPT-2's). nil reads as "gpt2".
    /// Ignored for "llama", which has no pre-tokenizer.
    package var preTokenizer: String?
    /// Every token's spelling, by id. Byte-level tokens are in GPT-2's byte alphabet ("Ġthe").
    package var tokens: [String]
    /// One per token: 1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte.
    package var tokenTypes: [Int32]?
    /// "left right", best first. Required for "gpt2".
    package var merges: [String]?
    /// One per token, higher merges first. Required for "llama".
    package var scores: [Float]?
    package var bosTokenID: Int?
    package var eosTokenID: Int?
    package var unknownTokenID: Int?
    package var paddingTokenID: Int?
    /// Defaults: true for "llama" (as llama.cpp and transformers assume), false for "gpt2".
    package var addBOSToken: Bool?
    package var addEOSToken: Bool?
    /// "▁" in front of the text ("llama"; default true). Must not be true for "gpt2".
    package var addSpacePrefix: Bool?
    package var chatTemplate: String?

    package init(model: String, preTokenizer: String? = nil, tokens: [String], tokenTypes: [Int32]? = nil,
                merges: [String]? = nil, scores: [Float]? = nil, bosTokenID: Int? = nil, eosTokenID: Int? = nil,
                unknownTokenID: Int? = nil, paddingTokenID: Int? = nil, addBOSToken: Bool? = nil,
                addEOSToken: Bool? = nil, addSpacePrefix: Bool? = nil, chatTemplate: String? = nil) {
        self.model = model
        self.preTokenizer = preTokenizer
        self.tokens = tokens
        self.tokenTypes = tokenTypes
        self.merges = merges
        self.scores = scores
        self.bosTokenID = bosTokenID
        self.eosTokenID = eosTokenID
        self.unknownTokenID = unknownTokenID
        self.paddingTokenID = paddingTokenID
        self.addBOSToken = addBOSToken
        self.addEOSToken = addEOSToken
        self.addSpacePrefix = addSpacePrefix
        self.chatTemplate = chatTemplate
    }
}

/// llama.cpp's token types (`llama_token_type`).
private enum TokenType: Int32 {
    case normal = 1, unknown, control, userDefined, unused, byte
}

/// `tokenizer.ggml.pre` → byte-level split. "smollm" is what llama.cpp's converter writes for SmolLM's
/// tokenizer, whose tokenizer.json splits digits first. (transformers 5.24 does not know the name and
/// falls back to plain GPT-2, which differs on e.g. "a  1"; see README.md.)
private let preTokenizerNames: [String: PreTokenizer] = ["gpt2": .gpt2, "smollm": .digitsThenGPT2]

extension Tokenizer {
    package init(gguf m: GGUFTokenizerMetadata) throws {
        let n = m.tokens.count
        guard n > 0 else { throw TokenizerError.emptyVocabulary }

        // Token types, checked; without them every token is normal (and "<0xNN>" a byte, for "llama").
        var types = [TokenType](repeating: .normal, count: n)
        if let raw = m.tokenTypes {
            guard raw.count == n else { throw TokenizerError.countMismatch(array: "token_type", expected: n, found: raw.count) }
            for (id, t) in raw.enumerated() {
                guard let type = TokenType(rawValue: t) else { throw TokenizerError.unknownTokenType(id: id, type: t) }
                types[id] = type
            }
        }

        let kind: Kind
        switch m.model {
        case "gpt2": kind = .byteLevelBPE
        case "llama": kind = .sentencePieceBPE
        default: throw TokenizerError.unsupportedModel(m.model)
        }
        var d = TokenizerDefinition(kind: kind, spellings: m.tokens, merges: .ranked([]), addedTokens: [])

        // Unknown, control and user-defined tokens are found whole in text (llama.cpp's special-token
        // cache; transformers adds them as special / added tokens). Unknown and control ones are special.
        for (id, type) in types.enumerated() where type == .unknown || type == .control || type == .userDefined {
            d.addedTokens.append((m.tokens[id], Int32(id), type != .userDefined))
        }

        switch kind {
        case .byteLevelBPE:
            guard let lines = m.merges else { throw TokenizerError.missingArray("tokenizer.ggml.merges") }
            var pairs: [(left: String, right: String)] = []
            pairs.reserveCapacity(lines.count)
            for (index, line) in lines.enumerated() {
                let sides = line.split(separator: " ", omittingEmptySubsequences: false)
                guard sides.count == 2 else { throw TokenizerError.malformedMerge(index: index, found: line) }
                pairs.append((String(sides[0]), String(sides[1])))
            }
            d.merges = .ranked(pairs)
            guard let split = preTokenizerNames[m.preTokenizer ?? "gpt2"] else {
                throw TokenizerError.unsupportedPreTokenizer(m.preTokenizer ?? "")
            }
            d.preTokenizer = split
            if m.addSpacePrefix == true { throw TokenizerError.unsupportedModelOption(name: "add_space_prefix", value: "true") }

        case .sentencePieceBPE:
            guard let scores = m.scores else { throw TokenizerError.missingArray("tokenizer.ggml.scores") }
            guard scores.count == n else { throw TokenizerError.countMismatch(array: "scores", expected: n, found: scores.count) }
            for (id, spelling) in m.tokens.enumerated() where m.tokenTypes == nil || types[id] == .byte {
                if let b = byteTokenValue(spelling) {
                    d.byteTokens[b] = Int32(id)
                    types[id] = .byte
                }
            }
            d.merges = .scored(scores: scores, mergeable: types.map { $0 == .normal || $0 == .userDefined })
            d.dummyPrefix = m.addSpacePrefix ?? true
            d.stripsLeadingSpace = d.dummyPrefix
            // sentencepiece: a character with neither a piece nor byte tokens is the unknown piece.
            d.symbolUnknownID = m.unknownTokenID ?? types.firstIndex(of: .unknown)
            d.fusesUnknown = true
        }
        // "gpt2": a byte without a token is dropped, as transformers' GGUF tokenizer (BPE with no
        // unk_token) does; SmolLM2 has no token for 21 bytes that never or rarely occur in UTF-8 text.

        d.bosID = m.bosTokenID
        d.eosID = m.eosTokenID
        d.unknownID = m.unknownTokenID ?? types.firstIndex(of: .unknown)
        d.paddingID = m.paddingTokenID
        d.addBOS = m.addBOSToken ?? (kind == .sentencePieceBPE)
        d.addEOS = m.addEOSToken ?? false
        d.chatTemplate = m.chatTemplate
        try self.init(d)
    }
}

/// NN for a spelling "<0xNN>" (upper-case hex, as sentencepiece writes it), else nil.
private func byteTokenValue(_ spelling: String) -> UInt8? {
    let u = Array(spelling.utf8)
    guard u.count == 6, u[0] == UInt8(ascii: "<"), u[1] == UInt8(ascii: "0"), u[2] == UInt8(ascii: "x"),
          u[5] == UInt8(ascii: ">") else { return nil }
    func hex(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }
    guard let hi = hex(u[3]), let lo = hex(u[4]) else { return nil }
    return hi << 4 | lo
}
