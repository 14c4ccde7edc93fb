// The one bounds-checked little-endian byte reader that both file formats (safetensors, GGUF) parse
// with, and the overflow-checked arithmetic they check counts and offsets with.
//
// Every read names what it was reading, so a short file becomes an error like
// "reading the tensor count at byte 16: needed 8 bytes, 3 remain" instead of a trap.

// MARK: - Errors

/// A read that would have gone past the end of the bytes.
package struct ByteReaderError: Error, Equatable, Sendable {
    /// What was being read (for example "tensor count").
    package let what: String
    /// Where the read started, in bytes from the start of the buffer.
    package let offset: Int
    /// How many bytes the read needed.
    package let needed: Int
    /// How many bytes remained from `offset`.
    package let available: Int
}

// MARK: - Reader

/// A cursor over a byte buffer. Every multi-byte value is decoded as little-endian whatever the
/// host's byte order, and no read goes past `bytes.count`.
package struct ByteReader {
    package let bytes: UnsafeRawBufferPointer
    /// The next byte to read.
    package private(set) var offset: Int

    package init(_ bytes: UnsafeRawBufferPointer, offset: Int = 0) {
        self.bytes = bytes
        self.offset = min(max(offset, 0), bytes.count)
    }

    /// Bytes left from the cursor to the end.
    package var remaining: Int { bytes.count - offset }

    /// Checks that `count` bytes remain; throws naming `what` otherwise.
    package func require(_ count: Int, _ what: @autoclosure () -> String) throws(ByteReaderError) {
        guard count >= 0, count <= remaining else {
            throw ByteReaderError(what: what(), offset: offset, needed: count, available: remaining)
        }
    }

    /// A fixed-width integer, little-endian.
    @inline(__always)
    package mutating func read<T: FixedWidthInteger>(_ type: T.Type, _ what: @autoclosure () -> String) throws(ByteReaderError) -> T {
        let size = MemoryLayout<T>.size
        try require(size, what())
        let value = T(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: T.self))
        offset += size
        return value
    }

    package mutating func uint8(_ what: @autoclosure () -> String) throws(ByteReaderError) -> UInt8 { try read(UInt8.self, what()) }
    package mutating func uint16(_ what: @autoclosure () -> String) throws(ByteReaderError) -> UInt16 { try read(UInt16.self, what()) }
    package mutating func uint32(_ what: @autoclosure () -> String) throws(ByteReaderError) -> UInt32 { try read(UInt32.self, what()) }
    package mutating func uint64(_ what: @autoclosure () -> String) throws(ByteReaderError) -> UInt64 { try read(UInt64.self, what()) }

    /// IEEE binary32, little-endian.
    package mutating func float32(_ what: @autoclosure () -> String) throws(ByteReaderError) -> Float {
        Float(bitPattern: try read(UInt32.self, what()))
    }

    /// IEEE binary64, little-endian.
    package mutating func float64(_ what: @autoclosure () -> String) throws(ByteReaderError) -> Double {
        Double(bitPattern: try read(UInt64.self, what()))
    }

    /// The next `count` bytes, as a view into the same buffer.
    package mutating func bytes(_ count: Int, _ what: @autoclosure () -> String) throws(ByteReaderError) -> UnsafeRawBufferPointer {
        try require(count, what())
        let slice = UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + count)])
        offset += count
        return slice
    }

    /// Moves the cursor forward by `count` bytes.
    package mutating func skip(_ count: Int, _ what: @autoclosure () -> String) throws(ByteReaderError) {
        try require(count, what())
        offset += count
    }
}

// MARK: - Overflow-checked arithmetic

/// Arithmetic on sizes read from a file: `nil` instead of a trap when the result does not fit.
package enum Checked {
    /// `a + b`, or nil on overflow.
    package static func add(_ a: Int, _ b: Int) -> Int? {
        let (sum, overflow) = a.addingReportingOverflow(b)
        return overflow ? nil : sum
    }

    /// `a × b`, or nil on overflow.
    package static func multiply(_ a: Int, _ b: Int) -> Int? {
        let (product, overflow) = a.multipliedReportingOverflow(by: b)
        return overflow ? nil : product
    }

    /// The product of non-negative `values` (1 for none), or nil on overflow or a negative value.
    package static func product(_ values: [Int]) -> Int? {
        var result = 1
        for value in values {
            guard value >= 0, let next = multiply(result, value) else { return nil }
            result = next
        }
        return result
    }

    /// An unsigned 64-bit value from a file as `Int`, or nil when it exceeds `Int.max`.
    package static func int(_ value: UInt64) -> Int? {
        value <= UInt64(Int.max) ? Int(value) : nil
    }

    /// The smallest multiple of `alignment` (> 0) that is ≥ `value`, or nil on overflow.
    package static func alignUp(_ value: Int, to alignment: Int) -> Int? {
        let remainder = value % alignment
        return remainder == 0 ? value : add(value, alignment - remainder)
    }
}
