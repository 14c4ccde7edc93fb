// Byte-level pre-tokenization (GPT-2 family): the split regex written out by hand, the optional
// one-digit-per-piece split before it, and GPT-2's byte alphabet. Sources: openai/gpt-2 encoder.py
// (pattern and bytes_to_unicode); Hugging Face tokenizers pre_tokenizers/byte_level.rs and digits.rs.

// MARK: - Character classes

/// The classes the GPT-2 pattern distinguishes. A scalar is exactly one of them.
enum ScalarClass: UInt8, Sendable {
    /// `\p{L}`: general category Lu, Ll, Lt, Lm or Lo.
    case letter
    /// `\p{N}`: general category Nd, Nl or No (also Rust's `char::is_numeric`, which the Digits step uses).
    case number
    /// `\s`: the Unicode White_Space property (Oniguruma's `\s` for Unicode text is the same set:
    /// U+0009–000D, U+0020, U+0085, U+00A0, U+1680, U+2000–200A, U+2028, U+2029, U+202F, U+205F, U+3000).
    case whitespace
    /// Everything else: punctuation, symbols, marks (combining accents are Mn, not L), controls, ZWJ (Cf).
    case other

    static func of(_ s: Unicode.Scalar) -> ScalarClass {
        if s.value < 128 { return asciiTable[Int(s.value)] }
        return classify(s)
    }

    private static func classify(_ s: Unicode.Scalar) -> ScalarClass {
        let p = s.properties
        if p.isWhitespace { return .whitespace }
        switch p.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return .letter
        case .decimalNumber, .letterNumber, .otherNumber: return .number
        default: return .other
        }
    }

    private static let asciiTable: [ScalarClass] = (0..<128).map { classify(Unicode.Scalar(UInt8($0))) }
}

// MARK: - Pre-tokenizers

/// How byte-level text is cut into words before BPE. Merges never cross a word boundary.
package enum PreTokenizer: Sendable, Equatable {
    /// GPT-2's pattern (Hugging Face `ByteLevel(use_regex: true)`; GGUF pre "gpt2"):
    ///
    ///     's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
    case gpt2
    /// Every digit (`\p{N}`) is its own piece, then GPT-2's pattern runs on the rest (Hugging Face
    /// `Sequence[Digits(individual_digits: true), ByteLevel]`, SmolLM2's tokenizer.json; GGUF pre "smollm",
    /// as llama.cpp splits it). "a  1" → "a", "  ", "1" here, but "a", " ", " 1" under `.gpt2`.
    case digitsThenGPT2

    /// The words of `scalars[range]`, as ranges of scalar indices, in order, covering the range.
    func split(_ scalars: [Unicode.Scalar], _ classes: [ScalarClass], _ range: Range<Int>,
               into words: inout [Range<Int>]) {
        switch self {
        case .gpt2:
            splitGPT2(classes, scalars, range, into: &words)
        case .digitsThenGPT2:
            // Digits(individual_digits: true), behaviour "isolated": each \p{N} scalar alone; the runs
            // between them go on to the GPT-2 pattern as separate pieces.
            var start = range.lowerBound
            for i in range where classes[i] == .number {
                if start < i { splitGPT2(classes, scalars, start..<i, into: &words) }
                words.append(i..<(i + 1))
                start = i + 1
            }
            if start < range.upperBound { splitGPT2(classes, scalars, start..<range.upperBound, into: &words) }
        }
    }
}

/// GPT-2's pattern, matched by hand. At each position the alternatives are tried in order, as a
/// backtracking regex engine does; the piece ends where the first one that matches ends.
///
///     1. 's|'t|'re|'ve|'m|'ll|'d    contractions, lower-case ASCII only
///     2. ` ?\p{L}+`                 an optional space, then a run of letters
///     3. ` ?\p{N}+`                 …of numbers
///     4. ` ?[^\s\p{L}\p{N}]+`       …of anything else
///     5. `\s+(?!\S)`                whitespace not followed by a non-space: a run that reaches the end
///                                   of the piece whole, else the run minus its last scalar, which then
///                                   becomes the optional space of alternatives 2–4 (or stands alone)
///     6. `\s+`                      a single whitespace scalar before a non-space
///
/// The end of `range` is the end of the text for the lookahead (pre-tokenizers see one piece at a time).
func splitGPT2(_ classes: [ScalarClass], _ scalars: [Unicode.Scalar], _ range: Range<Int>,
               into words: inout [Range<Int>]) {
    let end = range.upperBound
    var i = range.lowerBound
    while i < end {
        // 1. Contractions.
        if scalars[i] == "'" && i + 1 < end {
            let a = scalars[i + 1]
            var length = 0
            if a == "s" || a == "t" || a == "m" || a == "d" {
                length = 2
            } else if i + 2 < end {
                let b = scalars[i + 2]
                if (a == "r" && b == "e") || (a == "v" && b == "e") || (a == "l" && b == "l") { length = 3 }
            }
            if length > 0 {
                words.append(i..<(i + length))
                i += length
                continue
            }
        }
        // 2–4. An optional space (only U+0020), then a run of one class that is not whitespace.
        var j = i
        if scalars[j] == " " && j + 1 < end && classes[j + 1] != .whitespace { j += 1 }
        let c = classes[j]
        if c != .whitespace {
            j += 1
            while j < end && classes[j] == c { j += 1 }
            words.append(i..<j)
            i = j
            continue
        }
        // 5–6. Whitespace.
        var k = i
        while k < end && classes[k] == .whitespace { k += 1 }
        if k < end && k - i >= 2 { k -= 1 }
        words.append(i..<k)
        i = k
    }
}

// MARK: - GPT-2's byte alphabet

/// GPT-2 spells each byte as one printable character, so a byte-level vocabulary is a list of strings:
/// bytes '!'…'~', '¡'…'¬' and '®'…'ÿ' stand for themselves; the other 68 bytes (controls, space, DEL,
/// U+0080–U+00A0, soft hyphen) take U+0100, U+0101, … in byte order. A space is "Ġ" (U+0120), "\n" is "Ċ".
enum ByteAlphabet {
    static let scalarOfByte: [Unicode.Scalar] = {
        var table = [Unicode.Scalar](repeating: "\0", count: 256)
        var extra: UInt32 = 256
        for b in 0..<256 {
            let standsForItself = (33...126).contains(b) || (161...172).contains(b) || (174...255).contains(b)
            if standsForItself {
                table[b] = Unicode.Scalar(UInt8(b))
            } else {
                table[b] = Unicode.Scalar(extra)!
                extra += 1
            }
        }
        return table
    }()

    static let byteOfScalar: [UInt32: UInt8] = {
        var map: [UInt32: UInt8] = [:]
        for (b, s) in scalarOfByte.enumerated() { map[s.value] = UInt8(b) }
        return map
    }()

    /// The bytes a byte-level spelling stands for, or nil if a character is outside the alphabet
    /// (such a token — an added token written as plain text — stands for its own UTF-8).
    static func bytes(ofSpelling spelling: String) -> [UInt8]? {
        var out: [UInt8] = []
        for s in spelling.unicodeScalars {
            guard let b = byteOfScalar[s.value] else { return nil }
            out.append(b)
        }
        return out
    }
}
