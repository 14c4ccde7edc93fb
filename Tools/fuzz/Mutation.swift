// The damage one case does to one file: byte flips, extreme values in length/count/offset fields,
// truncation and extension, and JSON damage (values replaced, spans deleted or repeated, nesting,
// invalid UTF-8). Each kind is aimed where the format keeps its structure: a GGUF's header, metadata
// and tensor infos; a safetensors file's length and JSON header; a JSON file's tokens.
import Tensor

/// How a file is laid out, which decides where damage is aimed.
enum FileKind {
    case gguf, safetensors, json
}

/// A file's original bytes and the structure found in them once.
struct Target {
    let name: String
    let kind: FileKind
    let bytes: [UInt8]
    /// GGUF: every integer field; safetensors: the header-length field.
    let fields: [Field]
    /// Bytes worth flipping: a GGUF's or safetensors file's bytes before its data section; all of a JSON file.
    let structureEnd: Int
    /// A JSON file, or a safetensors header: the tokens of the JSON text.
    let json: JSONTokens?

    init(name: String, kind: FileKind, bytes: [UInt8]) {
        self.name = name
        self.kind = kind
        self.bytes = bytes
        switch kind {
        case .gguf:
            (fields, structureEnd) = ggufFields(bytes)
            json = nil
        case .safetensors:
            var length = 0
            for i in 0..<8 { length |= Int(bytes[i]) << (8 * i) }
            fields = [Field(offset: 0, width: 8, role: "header length")]
            structureEnd = min(bytes.count, 8 + length)
            json = jsonTokens(bytes, in: 8..<structureEnd)
        case .json:
            fields = []
            structureEnd = bytes.count
            json = jsonTokens(bytes, in: 0..<bytes.count)
        }
    }
}

/// Damages `bytes` (a copy of `target.bytes`, possibly already damaged) once; returns what it did.
func mutate(_ bytes: inout [UInt8], _ target: Target, using rng: inout Xoshiro256StarStar) -> String {
    var kinds: [(weight: Int, apply: (inout [UInt8], inout Xoshiro256StarStar) -> String)] = [
        (3, { b, r in flipBits(&b, below: target.structureEnd, using: &r) }),
        (2, { b, r in setBytes(&b, below: target.structureEnd, using: &r) }),
        (2, { b, r in truncate(&b, target, using: &r) }),
        (1, { b, r in extend(&b, using: &r) }),
    ]
    if !target.fields.isEmpty {
        kinds.append((target.kind == .gguf ? 6 : 2, { b, r in extremeField(&b, target.fields, fileSize: target.bytes.count, using: &r) }))
    }
    if let json = target.json, !json.valueStarts.isEmpty {
        kinds.append((6, { b, r in damageJSON(&b, json, target, using: &r) }))
    }
    let total = kinds.reduce(0) { $0 + $1.weight }
    var pick = Int.random(in: 0..<total, using: &rng)
    for kind in kinds {
        if pick < kind.weight { return kind.apply(&bytes, &rng) }
        pick -= kind.weight
    }
    return "none"
}

// MARK: - Bytes

private func flipBits(_ b: inout [UInt8], below structureEnd: Int, using rng: inout Xoshiro256StarStar) -> String {
    let end = min(structureEnd, b.count)
    guard end > 0 else { return "no bits to flip" }
    let flips = Int.random(in: 1...8, using: &rng)
    var at: [Int] = []
    for _ in 0..<flips {
        let i = Int.random(in: 0..<end, using: &rng)
        b[i] ^= 1 << UInt8.random(in: 0..<8, using: &rng)
        at.append(i)
    }
    return "bits flipped at bytes \(at.map(String.init).joined(separator: ","))"
}

private func setBytes(_ b: inout [UInt8], below structureEnd: Int, using rng: inout Xoshiro256StarStar) -> String {
    let end = min(structureEnd, b.count)
    guard end > 0 else { return "no bytes to set" }
    let i = Int.random(in: 0..<end, using: &rng)
    let run = min(Int.random(in: 1...8, using: &rng), end - i)
    let value = [0x00, 0xFF, 0x7F, 0x80, UInt8.random(in: 0...255, using: &rng)].randomElement(using: &rng)!
    for j in i..<(i + run) { b[j] = value }
    return "bytes \(i)..<\(i + run) ← 0x\(String(value, radix: 16))"
}

private func truncate(_ b: inout [UInt8], _ target: Target, using rng: inout Xoshiro256StarStar) -> String {
    // Half the cuts land in the structure, the rest anywhere (in the data, or a few bytes off the end).
    let length: Int
    switch Int.random(in: 0..<4, using: &rng) {
    case 0, 1: length = Int.random(in: 0...max(0, min(b.count, target.structureEnd)), using: &rng)
    case 2: length = max(0, b.count - Int.random(in: 1...16, using: &rng))
    default: length = Int.random(in: 0...b.count, using: &rng)
    }
    b.removeLast(b.count - min(length, b.count))
    return "truncated to \(b.count) bytes"
}

