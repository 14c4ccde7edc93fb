// Byte-level BPE (GPT-2 family) against the references: SmolLM2 (transformers from the GGUF, and with
// SmolLM2's own Digits split) and a small byte-level tokenizer trained with `tokenizers`, built both from
// its tokenizer.json and from the same vocabulary as GGUF arrays.
import Foundation
import Testing
import TestSupport
import Llama

@Suite struct ByteLevelTokenizerTests {
    // MARK: - SmolLM2

    @Test func smolLM2IDsEqualReference() throws {
        let tokenizer = try smolLM2Tokenizer()
        let reference = try TokenizerFixture.load(SmolLM2Reference.self, "smollm2.json")
        let strings = try TokenizerFixture.strings()
        #expect(tokenizer.kind == .byteLevelBPE)
        for (s, expected) in zip(strings, reference.cases) {
            #expect(tokenizer.encode(s, addingSpecialTokens: false) == expected.ids_digits, "\(label(s))")
        }
    }

    /// transformers 5.24 builds SmolLM2's tokenizer from the GGUF without the Digits step (it does not
    /// know pre "smollm"); with the plain GPT-2 split our ids equal its ids on every string.
    @Test func smolLM2WithPlainGPT2SplitEqualsTransformersFromGGUF() throws {
        let tokenizer = try smolLM2Tokenizer().replacingPreTokenizer(.gpt2)
        let reference = try TokenizerFixture.load(SmolLM2Reference.self, "smollm2.json")
        for (s, expected) in zip(try TokenizerFixture.strings(), reference.cases) {
            #expect(tokenizer.encode(s, addingSpecialTokens: false) == expected.ids, "\(label(s))")
        }
    }

    @Test func smolLM2AddsNoSpecialTokens() throws {
        let tokenizer = try smolLM2Tokenizer()
        let reference = try TokenizerFixture.load(SmolLM2Reference.self, "smollm2.json")
        #expect(reference.adds_special_tokens_by_default == false)
        #expect(!tokenizer.addsBOSToken && !tokenizer.addsEOSToken)
        #expect(tokenizer.encode("Hello world") == tokenizer.encode("Hello world", addingSpecialTokens: false))
        #expect(tokenizer.bosTokenID == 1 && tokenizer.eosTokenID == 2)
        #expect(tokenizer.spelling(ofToken: 1) == "<|im_start|>" && tokenizer.tokenID(spelledAs: "<|im_end|>") == 2)
        #expect(tokenizer.vocabularySize == 49_152)
    }

    @Test func preTokenizerSplitsAsHuggingFace() throws {
        let tokenizer = try smolLM2Tokenizer()
        let reference = try TokenizerFixture.load(SmolLM2Reference.self, "smollm2.json")
        for (s, expected) in zip(try TokenizerFixture.strings(), reference.cases) {
            #expect(tokenizer.preTokenizedWords(s) == expected.pre_tokens_digits, "\(label(s))")
            #expect(tokenizer.replacingPreTokenizer(.gpt2).preTokenizedWords(s) == expected.pre_tokens, "\(label(s))")
        }
    }

    @Test func smolLM2DecodeEqualsReference() throws {
        let tokenizer = try smolLM2Tokenizer()
        let reference = try TokenizerFixture.load(SmolLM2Reference.self, "smollm2.json")
        for (s, expected) in zip(try TokenizerFixture.strings(), reference.cases) {
            #expect(try tokenizer.decode(expected.ids) == expected.decoded, "\(label(s))")
            #expect(try tokenizer.decode(expected.ids, skippingSpecialTokens: true) == expected.decoded_skipping_special,
                    "\(label(s))")
        }
    }

    /// Bytes that are not valid UTF-8 become U+FFFD as Rust's from_utf8_lossy (the ByteLevel decoder) does.
    @Test func invalidUTF8DecodesAsReference() throws {
        let tokenizer = try smolLM2Tokenizer()
        let reference = try TokenizerFixture.load(SmolLM2Reference.self, "smollm2.json")
        for c in reference.invalid_utf8 {
            #expect(try tokenizer.decode(c.ids) == c.decoded, "bytes \(c.bytes)")
        }
    }

    /// Every string round-trips, except where SmolLM2's vocabulary has no token for a byte (then the
    /// byte is dropped, as by the reference, whose decoding is checked above).
    @Test func smolLM2RoundTrips() throws {
        let tokenizer = try smolLM2Tokenizer()
        let reference = try TokenizerFixture.load(SmolLM2Reference.self, "smollm2.json")
        for (s, expected) in zip(try TokenizerFixture.strings(), reference.cases) {
            let decoded = try tokenizer.decode(tokenizer.encode(s, addingSpecialTokens: false))
            if expected.decoded == s { #expect(decoded == s, "\(label(s))") } else { #expect(decoded == expected.decoded) }
        }
    }

    @Test func smolLM2WholeWikiTextEqualsReference() throws {
        let tokenizer = try smolLM2Tokenizer()
        let reference = try TokenizerFixture.load(SmolLM2Reference.self, "smollm2.json").wikitext
        let text = try TokenizerFixture.wikiText()
        let ids = tokenizer.encode(text, addingSpecialTokens: false)
        #expect(ids.count == reference.count_digits)
        #expect(fnv1a64(ids) == reference.fnv1a64_digits)
        let transformers = tokenizer.replacingPreTokenizer(.gpt2).encode(text, addingSpecialTokens: false)
        #expect(transformers.count == reference.count)
        #expect(fnv1a64(transformers) == reference.fnv1a64)
    }

    // MARK: - A trained byte-level tokenizer, from tokenizer.json and from GGUF arrays

    static func byteBPEFromJSON() throws -> Tokenizer {
        try Tokenizer(tokenizerJSON: Fixtures.data("tokenizer/byte-bpe/tokenizer.json"))
    }

    static func byteBPEFromArrays() throws -> Tokenizer {
        let g = try TokenizerFixture.load(ByteBPEReference.self, "byte-bpe.json").gguf
        return try Tokenizer(gguf: GGUFTokenizerMetadata(
            model: g.model, preTokenizer: g.pre, tokens: g.tokens, tokenTypes: g.token_types, merges: g.merges,
            bosTokenID: g.bos_token_id, eosTokenID: g.eos_token_id, unknownTokenID: g.unknown_token_id,
            addBOSToken: g.add_bos_token))
    }

    @Test(arguments: ["tokenizer.json", "GGUF arrays"])
    func trainedByteBPEEqualsReference(_ source: String) throws {
        let tokenizer = source == "tokenizer.json" ? try Self.byteBPEFromJSON() : try Self.byteBPEFromArrays()
        let reference = try TokenizerFixture.load(ByteBPEReference.self, "byte-bpe.json")
        #expect(tokenizer.kind == .byteLevelBPE && tokenizer.vocabularySize == 1000)
        for (s, expected) in zip(try TokenizerFixture.strings(), reference.cases) {
            let ids = tokenizer.encode(s, addingSpecialTokens: false)
            #expect(ids == expected.ids, "\(label(s))")
            #expect(try tokenizer.decode(ids) == expected.decoded, "\(label(s))")
            #expect(try tokenizer.decode(ids, skippingSpecialTokens: true) == expected.decoded_skipping_special)
            #expect(try tokenizer.decode(ids) == s, "round trip \(label(s))")
        }
        let ids = tokenizer.encode(try TokenizerFixture.wikiText(), addingSpecialTokens: false)
        #expect(ids.count == reference.wikitext.count)
        #expect(fnv1a64(ids) == reference.wikitext.fnv1a64)
    }
}
