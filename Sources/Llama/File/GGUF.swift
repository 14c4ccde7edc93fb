// GGUF reading, versions 2 and 3 (ggml/docs/gguf.md; llama.cpp `gguf_init_from_file`), memory-mapped.
// Every count, length and offset is checked against the file before anything is allocated.
//
//   header       magic "GGUF" (47 47 55 46) | version: u32 | tensor_count: u64 | metadata_kv_count: u64
//   metadata     metadata_kv_count × ( key: string | value_type: u32 | value )
//   tensor infos tensor_count × ( name: string | n_dims: u32 | ne: n_dims × u64 | type: u32 | offset: u64 )
//   padding      to a multiple of `general.alignment` (u32, default 32)
//   data         each tensor at data_start + offset; offsets are multiples of the alignment
//
//   string = length: u64 | UTF-8 bytes (no terminator)      array = element_type: u32 | count: u64 | values
//   All little-endian. Version 1 (u32 counts) is not read.
//
// Dimensions are listed fastest-varying first: ne[0] is the length of a row. The row-major (PyTorch)
// shape is therefore ne reversed — a weight stored [out, in] in PyTorch has ne = [in, out].
import Tensor

// MARK: - Tensor infos

/// One tensor's entry in a GGUF file.
package struct GGUFTensorInfo: Sendable, Equatable {
    package let name: String
    package let type: GGMLType
    /// GGUF order, fastest-varying first (`ne[0]` is the row length).
    package let dimensions: [Int]
    /// Byte offset from the start of the data section.
    package let offset: Int
    /// Bytes the tensor's data take.
    package let byteCount: Int

    /// Row-major (PyTorch) shape: `dimensions` reversed.
    package var shape: [Int] { dimensions.reversed() }
    package var count: Int { dimensions.reduce(1, *) }
}

// MARK: - Errors

