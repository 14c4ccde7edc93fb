// Safetensors reading: one file, and a sharded Hugging Face checkpoint (model.safetensors.index.json),
// memory-mapped. Format: github.com/huggingface/safetensors (README "Format"); the checks follow its
// reference parser (`Metadata::validate`) and are stricter where it is silent (duplicate names).
//
//   ┌────────────────┬─────────────────────────────┬──────────────────────────────────────────┐
//   │ N : u64 LE (8) │ header : N bytes, JSON      │ data section : the rest of the file      │
//   └────────────────┴─────────────────────────────┴──────────────────────────────────────────┘
//   header = { "__metadata__": { string: string }  (optional),
//              "<name>": { "dtype": "BF16", "shape": [d0, d1, …], "data_offsets": [begin, end] }, … }
//
// `data_offsets` count bytes from the start of the data section. The tensors tile the data section
// exactly: sorted by offset, each begins where the previous ended (no holes, no overlaps), the last
// ends at the end of the file, and `end − begin = product(shape) × dtype size`. Data are row-major,
// little-endian. The header may be padded with trailing spaces (writers align the data to 8 bytes).
import Tensor

// MARK: - Dtypes

/// The element types a safetensors file may hold (the ones this project knows).
package enum SafetensorsDType: String, Sendable, CaseIterable {
    case float64 = "F64", float32 = "F32", float16 = "F16", bfloat16 = "BF16"
    case int64 = "I64", int32 = "I32", int16 = "I16", int8 = "I8", uint8 = "U8", bool = "BOOL"

    /// Bytes per element.
    package var byteCount: Int {
        switch self {
        case .float64, .int64: 8
        case .float32, .int32: 4
        case .float16, .bfloat16, .int16: 2
        case .int8, .uint8, .bool: 1
        }
    }

    /// The stored-tensor encoding for the dtypes kernels read in place (F32, F16, BF16).
    package var scalarEncoding: ScalarEncoding? {
        switch self {
        case .float32: .float32
        case .float16: .float16
        case .bfloat16: .bfloat16
        default: nil
        }
    }
}

/// One tensor's entry in a safetensors header.
package struct SafetensorsTensorInfo: Sendable, Equatable {
    package let name: String
    package let dtype: SafetensorsDType
    package let shape: [Int]
    /// Byte range within the data section (the header's `data_offsets`).
    package let dataOffsets: Range<Int>

    package var count: Int { shape.reduce(1, *) }
}

// MARK: - Errors

