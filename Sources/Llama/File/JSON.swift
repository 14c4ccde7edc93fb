// A small JSON parser (RFC 8259) that keeps object members in file order and keeps duplicate keys,
// so the safetensors reader can list tensors in header order and report a duplicated tensor name
// (Foundation's JSONDecoder keeps neither). Integers stay exact; nesting depth is limited.

// MARK: - Values

/// A parsed JSON value. Objects keep their members in file order, duplicates included.
package indirect enum JSONValue: Sendable {
    case null
    case bool(Bool)
    /// A number written without fraction or exponent that fits in `Int`.
    case integer(Int)
    /// Any other number.
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([(key: String, value: JSONValue)])

    /// "an object", "a string", … — for error messages.
    package var kindDescription: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .integer, .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }

    /// The first member named `key` of an object.
    package subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.key == key }?.value
    }

    package var stringValue: String? { if case .string(let s) = self { s } else { nil } }
    package var integerValue: Int? { if case .integer(let i) = self { i } else { nil } }
    package var arrayValue: [JSONValue]? { if case .array(let a) = self { a } else { nil } }
    package var objectMembers: [(key: String, value: JSONValue)]? { if case .object(let m) = self { m } else { nil } }
}

/// Why a text is not JSON, and where (a byte offset into the text).
package struct JSONParseError: Error, Sendable, CustomStringConvertible {
    package let offset: Int
    package let reason: String
    package var description: String { "\(reason) at byte \(offset)" }
}

// MARK: - Parser

package enum JSON {
    /// Deepest nesting of arrays and objects accepted (a guard against stack exhaustion).
    package static let maximumDepth = 128

    /// Parses one JSON value that fills `bytes` (surrounding whitespace allowed).
    package static func parse(_ bytes: UnsafeRawBufferPointer) throws(JSONParseError) -> JSONValue {
        var parser = Parser(bytes: bytes)
        parser.skipWhitespace()
        let value = try parser.value(depth: 0)
        parser.skipWhitespace()
        if parser.position != bytes.count { throw parser.error("unexpected text after the JSON value") }
        return value
    }

    /// Parses a JSON text given as bytes.
    package static func parse(_ bytes: [UInt8]) throws(JSONParseError) -> JSONValue {
        var result: Result<JSONValue, JSONParseError> = .success(.null)
        bytes.withUnsafeBytes { raw in
            do throws(JSONParseError) { result = .success(try parse(raw)) } catch { result = .failure(error) }
        }
        return try result.get()
    }
}

private struct Parser {
    let bytes: UnsafeRawBufferPointer
    var position = 0

