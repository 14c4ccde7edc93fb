// The recorded references of Tests/Fixtures/tokenizer (written by Tools/reference/tokenizer.py), decoded.
import Foundation
import TestSupport

/// Token ids are integers: every comparison with a reference is exact.
enum TokenizerFixture {
    static func load<T: Decodable>(_ type: T.Type, _ name: String) throws -> T {
        try JSONDecoder().decode(T.self, from: Fixtures.data("tokenizer/" + name))
    }

    /// The hand-picked strings every reference below is recorded on, in the same order.
    static func strings() throws -> [String] {
        struct File: Decodable { var strings: [String] }
        return try load(File.self, "strings.json").strings
    }

    static let wikiTextPath = Fixtures.sharedData + "/wikitext-2-test.txt"

    static func wikiText() throws -> String {
        try String(contentsOfFile: wikiTextPath, encoding: .utf8)
    }
}

struct WikiTextReference: Decodable {
    var count: Int
    var fnv1a64: String
    var count_digits: Int?
    var fnv1a64_digits: String?
}

struct SmolLM2Reference: Decodable {
    struct Case: Decodable {
        var ids: [Int]                  // transformers from the GGUF (plain GPT-2 split)
        var ids_digits: [Int]           // SmolLM2's own split: Digits, then GPT-2
        var pre_tokens: [String]
        var pre_tokens_digits: [String]
        var decoded: String
        var decoded_skipping_special: String
    }
    struct InvalidUTF8: Decodable {
        var bytes: [UInt8]
        var ids: [Int]
        var decoded: String
    }
    var adds_special_tokens_by_default: Bool
    var cases: [Case]
    var invalid_utf8: [InvalidUTF8]
    var wikitext: WikiTextReference
}

struct ByteBPEReference: Decodable {
    struct GGUF: Decodable {
        var model: String
        var pre: String
        var tokens: [String]
        var token_types: [Int32]
        var merges: [String]
        var bos_token_id: Int
        var eos_token_id: Int
        var unknown_token_id: Int
        var add_bos_token: Bool
    }
    struct Case: Decodable {
        var ids: [Int]
        var decoded: String
        var decoded_skipping_special: String
    }
    var gguf: GGUF
    var cases: [Case]
    var wikitext: WikiTextReference
}

struct LlamaBPEReference: Decodable {
    struct Case: Decodable {
        var ids: [Int]
        var ids_with_special: [Int]
        var decoded: String
        var decoded_skipping_special: String
    }
    var vocabulary_size: Int
    var cases: [Case]
    var wikitext: WikiTextReference
}

struct SentencePieceScoreReference: Decodable {
    struct Case: Decodable {
        var ids: [Int]?                 // nil where the text spells a control token (see the provenance)
        var decoded: String?
    }
    var tokens: [String]
    var scores: [Float]
    var token_types: [Int32]
    var bos_token_id: Int
    var eos_token_id: Int
    var unknown_token_id: Int
    var cases: [Case]
    var wikitext: WikiTextReference
}

struct ChatReference: Decodable {
    struct Message: Decodable { var role: String; var content: String }
    struct Conversation: Decodable {
        var name: String
        var messages: [Message]
        var add_generation_prompt: Bool
        var chatml: String
        var chatml_ids: [Int]
        var plain_chatml: String
        var zephyr: String
    }
    var smollm2_template: String
    var tinyllama_template: String
    var plain_chatml_template: String
    var conversations: [Conversation]
}

/// FNV-1a (64-bit) over the ids as little-endian int32, as Tools/reference/tokenizer.py computes it.
func fnv1a64(_ ids: [Int]) -> String {
    var h: UInt64 = 0xCBF2_9CE4_8422_2325
    for id in ids {
        var v = UInt32(bitPattern: Int32(truncatingIfNeeded: id))
        for _ in 0..<4 {
            h ^= UInt64(v & 0xFF)
            h = h &* 0x100_0000_01B3
            v >>= 8
        }
    }
    let hex = String(h, radix: 16)
    return String(repeating: "0", count: 16 - hex.count) + hex
}

/// A short label for a test string in failure messages.
func label(_ s: String) -> String {
    let head = s.unicodeScalars.prefix(40).map { $0.escaped(asASCII: true) }.joined()
    return s.unicodeScalars.count > 40 ? "\"\(head)…\" (\(s.unicodeScalars.count) scalars)" : "\"\(head)\""
}


/// GPT-2's byte alphabet, restated for tests: printable Latin-1 bytes stand for themselves, the others
/// take U+0100… in byte order.
func gpt2Scalar(_ b: UInt8) -> Unicode.Scalar {
    func printable(_ x: Int) -> Bool { (33...126).contains(x) || (161...172).contains(x) || (174...255).contains(x) }
    if printable(Int(b)) { return Unicode.Scalar(b) }
    let rank = (0..<Int(b)).filter { !printable($0) }.count
    return Unicode.Scalar(UInt32(256 + rank))!
}
