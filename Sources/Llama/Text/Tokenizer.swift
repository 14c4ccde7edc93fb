// Text ⇄ token ids for Llama-family models: byte-level BPE (GPT-2 family, SmolLM2) and SentencePiece-style
// BPE (Llama, TinyLlama), matched to Hugging Face tokenizers and sentencepiece. See README.md.
//
// text ─► special tokens found whole ─► each stretch between them:
//           byte-level:    pre-tokenize into words ─► UTF-8 bytes ─► BPE per word (cached)
//           SentencePiece: "▁" + text with " " → "▁" ─► characters (unknown → <0xNN> bytes) ─► BPE
//      ─► [BOS] ids [EOS] as the model asks

/// A BPE tokenizer built from a Hugging Face `tokenizer.json` or from GGUF metadata.
public struct Tokenizer: Sendable {
    public enum Kind: String, Sendable {
        /// GPT-2 family: text is UTF-8 bytes, each spelled as one character of GPT-2's byte alphabet.
        case byteLevelBPE
        /// Llama/TinyLlama: text is characters, spaces are "▁", unknown characters fall back to <0xNN>.
        case sentencePieceBPE
    }

    public let kind: Kind
    public let bosTokenID: Int?
    public let eosTokenID: Int?
    public let unknownTokenID: Int?
    public let paddingTokenID: Int?
    /// Whether `encode(_:addingSpecialTokens: true)` puts BOS first / EOS last (`add_bos_token`).
    public let addsBOSToken: Bool
    public let addsEOSToken: Bool
    /// The model's Jinja chat template as its file gives it; `chatTemplate()` recognises it.
    public let chatTemplateSource: String?

    // Vocabulary. Spellings are looked up by their UTF-8 bytes, never as `String` keys: Swift compares
    // strings by canonical equivalence, which would make "é" (U+00E9) and "e\u{301}" one key.
    let spellings: [String]                 // id → the token as the file spells it
    let decodedBytes: [[UInt8]]             // id → the bytes it stands for in text
    let idOfSpelling: [[UInt8]: Int32]      // UTF-8 of a spelling → id (the last one, if spelled twice)
    let specialIDs: Set<Int32>              // left out by decode(_:skippingSpecialTokens: true)
    let matcher: SpecialTokenMatcher
    let merges: MergeTable

    // Byte-level BPE.
    private(set) var preTokenizer: PreTokenizer
    let idOfByte: [Int32]                   // byte → id of its one-character token, −1 if none

    // SentencePiece-style BPE.
    let dummyPrefix: Bool                   // "▁" before each stretch of text
    let idOfScalar: [UInt32: Int32]         // one-character pieces
    let idOfByteToken: [Int32]              // byte → id of <0xNN>, −1 if none (empty: no byte fallback)
    let stripsLeadingSpace: Bool            // decoding drops the dummy prefix's space

    // Starting symbols missing from the vocabulary become this token, or are dropped if nil
    // (Hugging Face BPE's `unk_token`; SmolLM2 has none, and lacks tokens for 21 bytes).
    let symbolUnknownID: Int32?
    let fusesUnknown: Bool                  // consecutive unknown symbols give one

    public var vocabularySize: Int { spellings.count }

    // MARK: - Encoding

    /// The token ids of `text`. Special tokens written in the text ("<|im_start|>") are matched whole.
    /// With `addingSpecialTokens` BOS/EOS are added as the model asks (`addsBOSToken`, `addsEOSToken`);
    /// without, the ids are those of Hugging Face's `tokenizer(text, add_special_tokens=False)`.
    public func encode(_ text: String, addingSpecialTokens: Bool = true) -> [Int] {
        let scalars = Array(text.unicodeScalars)
        let classes = kind == .byteLevelBPE ? scalars.map(ScalarClass.of) : []
        var ids: [Int32] = []
        if addingSpecialTokens, addsBOSToken, let bos = bosTokenID { ids.append(Int32(bos)) }
        var cache: [[UInt8]: [Int32]] = [:]
        for piece in matcher.split(scalars) {
            switch piece {
            case .token(let id):
                ids.append(id)
            case .text(let range):
                switch kind {
                case .byteLevelBPE: encodeByteLevel(scalars, classes, range, into: &ids, cache: &cache)
                case .sentencePieceBPE: encodeSentencePiece(scalars[range], into: &ids)
                }
            }
        }
        if addingSpecialTokens, addsEOSToken, let eos = eosTokenID { ids.append(Int32(eos)) }
        return ids.map(Int.init)
    }