private func extend(_ b: inout [UInt8], using rng: inout Xoshiro256StarStar) -> String {
    let count = [1, 7, 8, 32, Int.random(in: 1...4096, using: &rng)].randomElement(using: &rng)!
    for _ in 0..<count { b.append(UInt8.random(in: 0...255, using: &rng)) }
    return "\(count) random bytes appended"
}

// MARK: - Fields

/// Values that sit on the edges of 8-, 16-, 32- and 64-bit arithmetic, and of the file's size.
private func extremeValues(original: UInt64, fileSize: Int, fieldOffset: Int) -> [UInt64] {
    let size = UInt64(fileSize)
    return [0, 1, 2, 3, 7, 8, 13, 16, 31, 32, 33, 64, 255, 256, 0x7FFF, 0xFFFF, 0x1_0000,
            0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF, 0x1_0000_0000, 1 << 40, 1 << 48,
            UInt64(Int64.max), UInt64(Int64.max) - 7, 1 << 63, UInt64.max, UInt64.max - 1,
            size, size &- 1, size &+ 1, size &- UInt64(fieldOffset), size / 2,
            original &+ 1, original &- 1, original &* 2, original / 2, original &+ 32, original &- 32]
}

private func extremeField(_ b: inout [UInt8], _ fields: [Field], fileSize: Int,
                          using rng: inout Xoshiro256StarStar) -> String {
    let field = fields.randomElement(using: &rng)!
    guard field.offset + field.width <= b.count else { return "field \(field.role) past the end" }
    var original: UInt64 = 0
    for i in 0..<field.width { original |= UInt64(b[field.offset + i]) << (8 * UInt64(i)) }
    var value = extremeValues(original: original, fileSize: fileSize, fieldOffset: field.offset).randomElement(using: &rng)!
    if Int.random(in: 0..<8, using: &rng) == 0 { value = original ^ (1 << UInt64.random(in: 0..<UInt64(8 * field.width), using: &rng)) }
    if field.width == 4 { value &= 0xFFFF_FFFF }
    for i in 0..<field.width { b[field.offset + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))) }
    return "\(field.role) ← \(value)"
}

// MARK: - JSON

/// Number texts on the edges of Int, Int32, Double and the file's size.
private func extremeNumbers(fileSize: Int) -> [String] {
    ["0", "-0", "1", "-1", "2", "3", "255", "65536", "2147483647", "2147483648", "-2147483649", "4294967296",
     "9007199254740993", "9223372036854775806", "9223372036854775807", "9223372036854775808",
     "-9223372036854775808", "18446744073709551616", "1e308", "1e309", "-1e309", "1.5", "0.0", "1e-320",
     "100000000000", "1000000000000000000000000000000", "\(fileSize)", "\(fileSize + 1)", "0.5e1", "1E2"]
}

/// What a value may be replaced by: every other kind of JSON value, and some that are not JSON.
private let replacementValues = ["null", "true", "false", "\"\"", "\"x\"", "[]", "{}", "[0]", "{\"a\":1}",
                                 "\"\\ud800\"", "\"\\u0000\"", "\"\\\"", "nul", "[", "{", "\"", "-", "01", "+1", ".5", "NaN"]