    init(bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    func error(_ reason: String) -> JSONParseError { JSONParseError(offset: position, reason: reason) }

    var atEnd: Bool { position >= bytes.count }
    var current: UInt8 { bytes[position] }

    mutating func skipWhitespace() {
        while !atEnd, current == 0x20 || current == 0x0A || current == 0x0D || current == 0x09 { position += 1 }
    }

    mutating func expect(_ literal: StaticString, _ result: JSONValue) throws(JSONParseError) -> JSONValue {
        let count = literal.utf8CodeUnitCount
        guard bytes.count - position >= count else { throw error("unexpected end of text") }
        for i in 0..<count where bytes[position + i] != literal.utf8Start[i] {
            throw error("unexpected character")
        }
        position += count
        return result
    }

    mutating func value(depth: Int) throws(JSONParseError) -> JSONValue {
        guard !atEnd else { throw error("unexpected end of text, expected a value") }
        switch current {
        case UInt8(ascii: "{"): return try object(depth: depth + 1)
        case UInt8(ascii: "["): return try array(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): return try expect("true", .bool(true))
        case UInt8(ascii: "f"): return try expect("false", .bool(false))
        case UInt8(ascii: "n"): return try expect("null", .null)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
        default: throw error("unexpected character '\(Unicode.Scalar(current))', expected a value")
        }
    }

    mutating func object(depth: Int) throws(JSONParseError) -> JSONValue {
        if depth > JSON.maximumDepth { throw error("nesting deeper than \(JSON.maximumDepth)") }
        position += 1                                         // {
        var members: [(key: String, value: JSONValue)] = []
        skipWhitespace()
        if !atEnd, current == UInt8(ascii: "}") { position += 1; return .object(members) }
        while true {
            skipWhitespace()
            guard !atEnd, current == UInt8(ascii: "\"") else { throw error("expected a member name in quotes") }
            let key = try string()
            skipWhitespace()
            guard !atEnd, current == UInt8(ascii: ":") else { throw error("expected ':' after a member name") }
            position += 1
            skipWhitespace()
            members.append((key, try value(depth: depth)))
            skipWhitespace()
            guard !atEnd else { throw error("unexpected end of text inside an object") }
            if current == UInt8(ascii: ",") { position += 1; continue }
            if current == UInt8(ascii: "}") { position += 1; return .object(members) }
            throw error("expected ',' or '}' in an object")
        }
    }

    mutating func array(depth: Int) throws(JSONParseError) -> JSONValue {
        if depth > JSON.maximumDepth { throw error("nesting deeper than \(JSON.maximumDepth)") }
        position += 1                                         // [
        var elements: [JSONValue] = []
        skipWhitespace()
        if !atEnd, current == UInt8(ascii: "]") { position += 1; return .array(elements) }
        while true {
            skipWhitespace()
            elements.append(try value(depth: depth))
            skipWhitespace()
            guard !atEnd else { throw error("unexpected end of text inside an array") }
            if current == UInt8(ascii: ",") { position += 1; continue }
            if current == UInt8(ascii: "]") { position += 1; return .array(elements) }
            throw error("expected ',' or ']' in an array")
        }
    }

    /// A quoted string; the text must be valid UTF-8, escapes are decoded (surrogate pairs joined).
    mutating func string() throws(JSONParseError) -> String {
        position += 1                                         // opening quote
        var utf8: [UInt8] = []
        while true {
            guard !atEnd else { throw error("unterminated string") }
            let byte = current
            switch byte {
            case UInt8(ascii: "\""):
                position += 1
                guard let text = String(validating: utf8, as: UTF8.self) else { throw error("string is not valid UTF-8") }
                return text
            case UInt8(ascii: "\\"):
                position += 1
                guard !atEnd else { throw error("unterminated escape") }
                let escape = current
                position += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): utf8.append(escape)
                case UInt8(ascii: "b"): utf8.append(0x08)
                case UInt8(ascii: "f"): utf8.append(0x0C)
                case UInt8(ascii: "n"): utf8.append(0x0A)
                case UInt8(ascii: "r"): utf8.append(0x0D)
                case UInt8(ascii: "t"): utf8.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if (0xD800..<0xDC00).contains(scalar) {       // high surrogate: a low one must follow
                        guard bytes.count - position >= 2, bytes[position] == UInt8(ascii: "\\"),
                              bytes[position + 1] == UInt8(ascii: "u") else { throw error("unpaired surrogate") }
                        position += 2
                        let low = try hex4()
                        guard (0xDC00..<0xE000).contains(low) else { throw error("unpaired surrogate") }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00..<0xE000).contains(scalar) {
                        throw error("unpaired surrogate")
                    }
                    utf8.append(contentsOf: String(Character(Unicode.Scalar(scalar)!)).utf8)
                default: throw error("unknown escape '\\\(Unicode.Scalar(escape))'")
                }
            case 0x00..<0x20:
                throw error("control character inside a string")
            default:
                utf8.append(byte)
                position += 1
            }
        }
    }

    mutating func hex4() throws(JSONParseError) -> UInt32 {
        guard bytes.count - position >= 4 else { throw error("unterminated \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let c = current
            let digit: UInt32
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(c - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(c - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(c - UInt8(ascii: "A") + 10)
            default: throw error("bad hex digit in \\u escape")
            }
            value = value * 16 + digit
            position += 1
        }
        return value
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
    mutating func number() throws(JSONParseError) -> JSONValue {
        let start = position
        func digits(_ p: inout Parser) -> Int {
            let s = p.position
            while !p.atEnd, p.current >= UInt8(ascii: "0"), p.current <= UInt8(ascii: "9") { p.position += 1 }
            return p.position - s
        }
        if current == UInt8(ascii: "-") { position += 1 }
        guard !atEnd else { throw error("unexpected end of number") }
        if current == UInt8(ascii: "0") {
            position += 1
        } else if digits(&self) == 0 {
            throw error("expected a digit")
        }
        var isInteger = true
        if !atEnd, current == UInt8(ascii: ".") {
            isInteger = false
            position += 1
            if digits(&self) == 0 { throw error("expected a digit after '.'") }
        }
        if !atEnd, current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
            isInteger = false
            position += 1
            if !atEnd, current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { position += 1 }
            if digits(&self) == 0 { throw error("expected a digit in the exponent") }
        }
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
        if isInteger, let integer = Int(text) { return .integer(integer) }
        guard let double = Double(text) else { throw JSONParseError(offset: start, reason: "number out of range") }
        return .number(double)
    }
}