/// Everything that can be wrong with a GGUF file. Each case names the file, the tensor or key where
/// there is one, what was found and what was expected.
public enum GGUFError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file ended in the middle of a field.
    case truncated(file: String, reading: String, offset: Int, needed: Int, available: Int)
    case badMagic(file: String, found: [UInt8])
    case unsupportedVersion(file: String, found: UInt32, supported: [UInt32])
    /// More tensor infos than the rest of the file could hold (each takes at least 24 bytes).
    case tensorCountTooLarge(file: String, count: UInt64, maximum: Int)
    /// More metadata entries than the rest of the file could hold (each takes at least 13 bytes).
    case metadataCountTooLarge(file: String, count: UInt64, maximum: Int)
    /// A string's length runs past the end of the file.
    case stringPastEnd(file: String, reading: String, length: UInt64, available: Int)
    case invalidUTF8(file: String, reading: String)
    case unknownValueType(file: String, key: String, found: UInt32)
    /// An array's count is more than the rest of the file could hold.
    case arrayTooLong(file: String, key: String, count: UInt64, maximum: Int)
    case nestingTooDeep(file: String, key: String, limit: Int)
    /// A bool that is neither 0 nor 1.
    case invalidBool(file: String, key: String, found: UInt8)
    case duplicateKey(file: String, key: String)
    /// `general.alignment` is not a u32 power of two.
    case badAlignment(file: String, found: String)
    case tooManyDimensions(file: String, tensor: String, found: UInt32, maximum: Int)
    case shapeOverflow(file: String, tensor: String, dimensions: [UInt64])
    /// A tensor type id ggml does not define (its size cannot be known).
    case unknownTensorType(file: String, tensor: String, found: UInt32)
    /// `ne[0]` is not a whole number of the type's blocks.
    case rowNotWholeBlocks(file: String, tensor: String, rowLength: Int, type: String, blockSize: Int)
    case duplicateTensor(file: String, tensor: String)
    case misalignedTensor(file: String, tensor: String, offset: UInt64, alignment: Int)
    case tensorDataPastEnd(file: String, tensor: String, offset: UInt64, byteCount: Int, dataSize: Int)
    case overlappingTensors(file: String, tensor: String, range: Range<Int>, other: String, otherRange: Range<Int>)
    case tensorNotFound(file: String, tensor: String)
    /// A type ggml defines but this project does not dequantize.
    case unsupportedType(file: String, tensor: String, type: String, supported: [String])
    /// `storedTensor` of a tensor that is not F32, F16 or BF16.
    case notStoredAsFloat(file: String, tensor: String, type: String, expected: [String])

    public var description: String {
        switch self {
        case let .truncated(file, reading, offset, needed, available):
            "\(file): truncated while reading \(reading) at byte \(offset): needed \(needed) bytes, \(available) remain"
        case let .badMagic(file, found):
            "\(file): not a GGUF file: starts with \(found.map { String($0, radix: 16) }.joined(separator: " ")), expected 47 47 55 46 (\"GGUF\")"
        case let .unsupportedVersion(file, found, supported):
            "\(file): GGUF version \(found), expected one of \(supported.map(String.init).joined(separator: ", "))"
                + (supported.contains(found.byteSwapped) ? " (this looks like a big-endian GGUF, which is not read)" : "")
        case let .tensorCountTooLarge(file, count, maximum):
            "\(file): tensor count \(count) is more than the rest of the file could hold (at most \(maximum))"
        case let .metadataCountTooLarge(file, count, maximum):
            "\(file): metadata count \(count) is more than the rest of the file could hold (at most \(maximum))"
        case let .stringPastEnd(file, reading, length, available):
            "\(file): \(reading): string length \(length) runs past the end of the file (\(available) bytes remain)"
        case let .invalidUTF8(file, reading):
            "\(file): \(reading) is not valid UTF-8"
        case let .unknownValueType(file, key, found):
            "\(file): metadata '\(key)': unknown value type \(found), expected 0…12"
        case let .arrayTooLong(file, key, count, maximum):
            "\(file): metadata '\(key)': array count \(count) is more than the rest of the file could hold (at most \(maximum))"
        case let .nestingTooDeep(file, key, limit):
            "\(file): metadata '\(key)': arrays nested deeper than \(limit)"
        case let .invalidBool(file, key, found):
            "\(file): metadata '\(key)': bool byte \(found), expected 0 or 1"
        case let .duplicateKey(file, key):
            "\(file): metadata key '\(key)' appears more than once, expected unique keys"
        case let .badAlignment(file, found):
            "\(file): general.alignment is \(found), expected a uint32 power of two"
        case let .tooManyDimensions(file, tensor, found, maximum):
            "\(file): tensor '\(tensor)': \(found) dimensions, expected at most \(maximum)"
        case let .shapeOverflow(file, tensor, dimensions):
            "\(file): tensor '\(tensor)': dimensions \(dimensions) are too large to address"
        case let .unknownTensorType(file, tensor, found):
            "\(file): tensor '\(tensor)': unknown GGML type id \(found)"
        case let .rowNotWholeBlocks(file, tensor, rowLength, type, blockSize):
            "\(file): tensor '\(tensor)': row length \(rowLength) is not a multiple of the \(type) block size \(blockSize)"
        case let .duplicateTensor(file, tensor):
            "\(file): tensor name '\(tensor)' appears more than once, expected unique names"
        case let .misalignedTensor(file, tensor, offset, alignment):
            "\(file): tensor '\(tensor)': data offset \(offset) is not a multiple of the alignment \(alignment)"
        case let .tensorDataPastEnd(file, tensor, offset, byteCount, dataSize):
            "\(file): tensor '\(tensor)': \(byteCount) bytes at data offset \(offset) run past the end of the data section (\(dataSize) bytes)"
        case let .overlappingTensors(file, tensor, range, other, otherRange):
            "\(file): tensor '\(tensor)' (bytes \(range.lowerBound)..<\(range.upperBound)) overlaps tensor '\(other)' (bytes \(otherRange.lowerBound)..<\(otherRange.upperBound)), expected no overlaps"
        case let .tensorNotFound(file, tensor):
            "\(file): no tensor named '\(tensor)'"
        case let .unsupportedType(file, tensor, type, supported):
            "\(file): tensor '\(tensor)' has type \(type), which this project does not dequantize; supported: \(supported.joined(separator: ", "))"
        case let .notStoredAsFloat(file, tensor, type, expected):
            "\(file): tensor '\(tensor)' has type \(type), expected one of \(expected.joined(separator: ", ")) to view in place"
        }
    }
}

// MARK: - Parsing

