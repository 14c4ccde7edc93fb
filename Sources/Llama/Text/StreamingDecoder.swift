// Decoding token by token during generation: text is handed out as soon as its UTF-8 is complete, and
// the pieces put together equal `Tokenizer.decode` of all the ids.

/// Feed ids with `append`; it returns the text that became final. Call `finish` at the end for the rest.
///
/// Bytes wait only while they are the start of a character that later bytes could still complete
/// (a lead byte and fewer continuation bytes than it announces, each in its allowed range). Anything
/// else is final: complete characters, and invalid bytes, which become U+FFFD exactly as they would in
/// the whole text, since a replacement never reaches past the next lead byte.
public struct StreamingDecoder: Sendable {
    private let tokenizer: Tokenizer
    private let skippingSpecialTokens: Bool
    private var pending: [UInt8] = []
    /// SentencePiece: the first character handed out drops the dummy prefix's space, as `decode` does.
    private var stripsLeadingSpace: Bool

    init(_ tokenizer: Tokenizer, skippingSpecialTokens: Bool) {
        self.tokenizer = tokenizer
        self.skippingSpecialTokens = skippingSpecialTokens
        self.stripsLeadingSpace = tokenizer.stripsLeadingSpace
    }

    /// Adds one token; returns the text now complete (often "", mid-character).
    public mutating func append(_ id: Int) throws -> String {
        try tokenizer.appendBytes(of: id, skippingSpecialTokens: skippingSpecialTokens, to: &pending)
        let cut = pending.count - incompleteTailLength(pending)
        let text = String(decoding: pending[..<cut], as: UTF8.self)
        pending.removeFirst(cut)
        return emit(text)
    }

    /// Hands out whatever is left (an unfinished character becomes U+FFFD) and resets.
    public mutating func finish() -> String {
        let text = String(decoding: pending, as: UTF8.self)
        pending.removeAll()
        return emit(text)
    }

    private mutating func emit(_ text: String) -> String {
        guard stripsLeadingSpace, !text.isEmpty else { return text }
        stripsLeadingSpace = false
        var text = text
        if text.unicodeScalars.first == " " { text.unicodeScalars.removeFirst() }
        return text
    }
}

// MARK: - UTF-8 sequence boundaries

/// How many bytes at the end of `bytes` begin a character that more bytes could still complete (0–3).
///
///     lead byte   length   second byte      (RFC 3629; Unicode Table 3-7, well-formed UTF-8)
///     C2–DF       2        80–BF
///     E0          3        A0–BF
///     E1–EC, EE–EF 3       80–BF
///     ED          3        80–9F            (no surrogates)
///     F0          4        90–BF
///     F1–F3       4        80–BF
///     F4          4        80–8F            (nothing above U+10FFFF)
///     later bytes are 80–BF
func incompleteTailLength(_ bytes: [UInt8]) -> Int {
    let n = bytes.count
    guard n > 0 else { return 0 }
    // The last lead byte among the final three; a character longer than that would already be complete.
    for back in 1...min(3, n) {
        let lead = bytes[n - back]
        if lead & 0xC0 == 0x80 { continue }            // a continuation byte: look further back
        let (length, secondRange): (Int, ClosedRange<UInt8>) = switch lead {
        case 0xC2...0xDF: (2, 0x80...0xBF)
        case 0xE0: (3, 0xA0...0xBF)
        case 0xE1...0xEC, 0xEE...0xEF: (3, 0x80...0xBF)
        case 0xED: (3, 0x80...0x9F)
        case 0xF0: (4, 0x90...0xBF)
        case 0xF1...0xF3: (4, 0x80...0xBF)
        case 0xF4: (4, 0x80...0x8F)
        default: (1, 0x80...0xBF)                       // ASCII or a byte that never leads
        }
        guard back < length else { return 0 }           // complete (or not a lead at all)
        if back >= 2 && !secondRange.contains(bytes[n - back + 1]) { return 0 }   // already invalid
        return back
    }
    return 0
}