    /// Byte-level: words from the pre-tokenizer, each as UTF-8 bytes, each byte its one-character token,
    /// then BPE within the word. Texts repeat words, so results are cached per call (bounded).
    private func encodeByteLevel(_ scalars: [Unicode.Scalar], _ classes: [ScalarClass], _ range: Range<Int>,
                                 into ids: inout [Int32], cache: inout [[UInt8]: [Int32]]) {
        var words: [Range<Int>] = []
        preTokenizer.split(scalars, classes, range, into: &words)
        var bytes: [UInt8] = []
        var symbols = StartingSymbols(unknownID: symbolUnknownID, fusesUnknown: fusesUnknown)
        for word in words {
            bytes.removeAll(keepingCapacity: true)
            for s in scalars[word] { UTF8.encode(s) { bytes.append($0) } }
            if let hit = cache[bytes] {
                ids.append(contentsOf: hit)
                continue
            }
            symbols.removeAll()
            for b in bytes { symbols.append(idOfByte[Int(b)]) }
            let merged = applyMerges(symbols.ids, merges)
            if cache.count >= 1 << 16 { cache.removeAll(keepingCapacity: true) }
            cache[bytes] = merged
            ids.append(contentsOf: merged)
        }
    }

    /// SentencePiece-style: the whole stretch is one word (no pre-tokenizer). Its characters, with
    /// "▁" for each space and one more in front, are the starting symbols; a character that is not in the
    /// vocabulary becomes the <0xNN> tokens of its UTF-8 bytes if all exist, else unknown. Then BPE.
    private func encodeSentencePiece(_ text: ArraySlice<Unicode.Scalar>, into ids: inout [Int32]) {
        guard !text.isEmpty else { return }   // Hugging Face's Prepend skips empty text
        var symbols = StartingSymbols(unknownID: symbolUnknownID, fusesUnknown: fusesUnknown)
        func append(_ s: Unicode.Scalar) {
            if let id = idOfScalar[s.value] { return symbols.append(id) }
            var fallback: [Int32] = []
            UTF8.encode(s) { fallback.append(idOfByteToken.isEmpty ? -1 : idOfByteToken[Int($0)]) }
            if fallback.allSatisfy({ $0 >= 0 }) { fallback.forEach { symbols.append($0) } } else { symbols.append(-1) }
        }
        if dummyPrefix { append(metaspace) }
        for s in text { append(s == " " ? metaspace : s) }
        ids.append(contentsOf: applyMerges(symbols.ids, merges))
    }

    // MARK: - Decoding

    /// The text of `ids`. Bytes are gathered across tokens first, so a character whose UTF-8 is split
    /// over several tokens comes out whole; bytes that are not valid UTF-8 become U+FFFD (one per maximal
    /// invalid subsequence). SentencePiece models drop the space of the dummy prefix.
    public func decode(_ ids: [Int], skippingSpecialTokens: Bool = false) throws -> String {
        var bytes: [UInt8] = []
        for id in ids { try appendBytes(of: id, skippingSpecialTokens: skippingSpecialTokens, to: &bytes) }
        var text = String(decoding: bytes, as: UTF8.self)
        if stripsLeadingSpace && text.unicodeScalars.first == " " { text.unicodeScalars.removeFirst() }
        return text
    }

    /// Appends the bytes token `id` stands for.
    func appendBytes(of id: Int, skippingSpecialTokens: Bool, to bytes: inout [UInt8]) throws {
        guard id >= 0 && id < spellings.count else {
            throw TokenizerError.tokenIDOutOfRange(id: id, vocabularySize: spellings.count)
        }
        if skippingSpecialTokens && specialIDs.contains(Int32(id)) { return }
        bytes.append(contentsOf: decodedBytes[id])
    }

    /// A decoder for generation: feed ids one at a time, get text as soon as it is complete UTF-8.
    public func makeStreamingDecoder(skippingSpecialTokens: Bool = false) -> StreamingDecoder {
        StreamingDecoder(self, skippingSpecialTokens: skippingSpecialTokens)
    }

    // MARK: - Vocabulary

    /// The token as the vocabulary spells it ("Ġthe", "▁the", "<0x0A>"), or nil outside the vocabulary.
    public func spelling(ofToken id: Int) -> String? {
        id >= 0 && id < spellings.count ? spellings[id] : nil
    }

    /// The id of the token spelled exactly so (compared byte for byte), or nil.
    public func tokenID(spelledAs spelling: String) -> Int? {
        idOfSpelling[Array(spelling.utf8)].map(Int.init)
    }