/// A GGUF file, memory-mapped and checked on opening. Metadata is decoded; tensor data stay in the
/// mapping until asked for.
package final class GGUFFile: Sendable {
    package static let supportedVersions: [UInt32] = [2, 3]
    /// The alignment when `general.alignment` is absent.
    package static let defaultAlignment = 32
    /// ggml's GGML_MAX_DIMS.
    package static let maximumDimensions = 4
    /// Deepest array nesting accepted in metadata (real files nest at most once).
    package static let maximumArrayNesting = 16

    package let path: String
    package let version: UInt32
    package let alignment: Int
    /// Metadata keys in file order.
    package let metadataKeys: [String]
    package let metadata: [String: GGUFValue]
    /// Tensor infos in file order.
    package let tensors: [GGUFTensorInfo]
    /// Byte offset of the data section from the start of the file.
    package let dataStart: Int

    private let file: MappedFile
    private let tensorIndex: [String: Int]

    package convenience init(path: String) throws {
        try self.init(file: MappedFile(path: path))
    }

    package init(file: MappedFile) throws(GGUFError) {
        let path = file.path
        self.file = file
        self.path = path
        var p = Parser(reader: ByteReader(file.bytes), file: path)

        // Header.
        let magic = try p.bytes(4, "the magic")
        guard Array(magic) == Array("GGUF".utf8) else { throw .badMagic(file: path, found: Array(magic)) }
        version = try p.u32("the version")
        guard Self.supportedVersions.contains(version) else {
            throw .unsupportedVersion(file: path, found: version, supported: Self.supportedVersions)
        }
        let tensorCount = try p.u64("the tensor count")
        let metadataCount = try p.u64("the metadata count")
        // Smallest possible entries: a tensor info is 8 (name length) + 4 (n_dims) + 4 (type) + 8 (offset);
        // a metadata entry is 8 (key length) + 4 (value type) + 1 (a u8 value).
        let maximumTensors = p.reader.remaining / 24, maximumEntries = p.reader.remaining / 13
        guard tensorCount <= UInt64(maximumTensors) else {
            throw .tensorCountTooLarge(file: path, count: tensorCount, maximum: maximumTensors)
        }
        guard metadataCount <= UInt64(maximumEntries) else {
            throw .metadataCountTooLarge(file: path, count: metadataCount, maximum: maximumEntries)
        }

        // Metadata.
        var keys: [String] = []
        var metadata: [String: GGUFValue] = [:]
        keys.reserveCapacity(Int(metadataCount))
        for entry in 0..<Int(metadataCount) {
            let key = try p.string("the key of metadata entry \(entry)")
            let rawType = try p.u32("the value type of '\(key)'")
            guard let type = GGUFValueType(rawValue: rawType) else {
                throw .unknownValueType(file: path, key: key, found: rawType)
            }
            let value = try p.value(type, key: key, depth: 0)
            guard metadata.updateValue(value, forKey: key) == nil else { throw .duplicateKey(file: path, key: key) }
            keys.append(key)
        }
        metadataKeys = keys
        self.metadata = metadata

        var alignment = Self.defaultAlignment
        if let value = metadata["general.alignment"] {
            guard case .uint32(let a) = value, a > 0, a & (a - 1) == 0 else {
                throw .badAlignment(file: path, found: value.summary)
            }
            alignment = Int(a)
        }
        self.alignment = alignment

        // Tensor infos.
        var tensors: [GGUFTensorInfo] = []
        var tensorIndex: [String: Int] = [:]
        tensors.reserveCapacity(Int(tensorCount))
        var rawOffsets: [UInt64] = []
        for number in 0..<Int(tensorCount) {
            let name = try p.string("the name of tensor \(number)")
            let dimensionCount = try p.u32("the dimension count of '\(name)'")
            guard dimensionCount <= UInt32(Self.maximumDimensions) else {
                throw .tooManyDimensions(file: path, tensor: name, found: dimensionCount, maximum: Self.maximumDimensions)
            }
            var rawDimensions: [UInt64] = []
            for axis in 0..<Int(dimensionCount) { rawDimensions.append(try p.u64("dimension \(axis) of '\(name)'")) }
            let rawType = try p.u32("the type of '\(name)'")
            let offset = try p.u64("the data offset of '\(name)'")

            let dimensions = rawDimensions.compactMap(Checked.int)
            guard dimensions.count == rawDimensions.count, let count = Checked.product(dimensions) else {
                throw .shapeOverflow(file: path, tensor: name, dimensions: rawDimensions)
            }
            guard let type = GGMLType(rawValue: rawType) else {
                throw .unknownTensorType(file: path, tensor: name, found: rawType)
            }
            let (blockSize, blockBytes) = type.blockLayout
            let rowLength = dimensions.first ?? 1
            guard rowLength % blockSize == 0 else {
                throw .rowNotWholeBlocks(file: path, tensor: name, rowLength: rowLength,
                                         type: type.description, blockSize: blockSize)
            }
            guard let byteCount = Checked.multiply(count / blockSize, blockBytes) else {
                throw .shapeOverflow(file: path, tensor: name, dimensions: rawDimensions)
            }
            guard tensorIndex.updateValue(tensors.count, forKey: name) == nil else {
                throw .duplicateTensor(file: path, tensor: name)
            }
            rawOffsets.append(offset)
            tensors.append(GGUFTensorInfo(name: name, type: type, dimensions: dimensions,
                                          offset: Checked.int(offset) ?? Int.max, byteCount: byteCount))
        }

        // Data section: aligned after the infos; every tensor aligned, inside it, and apart.
        let dataStart = Checked.alignUp(p.reader.offset, to: alignment) ?? Int.max
        let dataSize = max(0, file.count - min(dataStart, file.count))
        for (info, rawOffset) in zip(tensors, rawOffsets) {
            guard rawOffset % UInt64(alignment) == 0 else {
                throw .misalignedTensor(file: path, tensor: info.name, offset: rawOffset, alignment: alignment)
            }
            guard let end = Checked.add(info.offset, info.byteCount), end <= dataSize else {
                throw .tensorDataPastEnd(file: path, tensor: info.name, offset: rawOffset,
                                         byteCount: info.byteCount, dataSize: dataSize)
            }
        }
        let byOffset = tensors.filter { $0.byteCount > 0 }.sorted { $0.offset < $1.offset }
        for (a, b) in zip(byOffset, byOffset.dropFirst()) where b.offset < a.offset + a.byteCount {
            throw .overlappingTensors(file: path, tensor: b.name, range: b.offset..<(b.offset + b.byteCount),
                                      other: a.name, otherRange: a.offset..<(a.offset + a.byteCount))
        }
        self.dataStart = dataStart
        self.tensors = tensors
        self.tensorIndex = tensorIndex
    }

    // MARK: Lookups

    /// Tensor names in file order.
    package var names: [String] { tensors.map(\.name) }

    package subscript(key: String) -> GGUFValue? { metadata[key] }

    package func contains(_ name: String) -> Bool { tensorIndex[name] != nil }

    package func info(_ name: String) throws(GGUFError) -> GGUFTensorInfo {
        guard let index = tensorIndex[name] else { throw .tensorNotFound(file: path, tensor: name) }
        return tensors[index]
    }

    /// The tensor's bytes in the mapping (no copy).
    package func rawBytes(_ name: String) throws(GGUFError) -> UnsafeRawBufferPointer {
        let info = try info(name)
        let start = dataStart + info.offset
        return UnsafeRawBufferPointer(rebasing: file.bytes[start..<(start + info.byteCount)])
    }

    /// An F32, F16 or BF16 tensor viewed in place (row-major shape), decoded to Float when read.
    package func storedTensor(_ name: String) throws(GGUFError) -> StoredTensor {
        let info = try info(name)
        guard let encoding = info.type.scalarEncoding else {
            throw .notStoredAsFloat(file: path, tensor: name, type: info.type.description,
                                    expected: ScalarEncoding.allCases.map(\.rawValue))
        }
        return StoredTensor(shape: info.shape, encoding: encoding, bytes: try rawBytes(name), owner: file)
    }

    /// A matrix viewed in place in its stored type (row-major shape, GGUF's own row order), or nil
    /// when the tensor is not 2-D or its rows are not whole blocks.
    package func matrix(_ name: String) throws(GGUFError) -> WeightMatrix? {
        let info = try info(name)
        guard let encoding = info.type.weightEncoding else {
            throw .unsupportedType(file: path, tensor: name, type: info.type.description,
                                   supported: GGMLType.allCases.filter(\.isDequantizable).map(\.description))
        }
        let shape = info.shape
        guard shape.count == 2, shape[1] % encoding.blockSize == 0 else { return nil }
        return WeightMatrix(rows: shape[0], columns: shape[1], encoding: encoding, bytes: try rawBytes(name), owner: self)
    }

    /// The tensor dequantized to Float, row-major shape (GGUF dimensions reversed), in GGUF's own row
    /// order (llama.cpp's Q/K row permutation, if any, is left in place).
    package func tensor(_ name: String) throws(GGUFError) -> Tensor {
        let info = try info(name)
        guard info.type.isDequantizable else {
            throw .unsupportedType(file: path, tensor: name, type: info.type.description,
                                   supported: GGMLType.allCases.filter(\.isDequantizable).map(\.description))
        }
        let scalars = dequantize(info.type, bytes: try rawBytes(name), count: info.count)
        return Tensor(shape: info.shape, scalars: scalars)
    }
}

