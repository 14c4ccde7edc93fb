// Where the length, count, type and offset fields of a file are, so that a mutation can set one of
// them to an extreme value: a walk over a valid GGUF (the layout drawn in Sources/Llama/File/GGUF.swift)
// and a lexer that finds the tokens of a JSON text. Both run on the unmutated seed only.

// MARK: - GGUF

/// A little-endian integer field of a file: its byte offset and width (4 or 8 bytes).
struct Field {
    let offset: Int
    let width: Int
    /// What the field is ("tensor count", "dimension 1 of 'blk.0.attn_q.weight'"), for case descriptions.
    let role: String
}

/// The integer fields of a valid GGUF, in file order, and the offset where its data section starts.
/// Every length, count, type id, dimension, tensor offset, and every integer metadata value.
func ggufFields(_ bytes: [UInt8]) -> (fields: [Field], dataStart: Int) {
    var fields: [Field] = []
    var at = 0
    /// The little-endian unsigned integer of `width` bytes at `at`, recorded as a field.
    func unsigned(_ width: Int, _ role: String) -> UInt64 {
        guard at + width <= bytes.count else { at = bytes.count; return 0 }
        fields.append(Field(offset: at, width: width, role: role))
        var v: UInt64 = 0
        for i in 0..<width { v |= UInt64(bytes[at + i]) << (8 * UInt64(i)) }
        at += width
        return v
    }
    func u64(_ role: String) -> UInt64 { unsigned(8, role) }
    func u32(_ role: String) -> UInt32 { UInt32(unsigned(4, role)) }
    func string(_ role: String) -> String {
        let length = Int(clamping: u64("length of " + role))
        let end = min(bytes.count, at + min(length, bytes.count))
        let text = String(decoding: bytes[at..<end], as: UTF8.self)
        at = end
        return text
    }
    /// Sizes of the scalar value types (GGUF value type ids 0…12; 8 string and 9 array are walked).
    let scalarWidth: [UInt32: Int] = [0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8]
    func value(_ type: UInt32, key: String) {
        switch type {
        case 4, 5: _ = u32("value of '\(key)'")
        case 10, 11: _ = u64("value of '\(key)'")
        case 8: _ = string("'\(key)'")
        case 9:
            let elementType = u32("element type of '\(key)'")
            let count = u64("element count of '\(key)'")
            // Long arrays (a vocabulary) contribute their first few elements' fields, then are skipped.
            for index in 0..<Int(min(count, 4)) where at < bytes.count { value(elementType, key: "\(key)[\(index)]") }
            if count > 4 { skip(elementType, count: Int(clamping: count - 4)) }
        default: at += scalarWidth[type] ?? bytes.count
        }
    }
    func skip(_ type: UInt32, count: Int) {
        for _ in 0..<count where at < bytes.count {
            if type == 8 {
                guard at + 8 <= bytes.count else { at = bytes.count; return }
                var length = 0
                for i in 0..<8 { length |= Int(bytes[at + i]) << (8 * i) }
                at += 8 + max(0, length)
            } else {
                at += scalarWidth[type] ?? bytes.count
            }
        }
    }

    at = 4                                                        // magic
    _ = u32("version")
    let tensorCount = u64("tensor count")
    let metadataCount = u64("metadata count")
    var alignment = 32
    for _ in 0..<Int(min(metadataCount, 1 << 20)) where at < bytes.count {
        let key = string("a metadata key")
        let type = u32("value type of '\(key)'")
        if key == "general.alignment", type == 4, at + 4 <= bytes.count {
            alignment = Int(bytes[at]) | Int(bytes[at + 1]) << 8 | Int(bytes[at + 2]) << 16 | Int(bytes[at + 3]) << 24
        }
        value(type, key: key)
    }
    for _ in 0..<Int(min(tensorCount, 1 << 20)) where at < bytes.count {
        let name = string("a tensor name")
        let dimensions = u32("dimension count of '\(name)'")
        for axis in 0..<Int(min(dimensions, 8)) { _ = u64("dimension \(axis) of '\(name)'") }
        _ = u32("type of '\(name)'")
        _ = u64("data offset of '\(name)'")
    }
    let dataStart = min(bytes.count, (at + alignment - 1) / max(alignment, 1) * max(alignment, 1))
    return (fields, dataStart)
}

// MARK: - JSON

/// The tokens of a JSON text worth damaging: numbers, strings (with their quotes), and the
/// structural characters. Byte ranges into the text.
struct JSONTokens {
    var numbers: [Range<Int>] = []
    var strings: [Range<Int>] = []
    var structural: [Int] = []
    /// Every value's first byte: a number, a string, `{`, `[`, `t`, `f`, `n`.
    var valueStarts: [Int] = []
}

func jsonTokens(_ bytes: [UInt8], in range: Range<Int>) -> JSONTokens {
    var tokens = JSONTokens()
    var i = range.lowerBound
    while i < range.upperBound {
        let c = bytes[i]
        switch c {
        case UInt8(ascii: "\""):
            let start = i
            i += 1
            while i < range.upperBound, bytes[i] != UInt8(ascii: "\"") { i += bytes[i] == UInt8(ascii: "\\") ? 2 : 1 }
            i = min(i + 1, range.upperBound)
            tokens.strings.append(start..<i)
            tokens.valueStarts.append(start)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            let start = i
            while i < range.upperBound, "+-.eE0123456789".utf8.contains(bytes[i]) { i += 1 }
            tokens.numbers.append(start..<i)
            tokens.valueStarts.append(start)
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            tokens.structural.append(i)
            tokens.valueStarts.append(i)
            i += 1
        case UInt8(ascii: "}"), UInt8(ascii: "]"), UInt8(ascii: ","), UInt8(ascii: ":"):
            tokens.structural.append(i)
            i += 1
        case UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"):
            tokens.valueStarts.append(i)
            i += 1
            while i < range.upperBound, bytes[i] >= UInt8(ascii: "a"), bytes[i] <= UInt8(ascii: "z") { i += 1 }
        default:
            i += 1
        }
    }
    return tokens
}
