// Streaming decode equals full decode: token by token on every reference string, and on random byte
// soups (valid and invalid UTF-8) fed one byte token at a time.
import Foundation
import Testing
import Tensor
import TestSupport
import Llama

@Suite struct StreamingDecoderTests {
    static func streamed(_ tokenizer: Tokenizer, _ ids: [Int], skippingSpecialTokens: Bool = false) throws -> String {
        var decoder = tokenizer.makeStreamingDecoder(skippingSpecialTokens: skippingSpecialTokens)
        var text = ""
        for id in ids { text += try decoder.append(id) }
        return text + decoder.finish()
    }

    static func tokenizers() throws -> [(String, Tokenizer)] {
        [("SmolLM2", try smolLM2Tokenizer()), ("Llama-style", try SentencePieceTokenizerTests.llamaBPE()),
         ("sentencepiece arrays", try SentencePieceTokenizerTests.sentencePieceFromArrays())]
    }

    @Test func streamingEqualsFullDecodeOnReferenceStrings() throws {
        let strings = try TokenizerFixture.strings()
        for (name, tokenizer) in try Self.tokenizers() {
            for s in strings {
                let ids = tokenizer.encode(s)
                #expect(try Self.streamed(tokenizer, ids) == tokenizer.decode(ids), "\(name) \(label(s))")
                #expect(try Self.streamed(tokenizer, ids, skippingSpecialTokens: true)
                        == tokenizer.decode(ids, skippingSpecialTokens: true), "\(name) \(label(s))")
            }
        }
    }

    /// A character split over byte tokens is handed out whole, once its last byte arrives.
    @Test func characterComesOutWhenComplete() throws {
        let tokenizer = try SentencePieceTokenizerTests.llamaBPE()
        let ids = tokenizer.encode("日", addingSpecialTokens: false)        // ▁, <0xE6>, <0x97>, <0xA5>
        #expect(ids.count == 4)
        var decoder = tokenizer.makeStreamingDecoder()
        #expect(try decoder.append(ids[0]) == "")                        // the dummy prefix's space is dropped
        #expect(try decoder.append(ids[1]) == "")
        #expect(try decoder.append(ids[2]) == "")
        #expect(try decoder.append(ids[3]) == "日")
        #expect(decoder.finish() == "")
    }

    /// Random byte sequences, most not valid UTF-8, through SmolLM2's one-byte tokens and the
    /// sentencepiece <0xNN> tokens: streaming never hands out a U+FFFD that the whole text would not have.
    @Test func randomBytesStreamAsFullDecode() throws {
        var rng = Xoshiro256StarStar(seed: 20_241_126)
        let smol = try smolLM2Tokenizer()
        let spm = try SentencePieceTokenizerTests.sentencePieceFromArrays()
        // Bytes that have a token in both vocabularies, weighted towards UTF-8 lead and continuation bytes.
        let interesting: [UInt8] = [0x41, 0x20, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC2, 0xDF, 0xE0, 0xE1, 0xED,
                                    0xEF, 0xF0, 0xF3, 0xF4]
        let smolByte = Dictionary(uniqueKeysWithValues: interesting.map { b in
            (b, smol.tokenID(spelledAs: String(Character(gpt2Scalar(b))))!)
        })
        let spmByte = Dictionary(uniqueKeysWithValues: interesting.map { b in
            (b, spm.tokenID(spelledAs: String(format: "<0x%02X>", b))!)
        })
        for _ in 0..<2000 {
            let bytes = (0..<Int.random(in: 1...12, using: &rng)).map { _ in interesting.randomElement(using: &rng)! }
            let a = bytes.map { smolByte[$0]! }
            #expect(try Self.streamed(smol, a) == smol.decode(a), "bytes \(bytes)")
            let b = bytes.map { spmByte[$0]! }
            #expect(try Self.streamed(spm, b) == spm.decode(b), "bytes \(bytes)")
        }
    }

}
