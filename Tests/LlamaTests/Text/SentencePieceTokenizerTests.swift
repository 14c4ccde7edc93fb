// SentencePiece-style BPE against the references: a Llama-style tokenizer.json trained with `tokenizers`
// (merges by rank), and a sentencepiece BPE model given as GGUF "llama" arrays (merges by score).
import Foundation
import Testing
import TestSupport
import Llama

@Suite struct SentencePieceTokenizerTests {
    static func llamaBPE() throws -> Tokenizer {
        try Tokenizer(huggingFaceDirectory: Fixtures.path("tokenizer/llama-bpe"))
    }

    static func sentencePieceFromArrays() throws -> Tokenizer {
        let r = try TokenizerFixture.load(SentencePieceScoreReference.self, "spm-score.json")
        return try Tokenizer(gguf: GGUFTokenizerMetadata(
            model: "llama", tokens: r.tokens, tokenTypes: r.token_types, scores: r.scores,
            bosTokenID: r.bos_token_id, eosTokenID: r.eos_token_id, unknownTokenID: r.unknown_token_id))
    }

    /// Texts whose round trip through a Llama-style tokenizer is not the identity: each stretch between
    /// special tokens gets its own "▁" prefix (Hugging Face's legacy Llama normalizer), so "a<s>b" comes
    /// back as "a<s> b". The references' own decodings of these are checked exactly.
    static func spellsSpecialToken(_ s: String) -> Bool {
        ["<s>", "</s>", "<unk>"].contains { s.contains($0) }
    }

    // MARK: - Merges by rank (tokenizer.json)

    @Test func llamaStyleIDsEqualReference() throws {
        let tokenizer = try Self.llamaBPE()
        let reference = try TokenizerFixture.load(LlamaBPEReference.self, "llama-bpe.json")
        #expect(tokenizer.kind == .sentencePieceBPE && tokenizer.vocabularySize == reference.vocabulary_size)
        for (s, expected) in zip(try TokenizerFixture.strings(), reference.cases) {
            #expect(tokenizer.encode(s, addingSpecialTokens: false) == expected.ids, "\(label(s))")
        }
    }

    /// add_bos_token: the post-processor puts <s> first, also for empty text.
    @Test func llamaStyleAddsBOS() throws {
        let tokenizer = try Self.llamaBPE()
        let reference = try TokenizerFixture.load(LlamaBPEReference.self, "llama-bpe.json")
        #expect(tokenizer.addsBOSToken && !tokenizer.addsEOSToken && tokenizer.bosTokenID == 1)
        for (s, expected) in zip(try TokenizerFixture.strings(), reference.cases) {
            #expect(tokenizer.encode(s) == expected.ids_with_special, "\(label(s))")
        }
    }

    @Test func llamaStyleDecodeEqualsReference() throws {
        let tokenizer = try Self.llamaBPE()
        let reference = try TokenizerFixture.load(LlamaBPEReference.self, "llama-bpe.json")
        for (s, expected) in zip(try TokenizerFixture.strings(), reference.cases) {
            #expect(try tokenizer.decode(expected.ids) == expected.decoded, "\(label(s))")
            #expect(try tokenizer.decode(expected.ids, skippingSpecialTokens: true) == expected.decoded_skipping_special,
                    "\(label(s))")
            if !Self.spellsSpecialToken(s) {
                #expect(try tokenizer.decode(tokenizer.encode(s, addingSpecialTokens: false)) == s, "round trip \(label(s))")
            }
        }
    }

    @Test func llamaStyleWholeWikiTextEqualsReference() throws {
        let tokenizer = try Self.llamaBPE()
        let reference = try TokenizerFixture.load(LlamaBPEReference.self, "llama-bpe.json").wikitext
        let ids = tokenizer.encode(try TokenizerFixture.wikiText(), addingSpecialTokens: false)
        #expect(ids.count == reference.count)
        #expect(fnv1a64(ids) == reference.fnv1a64)
    }

    // MARK: - Merges by score (GGUF arrays)

    @Test func scoredIDsEqualSentencePiece() throws {
        let tokenizer = try Self.sentencePieceFromArrays()
        let reference = try TokenizerFixture.load(SentencePieceScoreReference.self, "spm-score.json")
        #expect(tokenizer.kind == .sentencePieceBPE && tokenizer.addsBOSToken)
        var compared = 0
        for (s, expected) in zip(try TokenizerFixture.strings(), reference.cases) {
            guard let ids = expected.ids, let decoded = expected.decoded else { continue }
            compared += 1
            #expect(tokenizer.encode(s, addingSpecialTokens: false) == ids, "\(label(s))")
            #expect(tokenizer.encode(s) == [reference.bos_token_id] + ids, "\(label(s))")
            #expect(try tokenizer.decode(ids) == decoded, "\(label(s))")
            #expect(try tokenizer.decode(ids) == s, "round trip \(label(s))")
        }
        #expect(compared >= 50)
    }

    @Test func scoredWholeWikiTextEqualsSentencePiece() throws {
        let tokenizer = try Self.sentencePieceFromArrays()
        let reference = try TokenizerFixture.load(SentencePieceScoreReference.self, "spm-score.json").wikitext
        let ids = tokenizer.encode(try TokenizerFixture.wikiText(), addingSpecialTokens: false)
        #expect(ids.count == reference.count)
        #expect(fnv1a64(ids) == reference.fnv1a64)
    }

    /// Control tokens written in the text are matched whole, as llama.cpp and Hugging Face do.
    @Test func controlTokensInTextAreMatched() throws {
        let tokenizer = try Self.sentencePieceFromArrays()
        let ids = tokenizer.encode("<s>Hi</s>", addingSpecialTokens: false)
        #expect(ids.first == 1 && ids.last == 2)
        #expect(try tokenizer.decode(ids, skippingSpecialTokens: true) == "Hi")
    }
}