    /// The words the byte-level pre-tokenizer cuts `text` into (special tokens not matched), spelled in
    /// GPT-2's byte alphabet as Hugging Face's `pre_tokenize_str` shows them.
    package func preTokenizedWords(_ text: String) -> [String] {
        let scalars = Array(text.unicodeScalars)
        var words: [Range<Int>] = []
        preTokenizer.split(scalars, scalars.map(ScalarClass.of), 0..<scalars.count, into: &words)
        return words.map { word in
            var spelled = String.UnicodeScalarView()
            for s in scalars[word] { UTF8.encode(s) { spelled.append(ByteAlphabet.scalarOfByte[Int($0)]) } }
            return String(spelled)
        }
    }

    /// The same tokenizer with another byte-level pre-tokenizer: tests compare both SmolLM2 splits.
    package func replacingPreTokenizer(_ preTokenizer: PreTokenizer) -> Tokenizer {
        var copy = self
        copy.preTokenizer = preTokenizer
        return copy
    }
}

/// The symbols a word starts BPE with. A symbol missing from the vocabulary (−1) becomes the unknown
/// token — once for a run of them if `fusesUnknown` — or is dropped when there is none, so that its
/// neighbours meet (Hugging Face models/bpe/model.rs, merge_word).
private struct StartingSymbols {
    let unknownID: Int32?
    let fusesUnknown: Bool
    private(set) var ids: [Int32] = []
    private var lastWasUnknown = false

    init(unknownID: Int32?, fusesUnknown: Bool) {
        self.unknownID = unknownID
        self.fusesUnknown = fusesUnknown
    }

    mutating func removeAll() {
        ids.removeAll(keepingCapacity: true)
        lastWasUnknown = false
    }

    mutating func append(_ id: Int32) {
        if id >= 0 {
            ids.append(id)
            lastWasUnknown = false
        } else if let unknownID {
            if !(fusesUnknown && lastWasUnknown) { ids.append(unknownID) }
            lastWasUnknown = true
        }
    }
}

/// "▁" (U+2581), SentencePiece's visible space.
let metaspace: Unicode.Scalar = "\u{2581}"

/// "<0x0A>": the spelling of a byte-fallback token.
func byteTokenSpelling(_ byte: UInt8) -> String {
    let hex = Array("0123456789ABCDEF")
    return "<0x\(hex[Int(byte >> 4)])\(hex[Int(byte & 15)])>"
}

// MARK: - Building

/// What both loaders (tokenizer.json, GGUF metadata) reduce a file to; `Tokenizer.init(_:)` checks it
/// and builds the lookup tables.
struct TokenizerDefinition {
    enum Merges {
        /// "left right" pairs, best first (GPT-2, Hugging Face BPE).
        case ranked([(left: String, right: String)])
        /// One score per token, higher merges first; only tokens marked `mergeable` can be made by a merge
        /// (sentencepiece leaves control, unknown, byte and unused pieces out).
        case scored(scores: [Float], mergeable: [Bool])
    }

    var kind: Tokenizer.Kind
    var spellings: [String]
    var merges: Merges
    /// Tokens matched whole in the text before BPE; `special` ones are left out when decoding skips them.
    var addedTokens: [(content: String, id: Int32, special: Bool)]
    var preTokenizer: PreTokenizer = .gpt2
    /// SentencePiece: "▁" before each stretch, and decoding drops one leading space.
    var dummyPrefix = false
    var stripsLeadingSpace = false
    /// SentencePiece: ids of the byte tokens <0x00>…<0xFF> where present (byte fallback).
    var byteTokens: [UInt8: Int32] = [:]
    /// The token for a starting symbol that is not in the vocabulary; nil drops such symbols.
    var symbolUnknownID: Int? = nil
    var fusesUnknown = false
    var bosID: Int? = nil
    var eosID: Int? = nil
    var unknownID: Int? = nil
    var paddingID: Int? = nil
    var addBOS = false
    var addEOS = false
    var chatTemplate: String? = nil
}