// MARK: - Field reader

/// The byte reader with GGUF's field types, turning a short read into `GGUFError.truncated`.
private struct Parser {
    var reader: ByteReader
    let file: String

    func truncated(_ error: ByteReaderError) -> GGUFError {
        .truncated(file: file, reading: error.what, offset: error.offset, needed: error.needed, available: error.available)
    }

    mutating func bytes(_ count: Int, _ what: @autoclosure () -> String) throws(GGUFError) -> UnsafeRawBufferPointer {
        do { return try reader.bytes(count, what()) } catch { throw truncated(error) }
    }
    mutating func u8(_ what: @autoclosure () -> String) throws(GGUFError) -> UInt8 {
        do { return try reader.uint8(what()) } catch { throw truncated(error) }
    }
    mutating func u16(_ what: @autoclosure () -> String) throws(GGUFError) -> UInt16 {
        do { return try reader.uint16(what()) } catch { throw truncated(error) }
    }
    mutating func u32(_ what: @autoclosure () -> String) throws(GGUFError) -> UInt32 {
        do { return try reader.uint32(what()) } catch { throw truncated(error) }
    }
    mutating func u64(_ what: @autoclosure () -> String) throws(GGUFError) -> UInt64 {
        do { return try reader.uint64(what()) } catch { throw truncated(error) }
    }