/// Everything that can be wrong with a safetensors file or a sharded checkpoint's index. Each case
/// names the file, the tensor where there is one, what was found and what was expected.
public enum SafetensorsError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Shorter than the 8-byte header length.
    case truncated(file: String, fileSize: Int, needed: Int)
    /// The header length is over the limit (`SafetensorsFile.maximumHeaderLength`).
    case headerTooLarge(file: String, headerLength: UInt64, limit: Int)
    /// The header length runs past the end of the file.
    case headerPastEnd(file: String, headerLength: UInt64, available: Int)
    /// The header bytes are not JSON (or not UTF-8).
    case headerNotJSON(file: String, reason: String)
    /// The header is JSON but not an object.
    case headerNotObject(file: String, found: String)
    /// `__metadata__` is not an object of strings.
    case metadataNotStrings(file: String, key: String?, found: String)
    /// A tensor entry, or one of its fields, is missing or of the wrong kind.
    case malformedEntry(file: String, tensor: String, field: String, found: String, expected: String)
    /// A dtype not in `SafetensorsDType`.
    case unknownDtype(file: String, tensor: String, found: String, expected: [String])
    /// A tensor name appears twice (in a header, or in a sharded checkpoint's index).
    case duplicateTensor(file: String, tensor: String)
    /// `product(shape) × dtype size` does not fit in an `Int`.
    case shapeOverflow(file: String, tensor: String, shape: [Int], dtype: String)
    /// `data_offsets` reversed or outside the data section.
    case offsetsOutOfRange(file: String, tensor: String, begin: Int, end: Int, dataSize: Int)
    /// `end − begin ≠ product(shape) × dtype size`.
    case byteCountMismatch(file: String, tensor: String, shape: [Int], dtype: String, expected: Int, found: Int)
    /// Two tensors share bytes.
    case overlappingTensors(file: String, tensor: String, range: Range<Int>, other: String, otherRange: Range<Int>)
    /// Bytes of the data section that belong to no tensor (`before` is nil at the end of the file).
    case hole(file: String, range: Range<Int>, before: String?)
    /// A tensor asked for by name is not in the file (or checkpoint).
    case tensorNotFound(file: String, tensor: String)
    /// A dtype that cannot be read as the kind of tensor asked for.
    case wrongDtype(file: String, tensor: String, found: String, expected: [String])
    /// A sharded checkpoint's index is not what Hugging Face writes.
    case malformedIndex(file: String, reason: String)
    /// A shard holds a tensor the index does not list for it.
    case tensorNotInIndex(file: String, tensor: String, index: String)
    /// Writing: the values given do not fill the shape.
    case valueCountMismatch(tensor: String, shape: [Int], expected: Int, found: Int)

    public var description: String {
        switch self {
        case let .truncated(file, size, needed):
            "\(file): truncated: \(size) bytes, but a safetensors file starts with an \(needed)-byte header length"
        case let .headerTooLarge(file, length, limit):
            "\(file): header length \(length) bytes is over the limit of \(limit) bytes"
        case let .headerPastEnd(file, length, available):
            "\(file): header length \(length) bytes runs past the end of the file (\(available) bytes follow the length)"
        case let .headerNotJSON(file, reason):
            "\(file): header is not JSON: \(reason)"
        case let .headerNotObject(file, found):
            "\(file): header is \(found), expected a JSON object"
        case let .metadataNotStrings(file, key, found):
            if let key {
                "\(file): __metadata__ entry '\(key)' is \(found), expected a string"
            } else {
                "\(file): __metadata__ is \(found), expected an object of strings"
            }
        case let .malformedEntry(file, tensor, field, found, expected):
            "\(file): tensor '\(tensor)': \(field) is \(found), expected \(expected)"
        case let .unknownDtype(file, tensor, found, expected):
            "\(file): tensor '\(tensor)': unknown dtype \"\(found)\", expected one of \(expected.joined(separator: ", "))"
        case let .duplicateTensor(file, tensor):
            "\(file): tensor name '\(tensor)' appears more than once, expected unique names"
        case let .shapeOverflow(file, tensor, shape, dtype):
            "\(file): tensor '\(tensor)': shape \(shape) of \(dtype) is too large to address"
        case let .offsetsOutOfRange(file, tensor, begin, end, dataSize):
            "\(file): tensor '\(tensor)': data_offsets [\(begin), \(end)] outside the data section of \(dataSize) bytes"
        case let .byteCountMismatch(file, tensor, shape, dtype, expected, found):
            "\(file): tensor '\(tensor)': data_offsets span \(found) bytes, expected \(expected) for shape \(shape) of \(dtype)"
        case let .overlappingTensors(file, tensor, range, other, otherRange):
            "\(file): tensor '\(tensor)' (bytes \(range.lowerBound)..<\(range.upperBound)) overlaps tensor '\(other)' (bytes \(otherRange.lowerBound)..<\(otherRange.upperBound)), expected no overlaps"
        case let .hole(file, range, before):
            "\(file): bytes \(range.lowerBound)..<\(range.upperBound) of the data section belong to no tensor "
                + (before.map { "(before tensor '\($0)')" } ?? "(after the last tensor)") + ", expected no holes"
        case let .tensorNotFound(file, tensor):
            "\(file): no tensor named '\(tensor)'"
        case let .wrongDtype(file, tensor, found, expected):
            "\(file): tensor '\(tensor)' has dtype \(found), expected one of \(expected.joined(separator: ", "))"
        case let .malformedIndex(file, reason):
            "\(file): not a safetensors index: \(reason)"
        case let .tensorNotInIndex(file, tensor, index):
            "\(file): holds tensor '\(tensor)', which \(index) does not list for this shard"
        case let .valueCountMismatch(tensor, shape, expected, found):
            "tensor '\(tensor)': \(found) values given, expected \(expected) for shape \(shape)"
        }
    }
}

// MARK: - One file