extension Tokenizer {
    init(_ d: TokenizerDefinition) throws {
        let n = d.spellings.count
        guard n > 0 else { throw TokenizerError.emptyVocabulary }
        for (name, id) in [("bos", d.bosID), ("eos", d.eosID), ("unknown", d.unknownID), ("padding", d.paddingID)] {
            if let id, !(0..<n).contains(id) {
                throw TokenizerError.specialTokenIDOutOfRange(name: name, id: id, vocabularySize: n)
            }
        }

        var idOfSpelling: [[UInt8]: Int32] = [:]
        idOfSpelling.reserveCapacity(n)
        for (id, s) in d.spellings.enumerated() { idOfSpelling[Array(s.utf8)] = Int32(id) }

        // What each token stands for in text.
        var decodedBytes: [[UInt8]]
        switch d.kind {
        case .byteLevelBPE:
            decodedBytes = d.spellings.map { ByteAlphabet.bytes(ofSpelling: $0) ?? Array($0.utf8) }
        case .sentencePieceBPE:
            // Hugging Face's decoder Replace("▁", " ") + ByteFallback; sentencepiece's DecodeIds.
            decodedBytes = d.spellings.map { spelling in
                var bytes: [UInt8] = []
                for s in spelling.unicodeScalars { UTF8.encode(s == metaspace ? " " : s) { bytes.append($0) } }
                return bytes
            }
            for (byte, id) in d.byteTokens { decodedBytes[Int(id)] = [byte] }
        }

        // Merges, as pairs of ids.
        var table = MergeTable()
        switch d.merges {
        case .ranked(let pairs):
            for (rank, pair) in pairs.enumerated() {
                let merge = "\(pair.left) \(pair.right)"
                guard let l = idOfSpelling[Array(pair.left.utf8)] else {
                    throw TokenizerError.mergeNotInVocabulary(index: rank, merge: merge, missing: pair.left)
                }
                guard let r = idOfSpelling[Array(pair.right.utf8)] else {
                    throw TokenizerError.mergeNotInVocabulary(index: rank, merge: merge, missing: pair.right)
                }
                guard let result = idOfSpelling[Array((pair.left + pair.right).utf8)] else {
                    throw TokenizerError.mergeNotInVocabulary(index: rank, merge: merge, missing: pair.left + pair.right)
                }
                table.add(left: l, right: r, priority: Float(rank), result: result)
            }
        case let .scored(scores, mergeable):
            // sentencepiece merges the adjacent pair whose concatenation is the best-scoring piece. Every
            // way to cut a mergeable piece into two vocabulary pieces is such a pair.
            for (id, spelling) in d.spellings.enumerated() where mergeable[id] {
                let bytes = Array(spelling.utf8)
                guard idOfSpelling[bytes] == Int32(id) else { continue }   // spelled twice: the last one wins
                let scalars = Array(spelling.unicodeScalars)
                var cut = 0
                for k in 1..<max(scalars.count, 1) {
                    cut += UTF8.width(scalars[k - 1])
                    if let l = idOfSpelling[Array(bytes[..<cut])], let r = idOfSpelling[Array(bytes[cut...])] {
                        table.add(left: l, right: r, priority: -scores[id], result: Int32(id))
                    }
                }
            }
        }

        // Starting symbols.
        var idOfByte: [Int32] = []
        var idOfScalar: [UInt32: Int32] = [:]
        var idOfByteToken: [Int32] = []
        switch d.kind {
        case .byteLevelBPE:
            idOfByte = ByteAlphabet.scalarOfByte.map { idOfSpelling[Array(String(Character($0)).utf8)] ?? -1 }
        case .sentencePieceBPE:
            for (id, s) in d.spellings.enumerated() {
                var it = s.unicodeScalars.makeIterator()
                if let first = it.next(), it.next() == nil, idOfSpelling[Array(s.utf8)] == Int32(id) {
                    idOfScalar[first.value] = Int32(id)
                }
            }
            if !d.byteTokens.isEmpty { idOfByteToken = (0...255).map { d.byteTokens[UInt8($0)] ?? -1 } }
        }
        if let id = d.symbolUnknownID, !(0..<n).contains(id) {
            throw TokenizerError.specialTokenIDOutOfRange(name: "model unknown", id: id, vocabularySize: n)
        }

        self.kind = d.kind
        self.bosTokenID = d.bosID
        self.eosTokenID = d.eosID
        self.unknownTokenID = d.unknownID
        self.paddingTokenID = d.paddingID
        self.addsBOSToken = d.addBOS && d.bosID != nil
        self.addsEOSToken = d.addEOS && d.eosID != nil
        self.chatTemplateSource = d.chatTemplate
        self.spellings = d.spellings
        self.decodedBytes = decodedBytes
        self.idOfSpelling = idOfSpelling
        self.specialIDs = Set(d.addedTokens.filter(\.special).map(\.id))
        self.matcher = SpecialTokenMatcher(d.addedTokens.map { ($0.content, $0.id) })
        self.merges = table
        self.preTokenizer = d.preTokenizer
        self.idOfByte = idOfByte
        self.dummyPrefix = d.dummyPrefix
        self.idOfScalar = idOfScalar
        self.idOfByteToken = idOfByteToken
        self.symbolUnknownID = d.symbolUnknownID.map(Int32.init)
        self.fusesUnknown = d.fusesUnknown
        self.stripsLeadingSpace = d.stripsLeadingSpace
    }
}
