// GGUF metadata values: the 13 value types of the GGUF specification (ggml/docs/gguf.md,
// `gguf_metadata_value_type`) and typed accessors for reading `llama.*` and `tokenizer.ggml.*` keys.

// MARK: - Value types

/// A GGUF metadata value type id as stored in the file (u32).
package enum GGUFValueType: UInt32, Sendable, CaseIterable, CustomStringConvertible {
    case uint8 = 0, int8 = 1, uint16 = 2, int16 = 3, uint32 = 4, int32 = 5, float32 = 6, bool = 7
    case string = 8, array = 9, uint64 = 10, int64 = 11, float64 = 12

    /// The fewest bytes one value of this type takes in the file: what a count is checked against
    /// before anything is allocated. A string is at least its u64 length; an array at least its
    /// element type (u32) and count (u64).
    package var minimumByteCount: Int {
        switch self {
        case .uint8, .int8, .bool: 1
        case .uint16, .int16: 2
        case .uint32, .int32, .float32: 4
        case .uint64, .int64, .float64, .string: 8
        case .array: 12
        }
    }

    package var description: String {
        switch self {
        case .uint8: "uint8"
        case .int8: "int8"
        case .uint16: "uint16"
        case .int16: "int16"
        case .uint32: "uint32"
        case .int32: "int32"
        case .float32: "float32"
        case .bool: "bool"
        case .string: "string"
        case .array: "array"
        case .uint64: "uint64"
        case .int64: "int64"
        case .float64: "float64"
        }
    }
}

// MARK: - Values

/// One metadata value. Arrays keep their element type, so an empty array still says what it holds.
package enum GGUFValue: Sendable, Equatable {
    case uint8(UInt8), int8(Int8), uint16(UInt16), int16(Int16)
    case uint32(UInt32), int32(Int32), uint64(UInt64), int64(Int64)
    case float32(Float), float64(Double)
    case bool(Bool)
    case string(String)
    case array(GGUFValueType, [GGUFValue])

    package var type: GGUFValueType {
        switch self {
        case .uint8: .uint8
        case .int8: .int8
        case .uint16: .uint16
        case .int16: .int16
        case .uint32: .uint32
        case .int32: .int32
        case .uint64: .uint64
        case .int64: .int64
        case .float32: .float32
        case .float64: .float64
        case .bool: .bool
        case .string: .string
        case .array: .array
        }
    }

    /// Any integer type, exactly (nil for a float, or a UInt64 above `Int.max`).
    package var int: Int? {
        switch self {
        case .uint8(let v): Int(v)
        case .int8(let v): Int(v)
        case .uint16(let v): Int(v)
        case .int16(let v): Int(v)
        case .uint32(let v): Int(v)
        case .int32(let v): Int(v)
        case .uint64(let v): Checked.int(v)
        case .int64(let v): Int(v)
        default: nil
        }
    }

    /// A float32 or float64, exactly.
    package var double: Double? {
        switch self {
        case .float32(let v): Double(v)
        case .float64(let v): v
        default: nil
        }
    }

    /// A float32, or a float64 rounded to Float.
    package var float: Float? { double.map(Float.init) }

    package var bool: Bool? { if case .bool(let v) = self { v } else { nil } }
    package var string: String? { if case .string(let v) = self { v } else { nil } }
    package var array: [GGUFValue]? { if case .array(_, let v) = self { v } else { nil } }

    /// An array of strings (e.g. `tokenizer.ggml.tokens`).
    package var strings: [String]? {
        guard case .array(.string, let elements) = self else { return nil }
        return elements.map { if case .string(let s) = $0 { s } else { "" } }
    }

    /// An array of integers of any integer type (e.g. `tokenizer.ggml.token_type`).
    package var ints: [Int]? {
        guard case .array(_, let elements) = self else { return nil }
        var result: [Int] = []
        result.reserveCapacity(elements.count)
        for element in elements {
            guard let v = element.int else { return nil }
            result.append(v)
        }
        return result
    }

    /// An array of float32 or float64 (e.g. `tokenizer.ggml.scores`).
    package var floats: [Float]? {
        guard case .array(_, let elements) = self else { return nil }
        var result: [Float] = []
        result.reserveCapacity(elements.count)
        for element in elements {
            guard let v = element.float else { return nil }
            result.append(v)
        }
        return result
    }

    /// A short rendering for messages and `inspect` ("uint32 32", "array of 49152 string").
    package var summary: String {
        switch self {
        case .string(let s): "string \"\(s.count > 60 ? String(s.prefix(60)) + "…" : s)\""
        case .array(let type, let elements): "array of \(elements.count) \(type)"
        case .uint8(let v): "uint8 \(v)"
        case .int8(let v): "int8 \(v)"
        case .uint16(let v): "uint16 \(v)"
        case .int16(let v): "int16 \(v)"
        case .uint32(let v): "uint32 \(v)"
        case .int32(let v): "int32 \(v)"
        case .uint64(let v): "uint64 \(v)"
        case .int64(let v): "int64 \(v)"
        case .float32(let v): "float32 \(v)"
        case .float64(let v): "float64 \(v)"
        case .bool(let v): "bool \(v)"
        }
    }
}