/// A safetensors file, memory-mapped and checked on opening.
package final class SafetensorsFile: Sendable {
    /// Headers above this are rejected (the reference parser's limit, 100 MB).
    package static let maximumHeaderLength = 100_000_000

    package let path: String
    /// Tensor names in the order of their bytes in the file.
    package let names: [String]
    /// The header's `__metadata__` (empty when absent).
    package let metadata: [String: String]
    /// Byte offset of the data section from the start of the file (8 + header length).
    package let dataStart: Int

    private let file: MappedFile
    private let infos: [String: SafetensorsTensorInfo]

    package convenience init(path: String) throws {
        try self.init(file: MappedFile(path: path))
    }

    package init(file: MappedFile) throws(SafetensorsError) {
        let path = file.path
        self.file = file
        self.path = path

        // 8-byte little-endian header length, then the header.
        var reader = ByteReader(file.bytes)
        guard let rawLength = try? reader.uint64("header length") else {
            throw .truncated(file: path, fileSize: file.count, needed: 8)
        }
        guard rawLength <= UInt64(Self.maximumHeaderLength) else {
            throw .headerTooLarge(file: path, headerLength: rawLength, limit: Self.maximumHeaderLength)
        }
        let headerLength = Int(rawLength)
        guard let headerBytes = try? reader.bytes(headerLength, "header") else {
            throw .headerPastEnd(file: path, headerLength: rawLength, available: reader.remaining)
        }
        dataStart = 8 + headerLength
        let dataSize = file.count - dataStart

        let header: JSONValue
        do { header = try JSON.parse(headerBytes) } catch {
            throw .headerNotJSON(file: path, reason: error.description)
        }
        guard let members = header.objectMembers else {
            throw .headerNotObject(file: path, found: header.kindDescription)
        }

        // Each entry: dtype, shape, data_offsets, checked one by one.
        var metadata: [String: String] = [:]
        var infos: [String: SafetensorsTensorInfo] = [:]
        var ordered: [SafetensorsTensorInfo] = []
        var seenMetadata = false
        for (name, value) in members {
            if name == "__metadata__" {
                if seenMetadata { throw .duplicateTensor(file: path, tensor: name) }
                seenMetadata = true
                metadata = try Self.metadata(value, file: path)
                continue
            }
            if infos[name] != nil { throw .duplicateTensor(file: path, tensor: name) }
            let info = try Self.tensorInfo(name: name, value, file: path, dataSize: dataSize)
            infos[name] = info
            ordered.append(info)
        }

        // The tensors must tile the data section: sorted by offset, each starts where the last ended.
        ordered.sort { ($0.dataOffsets.lowerBound, $0.dataOffsets.upperBound) < ($1.dataOffsets.lowerBound, $1.dataOffsets.upperBound) }
        var cursor = 0
        var previous: SafetensorsTensorInfo?
        for info in ordered {
            let range = info.dataOffsets
            if range.lowerBound < cursor, let previous {
                throw .overlappingTensors(file: path, tensor: info.name, range: range,
                                          other: previous.name, otherRange: previous.dataOffsets)
            }
            if range.lowerBound > cursor {
                throw .hole(file: path, range: cursor..<range.lowerBound, before: info.name)
            }
            cursor = range.upperBound
            previous = info
        }
        if cursor != dataSize { throw .hole(file: path, range: cursor..<dataSize, before: nil) }

        self.metadata = metadata
        self.infos = infos
        self.names = ordered.map(\.name)
    }

    private static func metadata(_ value: JSONValue, file: String) throws(SafetensorsError) -> [String: String] {
        guard let members = value.objectMembers else {
            throw .metadataNotStrings(file: file, key: nil, found: value.kindDescription)
        }
        var result: [String: String] = [:]
        for (key, entry) in members {
            guard let text = entry.stringValue else {
                throw .metadataNotStrings(file: file, key: key, found: entry.kindDescription)
            }
            result[key] = text
        }
        return result
    }

    private static func tensorInfo(name: String, _ value: JSONValue, file: String,
                                   dataSize: Int) throws(SafetensorsError) -> SafetensorsTensorInfo {
        func malformed(_ field: String, _ found: JSONValue?, _ expected: String) -> SafetensorsError {
            .malformedEntry(file: file, tensor: name, field: field,
                            found: found?.kindDescription ?? "missing", expected: expected)
        }
        guard value.objectMembers != nil else { throw malformed("the entry", value, "an object") }

        guard let dtypeName = value["dtype"]?.stringValue else {
            throw malformed("dtype", value["dtype"], "a string")
        }
        guard let dtype = SafetensorsDType(rawValue: dtypeName) else {
            throw .unknownDtype(file: file, tensor: name, found: dtypeName,
                                expected: SafetensorsDType.allCases.map(\.rawValue))
        }

        guard let shapeValues = value["shape"]?.arrayValue else {
            throw malformed("shape", value["shape"], "an array of non-negative integers")
        }
        var shape: [Int] = []
        for dimension in shapeValues {
            guard let d = dimension.integerValue, d >= 0 else {
                throw malformed("a dimension of shape", dimension, "a non-negative integer")
            }
            shape.append(d)
        }

        guard let offsets = value["data_offsets"]?.arrayValue, offsets.count == 2,
              let begin = offsets[0].integerValue, let end = offsets[1].integerValue, begin >= 0, end >= 0 else {
            throw malformed("data_offsets", value["data_offsets"], "two non-negative integers [begin, end]")
        }
        guard begin <= end, end <= dataSize else {
            throw .offsetsOutOfRange(file: file, tensor: name, begin: begin, end: end, dataSize: dataSize)
        }
        guard let count = Checked.product(shape), let bytes = Checked.multiply(count, dtype.byteCount) else {
            throw .shapeOverflow(file: file, tensor: name, shape: shape, dtype: dtype.rawValue)
        }
        guard end - begin == bytes else {
            throw .byteCountMismatch(file: file, tensor: name, shape: shape, dtype: dtype.rawValue,
                                     expected: bytes, found: end - begin)
        }
        return SafetensorsTensorInfo(name: name, dtype: dtype, shape: shape, dataOffsets: begin..<end)
    }

    // MARK: Lookups

    package func contains(_ name: String) -> Bool { infos[name] != nil }

    /// Dtype, shape and byte range of a tensor.
    package func info(_ name: String) throws(SafetensorsError) -> SafetensorsTensorInfo {
        guard let info = infos[name] else { throw .tensorNotFound(file: path, tensor: name) }
        return info
    }

    /// The tensor's bytes in the mapping (no copy).
    package func rawBytes(_ name: String) throws(SafetensorsError) -> UnsafeRawBufferPointer {
        let range = try info(name).dataOffsets
        return UnsafeRawBufferPointer(rebasing: file.bytes[(dataStart + range.lowerBound)..<(dataStart + range.upperBound)])
    }

    /// An F32, F16 or BF16 tensor viewed in place, decoded to Float when read.
    package func storedTensor(_ name: String) throws(SafetensorsError) -> StoredTensor {
        let info = try info(name)
        guard let encoding = info.dtype.scalarEncoding else {
            throw .wrongDtype(file: path, tensor: name, found: info.dtype.rawValue,
                              expected: ScalarEncoding.allCases.map(\.rawValue))
        }
        return StoredTensor(shape: info.shape, encoding: encoding, bytes: try rawBytes(name), owner: file)
    }

    /// A 2-D F32, F16 or BF16 tensor viewed in place; an F64 one decoded to Float (rounded to
    /// nearest); nil when the tensor is not 2-D.
    package func matrix(_ name: String) throws(SafetensorsError) -> WeightMatrix? {
        let info = try info(name)
        guard info.shape.count == 2 else { return nil }
        if info.dtype == .float64 { return WeightMatrix(try tensor(name)) }
        let stored = try storedTensor(name)
        return WeightMatrix(rows: info.shape[0], columns: info.shape[1], encoding: WeightEncoding(stored.encoding),
                            bytes: stored.bytes, owner: self)
    }

    /// A floating-point tensor (F64, F32, F16 or BF16) decoded to Float. F64 rounds to nearest.
    package func tensor(_ name: String) throws(SafetensorsError) -> Tensor {
        let info = try info(name)
        if info.dtype == .float64 {
            let bytes = try rawBytes(name)
            let scalars = (0..<info.count).map { i in
                Float(Double(bitPattern: UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self))))
            }
            return Tensor(shape: info.shape, scalars: scalars)
        }
        guard info.dtype.scalarEncoding != nil else {
            throw .wrongDtype(file: path, tensor: name, found: info.dtype.rawValue, expected: ["F64", "F32", "F16", "BF16"])
        }
        return try storedTensor(name).decoded()
    }
}
