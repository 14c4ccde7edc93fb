// Tokenizer files written from GGUF metadata, read back by Tokenizer(huggingFaceDirectory:), against
// the recorded references of Tests/Fixtures/tokenizer (Tools/reference/tokenizer.py): SmolLM2's ids from
// `tokenizers` with SmolLM2's own pre-tokenizer, a small byte-level BPE's ids from `tokenizers`, and a
// sentencepiece BPE's ids from sentencepiece. Token ids are integers: every comparison is exact.
import Foundation
import Testing
import Llama
import TestSupport

/// Writes `files` into a new temporary folder and returns its path.
func temporaryFolder(with files: [ExportFile]) throws -> String {
    let folder = FileManager.default.temporaryDirectory
        .appendingPathComponent("export-test-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)
    for file in files { try Data(file.contents).write(to: URL(fileURLWithPath: folder + "/" + file.name)) }
    return folder
}

@Suite struct TokenizerExportTests {
    /// SmolLM2's GGUF tokenizer, exported and read back as a Hugging Face folder.
    static func smolLM2Exported() throws -> (tokenizer: Tokenizer, folder: String) {
        let files = try tokenizerFiles(of: Checkpoint.open(Fixtures.modelPath))
        #expect(files.map(\.name) == ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"])
        let folder = try temporaryFolder(with: files)
        return (try Tokenizer(huggingFaceDirectory: folder), folder)
    }

    /// The ids `tokenizers` gives with SmolLM2's own pre-tokenizer (Digits, then ByteLevel), which the
    /// export writes for GGUF pre "smollm"; and the decodings transformers gives.
    @Test func smolLM2IDsEqualReference() throws {
        let (tokenizer, folder) = try Self.smolLM2Exported()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let reference = try TokenizerFixture.load(SmolLM2Reference.self, "smollm2.json")
        for (s, expected) in zip(try TokenizerFixture.strings(), reference.cases) {
            #expect(tokenizer.encode(s, addingSpecialTokens: false) == expected.ids_digits, "\(label(s))")
            #expect(tokenizer.encode(s) == expected.ids_digits, "adds nothing: \(label(s))")
            #expect(try tokenizer.decode(expected.ids) == expected.decoded, "\(label(s))")
            #expect(try tokenizer.decode(expected.ids, skippingSpecialTokens: true) == expected.decoded_skipping_special)
        }
    }

    @Test func smolLM2WholeWikiTextEqualsReference() throws {
        let (tokenizer, folder) = try Self.smolLM2Exported()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let reference = try TokenizerFixture.load(SmolLM2Reference.self, "smollm2.json").wikitext
        let ids = tokenizer.encode(try TokenizerFixture.wikiText(), addingSpecialTokens: false)
        #expect(ids.count == reference.count_digits)
        #expect(fnv1a64(ids) == reference.fnv1a64_digits)
    }

    /// The same ids as the GGUF tokenizer on the first 20,000 characters of WikiText-2.
    @Test func smolLM2EqualsGGUFTokenizerOnWikiText() throws {
        let (exported, folder) = try Self.smolLM2Exported()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let original = try smolLM2Tokenizer()
        let text = String(try TokenizerFixture.wikiText().prefix(20_000))
        #expect(exported.encode(text, addingSpecialTokens: false) == original.encode(text, addingSpecialTokens: false))
    }

    /// Special tokens, their flags, BOS/EOS/padding/unknown and the chat template survive the trip.
    @Test func smolLM2SpecialTokensAndTemplate() throws {
        let (exported, folder) = try Self.smolLM2Exported()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let original = try smolLM2Tokenizer()
        let reference = try TokenizerFixture.load(SmolLM2Reference.self, "smollm2.json")
        #expect(exported.kind == .byteLevelBPE && exported.vocabularySize == original.vocabularySize)
        #expect(exported.spelling(ofToken: try #require(exported.bosTokenID)) == "<|im_start|>")
        #expect(exported.bosTokenID == original.bosTokenID && exported.eosTokenID == original.eosTokenID)
        #expect(exported.paddingTokenID == original.paddingTokenID && exported.unknownTokenID == original.unknownTokenID)
        #expect(exported.addsBOSToken == reference.adds_special_tokens_by_default && !exported.addsEOSToken)
        #expect(exported.chatTemplateSource == original.chatTemplateSource)
        // The 17 control tokens are special (skipped), the token after them is not.
        #expect(try exported.decode(Array(0..<17), skippingSpecialTokens: true) == "")
        #expect(try exported.decode(Array(0..<18), skippingSpecialTokens: true)
                == original.decode([17], skippingSpecialTokens: true))
        let chat = try TokenizerFixture.load(ChatReference.self, "chat.json")
        for conversation in chat.conversations {
            #expect(exported.encode(conversation.chatml, addingSpecialTokens: false) == conversation.chatml_ids)
        }
    }

    /// A byte-level BPE trained by `tokenizers` (Digits + ByteLevel), given as GGUF arrays.
    @Test func byteLevelFromArraysEqualsTokenizers() throws {
        let r = try TokenizerFixture.load(ByteBPEReference.self, "byte-bpe.json")
        let files = try huggingFaceTokenizerFiles(gguf: GGUFTokenizerMetadata(
            model: r.gguf.model, preTokenizer: r.gguf.pre, tokens: r.gguf.tokens, tokenTypes: r.gguf.token_types,
            merges: r.gguf.merges, bosTokenID: r.gguf.bos_token_id, eosTokenID: r.gguf.eos_token_id,
            unknownTokenID: r.gguf.unknown_token_id, addBOSToken: r.gguf.add_bos_token), source: "byte-bpe", modelMaxLength: 128)
        let folder = try temporaryFolder(with: files)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let tokenizer = try Tokenizer(huggingFaceDirectory: folder)
        #expect(tokenizer.addsBOSToken == r.gguf.add_bos_token)
        for (s, expected) in zip(try TokenizerFixture.strings(), r.cases) {
            #expect(tokenizer.encode(s, addingSpecialTokens: false) == expected.ids, "\(label(s))")
            #expect(try tokenizer.decode(expected.ids) == expected.decoded, "\(label(s))")
        }
        let ids = tokenizer.encode(try TokenizerFixture.wikiText(), addingSpecialTokens: false)
        #expect(ids.count == r.wikitext.count && fnv1a64(ids) == r.wikitext.fnv1a64)
    }

    /// BOS added by a GGUF tokenizer becomes a TemplateProcessing post-processor and add_bos_token.
    @Test func addedBOSIsWritten() throws {
        let r = try TokenizerFixture.load(ByteBPEReference.self, "byte-bpe.json")
        let files = try huggingFaceTokenizerFiles(gguf: GGUFTokenizerMetadata(
            model: "gpt2", preTokenizer: "gpt2", tokens: r.gguf.tokens, tokenTypes: r.gguf.token_types,
            merges: r.gguf.merges, bosTokenID: r.gguf.bos_token_id, eosTokenID: r.gguf.eos_token_id,
            addBOSToken: true, addEOSToken: true), source: "byte-bpe", modelMaxLength: 128)
        let folder = try temporaryFolder(with: files)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let tokenizer = try Tokenizer(huggingFaceDirectory: folder)
        let json = try Tokenizer(tokenizerJSON: Data(files[0].contents))     // the post-processor alone
        for t in [tokenizer, json] {
            #expect(t.addsBOSToken && t.addsEOSToken)
            #expect(t.encode("Hi") == [r.gguf.bos_token_id] + t.encode("Hi", addingSpecialTokens: false) + [r.gguf.eos_token_id])
        }
    }

    /// A sentencepiece BPE given as GGUF "llama" arrays (scores, not merges): the merges made from the
    /// scores give sentencepiece's own ids.
    @Test func sentencePieceFromScoresEqualsSentencePiece() throws {
        let r = try TokenizerFixture.load(SentencePieceScoreReference.self, "spm-score.json")
        let files = try huggingFaceTokenizerFiles(gguf: GGUFTokenizerMetadata(
            model: "llama", tokens: r.tokens, tokenTypes: r.token_types, scores: r.scores,
            bosTokenID: r.bos_token_id, eosTokenID: r.eos_token_id, unknownTokenID: r.unknown_token_id),
            source: "spm-score", modelMaxLength: 128)
        let folder = try temporaryFolder(with: files)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let tokenizer = try Tokenizer(huggingFaceDirectory: folder)
        #expect(tokenizer.kind == .sentencePieceBPE && tokenizer.addsBOSToken)
        var compared = 0
        for (s, expected) in zip(try TokenizerFixture.strings(), r.cases) {
            guard let ids = expected.ids, let decoded = expected.decoded else { continue }
            compared += 1
            #expect(tokenizer.encode(s, addingSpecialTokens: false) == ids, "\(label(s))")
            #expect(tokenizer.encode(s) == [r.bos_token_id] + ids, "\(label(s))")
            #expect(try tokenizer.decode(ids) == decoded, "\(label(s))")
        }
        #expect(compared >= 50)
        let ids = tokenizer.encode(try TokenizerFixture.wikiText(), addingSpecialTokens: false)
        #expect(ids.count == r.wikitext.count && fnv1a64(ids) == r.wikitext.fnv1a64)
    }

    // MARK: - Refusals

    @Test func duplicateSpellingIsRefused() throws {
        let m = GGUFTokenizerMetadata(model: "gpt2", tokens: ["a", "b", "a"], merges: [])
        #expect(throws: ExportError.duplicateTokenSpelling(spelling: "a", firstID: 0, secondID: 2)) {
            try huggingFaceTokenizerFiles(gguf: m, source: "x.gguf", modelMaxLength: 8)
        }
    }

    @Test func unknownPreTokenizerIsRefused() throws {
        let m = GGUFTokenizerMetadata(model: "gpt2", preTokenizer: "llama-bpe", tokens: ["a", "b"], merges: [])
        #expect {
            try huggingFaceTokenizerFiles(gguf: m, source: "x.gguf", modelMaxLength: 8)
        } throws: { error in
            guard case ExportError.unsupportedTokenizer(let path, _) = error else { return false }
            return path == "x.gguf"
        }
    }

    @Test func sentencePieceWithoutSpacePrefixIsRefused() throws {
        let m = GGUFTokenizerMetadata(model: "llama", tokens: ["<unk>", "a"], scores: [0, 0], addSpacePrefix: false)
        #expect {
            try huggingFaceTokenizerFiles(gguf: m, source: "x.gguf", modelMaxLength: 8)
        } throws: { error in
            guard case ExportError.unsupportedTokenizer(_, let reason) = error else { return false }
            return reason.contains("add_space_prefix")
        }
    }
}