private func damageJSON(_ b: inout [UInt8], _ tokens: JSONTokens, _ target: Target,
                        using rng: inout Xoshiro256StarStar) -> String {
    // The tokens were found in the original bytes; after earlier damage a range may be past the end.
    func fits(_ r: Range<Int>) -> Bool { r.upperBound <= b.count }
    enum Damage { case number, value, string, structure, repeated, nesting, deletion }
    var damages: [Damage] = [.value, .repeated, .nesting, .deletion]
    if !tokens.numbers.isEmpty { damages += [.number, .number, .number] }
    if !tokens.strings.isEmpty { damages.append(.string) }
    if !tokens.structural.isEmpty { damages.append(.structure) }
    var description: String
    switch damages.randomElement(using: &rng)! {
    case .number:
        let r = tokens.numbers.randomElement(using: &rng)!
        guard fits(r) else { return "number past the end" }
        let original = Int(String(decoding: b[r], as: UTF8.self)) ?? 0
        let texts = extremeNumbers(fileSize: target.bytes.count) + ["\(original &+ 1)", "\(original &- 1)", "\(original &* 2)", "\(original &* 1_000_003)"]
        let text = texts.randomElement(using: &rng)!
        b.replaceSubrange(r, with: Array(text.utf8))
        description = "number at byte \(r.lowerBound) ← \(text)"
    case .value:
        let start = tokens.valueStarts.randomElement(using: &rng)!
        guard start < b.count else { return "value past the end" }
        let end = valueEnd(b, from: start)
        let text = replacementValues.randomElement(using: &rng)!
        b.replaceSubrange(start..<end, with: Array(text.utf8))
        description = "value at byte \(start) ← \(text)"
    case .string:
        let r = tokens.strings.randomElement(using: &rng)!
        guard fits(r), r.count >= 2 else { return "string past the end" }
        let damage: [[UInt8]] = [[0xFF], [0xC3], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0x0A], [0x5C], [0x00]]
        let bytes = damage.randomElement(using: &rng)!
        let at = Int.random(in: (r.lowerBound + 1)..<r.upperBound, using: &rng)
        b.insert(contentsOf: bytes, at: at)
        description = "bytes \(bytes.map { String($0, radix: 16) }) inserted in a string at byte \(at)"
    case .structure:
        let at = tokens.structural.randomElement(using: &rng)!
        guard at < b.count else { return "structure past the end" }
        let choices = "{}[],:\"".utf8.map { $0 }
        if Bool.random(using: &rng) {
            b.remove(at: at)
            description = "character at byte \(at) deleted"
        } else {
            let c = choices.randomElement(using: &rng)!
            b[at] = c
            description = "character at byte \(at) ← '\(Unicode.Scalar(c))'"
        }
    case .repeated:
        // A span repeated: duplicate members, doubled arrays, runaway text.
        let start = tokens.valueStarts.randomElement(using: &rng)!
        guard start < b.count else { return "span past the end" }
        let end = min(b.count, start + Int.random(in: 1...256, using: &rng))
        let copies = [1, 2, 16].randomElement(using: &rng)!
        let span = Array(b[start..<end])
        for _ in 0..<copies { b.insert(contentsOf: span, at: start) }
        description = "bytes \(start)..<\(end) repeated \(copies)×"
    case .nesting:
        let start = tokens.valueStarts.randomElement(using: &rng)!
        guard start < b.count else { return "nesting past the end" }
        let depth = [64, 129, 600, 100_000].randomElement(using: &rng)!
        let open: [UInt8] = Bool.random(using: &rng) ? Array("[".utf8) : Array("{\"a\":".utf8)
        var nest: [UInt8] = []
        for _ in 0..<depth { nest += open }
        b.insert(contentsOf: nest, at: start)
        description = "\(depth) levels of \(String(decoding: open, as: UTF8.self)) inserted at byte \(start)"
    case .deletion:
        let start = tokens.valueStarts.randomElement(using: &rng)!
        guard start < b.count else { return "deletion past the end" }
        let end = min(b.count, start + Int.random(in: 1...64, using: &rng))
        b.removeSubrange(start..<end)
        description = "bytes \(start)..<\(end) deleted"
    }
    if target.kind == .safetensors { description += refitHeaderLength(&b, target, using: &rng) }
    return description
}

/// The end of the JSON value starting at `start` (balanced brackets, strings skipped), or a guess.
private func valueEnd(_ b: [UInt8], from start: Int) -> Int {
    var depth = 0, i = start, inString = false
    while i < b.count {
        let c = b[i]
        if inString {
            if c == UInt8(ascii: "\\") { i += 1 } else if c == UInt8(ascii: "\"") { inString = false; if depth == 0 { return i + 1 } }
        } else if c == UInt8(ascii: "\"") {
            inString = true
        } else if c == UInt8(ascii: "{") || c == UInt8(ascii: "[") {
            depth += 1
        } else if c == UInt8(ascii: "}") || c == UInt8(ascii: "]") {
            depth -= 1
            if depth <= 0 { return depth == 0 ? i + 1 : i }
        } else if depth == 0, c == UInt8(ascii: ",") || c == UInt8(ascii: " ") || c == UInt8(ascii: "\n") {
            return i
        }
        i += 1
    }
    return b.count
}

/// A safetensors header changed length: mostly the length field is corrected (and the header padded
/// with spaces to a multiple of 8, as writers do), so the damage reaches the JSON; sometimes not.
private func refitHeaderLength(_ b: inout [UInt8], _ target: Target, using rng: inout Xoshiro256StarStar) -> String {
    let grown = b.count - target.bytes.count
    let oldEnd = target.structureEnd
    guard Int.random(in: 0..<4, using: &rng) != 0, oldEnd + grown >= 8, oldEnd + grown <= b.count else {
        return " (header length left as it was)"
    }
    var headerEnd = oldEnd + grown
    while (headerEnd - 8) % 8 != 0 { b.insert(UInt8(ascii: " "), at: headerEnd); headerEnd += 1 }
    let length = UInt64(headerEnd - 8)
    for i in 0..<8 { b[i] = UInt8(truncatingIfNeeded: length >> (8 * UInt64(i))) }
    return " (header length refitted to \(length))"
}
