// One handcrafted test per TokenizerError case: small tokenizer files and GGUF arrays, each wrong in one way.
import Foundation
import Testing
import Llama

@Suite struct TokenizerErrorTests {
    // MARK: - Small valid inputs to break

    /// A byte-level tokenizer.json: the 256 byte tokens, then "Ġt" from the merge "Ġ t".
    static func byteLevelJSON(_ edit: (inout [String: Any]) -> Void = { _ in }) -> Data {
        var vocab: [String: Int] = [:]
        for b in 0...255 { vocab[String(Character(gpt2Scalar(UInt8(b))))] = b }
        vocab["Ġt"] = 256
        var file: [String: Any] = [
            "added_tokens": [] as [Any], "normalizer": NSNull(), "post_processor": NSNull(),
            "pre_tokenizer": ["type": "ByteLevel", "add_prefix_space": false, "use_regex": true],
            "decoder": ["type": "ByteLevel"],
            "model": ["type": "BPE", "vocab": vocab, "merges": ["Ġ t"]] as [String: Any],
        ]
        edit(&file)
        return try! JSONSerialization.data(withJSONObject: file)
    }

    static func editModel(_ file: inout [String: Any], _ edit: (inout [String: Any]) -> Void) {
        var model = file["model"] as! [String: Any]
        edit(&model)
        file["model"] = model
    }

    /// A Llama-style tokenizer.json with three pieces.
    static func llamaJSON(_ edit: (inout [String: Any]) -> Void = { _ in }) -> Data {
        var file: [String: Any] = [
            "added_tokens": [["id": 0, "content": "<unk>", "special": true]],
            "normalizer": ["type": "Sequence", "normalizers": [
                ["type": "Prepend", "prepend": "▁"], ["type": "Replace", "pattern": ["String": " "], "content": "▁"]]],
            "pre_tokenizer": NSNull(), "post_processor": NSNull(),
            "decoder": ["type": "Sequence", "decoders": [
                ["type": "Replace", "pattern": ["String": "▁"], "content": " "], ["type": "Fuse"],
                ["type": "Strip", "content": " ", "start": 1, "stop": 0]]],
            "model": ["type": "BPE", "vocab": ["<unk>": 0, "▁": 1, "a": 2, "▁a": 3], "merges": ["▁ a"],
                      "unk_token": "<unk>"] as [String: Any],
        ]
        edit(&file)
        return try! JSONSerialization.data(withJSONObject: file)
    }

    static func gpt2Arrays() -> GGUFTokenizerMetadata {
        let tokens = (0...255).map { String(Character(gpt2Scalar(UInt8($0)))) } + ["Ġt"]
        return GGUFTokenizerMetadata(model: "gpt2", preTokenizer: "gpt2", tokens: tokens,
                                     tokenTypes: [Int32](repeating: 1, count: tokens.count), merges: ["Ġ t"])
    }

    static func llamaArrays() -> GGUFTokenizerMetadata {
        GGUFTokenizerMetadata(model: "llama", tokens: ["<unk>", "<s>", "</s>", "▁", "a", "▁a"],
                              tokenTypes: [2, 3, 3, 1, 1, 1], scores: [0, 0, 0, -1, -2, -0.5],
                              bosTokenID: 1, eosTokenID: 2, unknownTokenID: 0)
    }

    static func expectError(_ expected: TokenizerError, _ build: () throws -> Tokenizer,
                            sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(throws: expected, sourceLocation: sourceLocation) { _ = try build() }
    }

    @Test func smallInputsAreValid() throws {
        let a = try Tokenizer(tokenizerJSON: Self.byteLevelJSON())
        #expect(a.encode("tt t", addingSpecialTokens: false) == [116, 116, 256])   // ids are byte values here
        let b = try Tokenizer(tokenizerJSON: Self.llamaJSON())
        #expect(b.encode("a a", addingSpecialTokens: false) == [3, 3])
        #expect(try Tokenizer(gguf: Self.gpt2Arrays()).encode(" t") == [256])
        let c = try Tokenizer(gguf: Self.llamaArrays())
        #expect(c.encode("a a") == [1, 5, 5])
        #expect(try c.decode([1, 5, 5, 2], skippingSpecialTokens: true) == "a a")
    }

    // MARK: - Files