    /// string = length: u64 | UTF-8 bytes; the length is checked against the rest of the file first.
    mutating func string(_ what: @autoclosure () -> String) throws(GGUFError) -> String {
        let length = try u64(what())
        guard let count = Checked.int(length), count <= reader.remaining else {
            throw .stringPastEnd(file: file, reading: what(), length: length, available: reader.remaining)
        }
        let utf8 = try bytes(count, what())
        guard let text = String(validating: utf8, as: UTF8.self) else { throw .invalidUTF8(file: file, reading: what()) }
        return text
    }

    mutating func value(_ type: GGUFValueType, key: String, depth: Int) throws(GGUFError) -> GGUFValue {
        switch type {
        case .uint8: return .uint8(try u8("the value of '\(key)'"))
        case .int8: return .int8(Int8(bitPattern: try u8("the value of '\(key)'")))
        case .uint16: return .uint16(try u16("the value of '\(key)'"))
        case .int16: return .int16(Int16(bitPattern: try u16("the value of '\(key)'")))
        case .uint32: return .uint32(try u32("the value of '\(key)'"))
        case .int32: return .int32(Int32(bitPattern: try u32("the value of '\(key)'")))
        case .uint64: return .uint64(try u64("the value of '\(key)'"))
        case .int64: return .int64(Int64(bitPattern: try u64("the value of '\(key)'")))
        case .float32: return .float32(Float(bitPattern: try u32("the value of '\(key)'")))
        case .float64: return .float64(Double(bitPattern: try u64("the value of '\(key)'")))
        case .bool:
            let byte = try u8("the value of '\(key)'")
            guard byte <= 1 else { throw .invalidBool(file: file, key: key, found: byte) }
            return .bool(byte == 1)
        case .string:
            return .string(try string("the value of '\(key)'"))
        case .array:
            guard depth < GGUFFile.maximumArrayNesting else {
                throw .nestingTooDeep(file: file, key: key, limit: GGUFFile.maximumArrayNesting)
            }
            let rawType = try u32("the element type of '\(key)'")
            guard let elementType = GGUFValueType(rawValue: rawType) else {
                throw .unknownValueType(file: file, key: key, found: rawType)
            }
            let count = try u64("the element count of '\(key)'")
            let maximum = reader.remaining / elementType.minimumByteCount
            guard count <= UInt64(maximum) else {
                throw .arrayTooLong(file: file, key: key, count: count, maximum: maximum)
            }
            var elements: [GGUFValue] = []
            elements.reserveCapacity(Int(count))
            for _ in 0..<Int(count) { elements.append(try value(elementType, key: key, depth: depth + 1)) }
            return .array(elementType, elements)
        }
    }
}