    @Test func missingFile() {
        #expect(throws: TokenizerError.missingFile(path: "/nonexistent-surgery-folder/tokenizer.json")) {
            _ = try Tokenizer(huggingFaceDirectory: "/nonexistent-surgery-folder")
        }
    }

    /// A tokenizer.json that exists but is a folder: the system's reason, in words.
    @Test func unreadableFile() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tokenizer-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder + "/tokenizer.json", withIntermediateDirectories: true)
        #expect(throws: TokenizerError.unreadableFile(path: folder + "/tokenizer.json", reason: "is a directory")) {
            _ = try Tokenizer(huggingFaceDirectory: folder)
        }
    }

    @Test func invalidJSON() {
        #expect {
            _ = try Tokenizer(tokenizerJSON: Data("{\"model\": ".utf8))
        } throws: { error in
            guard case .invalidJSON(let file, _) = error as? TokenizerError else { return false }
            return file == "tokenizer.json"
        }
        #expect {
            _ = try Tokenizer(tokenizerJSON: Self.byteLevelJSON(), tokenizerConfigJSON: Data("[".utf8))
        } throws: { error in
            guard case .invalidJSON(let file, _) = error as? TokenizerError else { return false }
            return file == "tokenizer_config.json"
        }
    }

    // MARK: - What is not supported

    @Test func unsupportedModel() {
        Self.expectError(.unsupportedModel("WordPiece")) {
            try Tokenizer(tokenizerJSON: Self.byteLevelJSON { Self.editModel(&$0) { $0["type"] = "WordPiece" } })
        }
        var m = Self.gpt2Arrays()
        m.model = "bert"
        Self.expectError(.unsupportedModel("bert")) { try Tokenizer(gguf: m) }
    }

    @Test func unsupportedModelOption() {
        Self.expectError(.unsupportedModelOption(name: "dropout", value: "0.1")) {
            try Tokenizer(tokenizerJSON: Self.byteLevelJSON { Self.editModel(&$0) { $0["dropout"] = 0.1 } })
        }
        Self.expectError(.unsupportedModelOption(name: "ignore_merges", value: "true")) {
            try Tokenizer(tokenizerJSON: Self.byteLevelJSON { Self.editModel(&$0) { $0["ignore_merges"] = true } })
        }
        Self.expectError(.unsupportedModelOption(name: "continuing_subword_prefix", value: "##")) {
            try Tokenizer(tokenizerJSON: Self.byteLevelJSON { Self.editModel(&$0) { $0["continuing_subword_prefix"] = "##" } })
        }
        Self.expectError(.unsupportedModelOption(name: "byte_fallback", value: "true")) {
            try Tokenizer(tokenizerJSON: Self.byteLevelJSON { Self.editModel(&$0) { $0["byte_fallback"] = true } })
        }
        var m = Self.gpt2Arrays()
        m.addSpacePrefix = true
        Self.expectError(.unsupportedModelOption(name: "add_space_prefix", value: "true")) { try Tokenizer(gguf: m) }
    }

    @Test func unsupportedNormalizer() {
        #expect {
            _ = try Tokenizer(tokenizerJSON: Self.byteLevelJSON { $0["normalizer"] = ["type": "NFC"] })
        } throws: { error in
            guard case .unsupportedNormalizer(let found) = error as? TokenizerError else { return false }
            return found.contains("NFC")
        }
    }

    @Test func unsupportedPreTokenizer() {
        #expect {
            _ = try Tokenizer(tokenizerJSON: Self.byteLevelJSON { $0["pre_tokenizer"] = ["type": "Whitespace"] })
        } throws: { error in
            guard case .unsupportedPreTokenizer(let found) = error as? TokenizerError else { return false }
            return found.contains("Whitespace")
        }
        #expect {
            _ = try Tokenizer(tokenizerJSON: Self.byteLevelJSON { $0["pre_tokenizer"] = NSNull() })
        } throws: { error in
            guard case .unsupportedPreTokenizer = error as? TokenizerError else { return false }
            return true
        }
        var m = Self.gpt2Arrays()
        m.preTokenizer = "llama-bpe"
        Self.expectError(.unsupportedPreTokenizer("llama-bpe")) { try Tokenizer(gguf: m) }
    }

    @Test func unsupportedDecoder() {
        #expect {
            _ = try Tokenizer(tokenizerJSON: Self.byteLevelJSON { $0["decoder"] = ["type": "WordPiece"] })
        } throws: { error in
            guard case .unsupportedDecoder(let found) = error as? TokenizerError else { return false }
            return found.contains("WordPiece")
        }
        #expect {
            _ = try Tokenizer(tokenizerJSON: Self.llamaJSON { $0["decoder"] = ["type": "Metaspace"] })
        } throws: { error in
            guard case .unsupportedDecoder(let found) = error as? TokenizerError else { return false }
            return found.contains("Metaspace")
        }
    }

    @Test func unsupportedPostProcessor() {
        #expect {
            _ = try Tokenizer(tokenizerJSON: Self.byteLevelJSON { $0["post_processor"] = ["type": "BertProcessing"] })
        } throws: { error in
            guard case .unsupportedPostProcessor(let found) = error as? TokenizerError else { return false }
            return found.contains("BertProcessing")
        }
    }

    @Test func unsupportedAddedTokenOption() {
        Self.expectError(.unsupportedAddedTokenOption(token: "<x>", option: "lstrip")) {
            try Tokenizer(tokenizerJSON: Self.byteLevelJSON {
                $0["added_tokens"] = [["id": 257, "content": "<x>", "lstrip": true, "special": true]]
            })
        }
    }

    // MARK: - Vocabulary

    @Test func emptyVocabulary() {
        var m = Self.gpt2Arrays()
        m.tokens = []
        m.tokenTypes = []
        Self.expectError(.emptyVocabulary) { try Tokenizer(gguf: m) }
    }

    @Test func duplicateTokenID() {
        #expect {
            _ = try Tokenizer(tokenizerJSON: Self.byteLevelJSON {
                $0["added_tokens"] = [["id": 256, "content": "<x>", "special": true]]
            })
        } throws: { error in
            guard case .duplicateTokenID(256, "Ġt", "<x>") = error as? TokenizerError else { return false }
            return true
        }
    }

    @Test func missingTokenID() {
        Self.expectError(.missingTokenID(id: 256, vocabularySize: 258)) {
            try Tokenizer(tokenizerJSON: Self.byteLevelJSON {
                Self.editModel(&$0) { m in
                    var vocab = m["vocab"] as! [String: Int]
                    vocab["Ġt"] = 257
                    m["vocab"] = vocab
                }
            })
        }
    }

    @Test func countMismatch() {
        var m = Self.gpt2Arrays()
        m.tokenTypes = [1, 1]
        Self.expectError(.countMismatch(array: "token_type", expected: 257, found: 2)) { try Tokenizer(gguf: m) }
        var l = Self.llamaArrays()
        l.scores = [0]
        Self.expectError(.countMismatch(array: "scores", expected: 6, found: 1)) { try Tokenizer(gguf: l) }
    }

    @Test func missingArray() {
        var m = Self.gpt2Arrays()
        m.merges = nil
        Self.expectError(.missingArray("tokenizer.ggml.merges")) { try Tokenizer(gguf: m) }
        var l = Self.llamaArrays()
        l.scores = nil
        Self.expectError(.missingArray("tokenizer.ggml.scores")) { try Tokenizer(gguf: l) }
    }

    @Test func unknownTokenType() {
        var l = Self.llamaArrays()
        l.tokenTypes = [2, 3, 3, 1, 9, 1]
        Self.expectError(.unknownTokenType(id: 4, type: 9)) { try Tokenizer(gguf: l) }
    }

    @Test func malformedMerge() {
        var m = Self.gpt2Arrays()
        m.merges = ["Ġ t", "a b c"]
        Self.expectError(.malformedMerge(index: 1, found: "a b c")) { try Tokenizer(gguf: m) }
        Self.expectError(.malformedMerge(index: 0, found: "Ġ")) {
            try Tokenizer(tokenizerJSON: Self.byteLevelJSON { Self.editModel(&$0) { $0["merges"] = [["Ġ"]] } })
        }
    }

    @Test func mergeNotInVocabulary() {
        var m = Self.gpt2Arrays()
        m.merges = ["Ġ t", "t Ġt"]
        Self.expectError(.mergeNotInVocabulary(index: 1, merge: "t Ġt", missing: "tĠt")) { try Tokenizer(gguf: m) }
        m.merges = ["Ġ ★"]
        Self.expectError(.mergeNotInVocabulary(index: 0, merge: "Ġ ★", missing: "★")) { try Tokenizer(gguf: m) }
    }

    @Test func specialTokenIDOutOfRange() {
        var m = Self.gpt2Arrays()
        m.bosTokenID = 9999
        Self.expectError(.specialTokenIDOutOfRange(name: "bos", id: 9999, vocabularySize: 257)) { try Tokenizer(gguf: m) }
    }

    @Test func unknownSpecialToken() {
        let config = Data(#"{"bos_token": {"content": "<nope>"}}"#.utf8)
        Self.expectError(.unknownSpecialToken(name: "bos_token", spelling: "<nope>")) {
            try Tokenizer(tokenizerJSON: Self.byteLevelJSON(), tokenizerConfigJSON: config)
        }
    }

    // MARK: - Decoding

    @Test func tokenIDOutOfRange() throws {
        let tokenizer = try Tokenizer(gguf: Self.llamaArrays())
        #expect(throws: TokenizerError.tokenIDOutOfRange(id: 6, vocabularySize: 6)) { try tokenizer.decode([5, 6]) }
        #expect(throws: TokenizerError.tokenIDOutOfRange(id: -1, vocabularySize: 6)) { try tokenizer.decode([-1]) }
        var decoder = tokenizer.makeStreamingDecoder()
        #expect(throws: TokenizerError.tokenIDOutOfRange(id: 7, vocabularySize: 6)) { try decoder.append(7) }
    }
}
