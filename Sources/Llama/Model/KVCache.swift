// The key/value cache of incremental decoding: for each layer, the rotated keys and the values of
// every position seen so far. Decoding one token against it equals recomputing the whole prefix.
import Tensor

// S cached positions · G kv heads · Dh head dim

public struct KVCache: Sendable {
    /// Per layer, row-major (capacity, G·Dh); rows `0..<count` are filled.
    var keys: [[Float]]
    var values: [[Float]]
    public private(set) var count: Int = 0
    public let capacity: Int
    let width: Int                       // G·Dh

    public init(config: Config, capacity: Int) {
        self.capacity = capacity
        width = config.kvHeadCount * config.headDim
        keys = Array(repeating: [Float](repeating: 0, count: capacity * width), count: config.layerCount)
        values = keys
    }

    /// Appends the rows (t, G·Dh) of keys `k` and values `v` of the new tokens for `layer` at rows
    /// `count..<count+t`; `advance` commits the positions once every layer has appended.
    mutating func append(layer: Int, keys k: [Float], values v: [Float]) {
        precondition(k.count == v.count && k.count % width == 0, "keys and values must both be (t, \(width)) rows")
        let t = k.count / width
        precondition(count + t <= capacity, "KV cache full: \(count) + \(t) > \(capacity) positions")
        KVCache.copy(k, into: &keys[layer], at: count * width)
        KVCache.copy(v, into: &values[layer], at: count * width)
    }

    /// dst[offset ..< offset + src.count] = src, as one memory copy. The layer's array is written in
    /// place unless a copy of this cache still shares it (then copy-on-write gives this one its own).
    private static func copy(_ src: [Float], into dst: inout [Float], at offset: Int) {
        src.withUnsafeBufferPointer { s in
            dst.withUnsafeMutableBufferPointer { d in
                (d.baseAddress! + offset).update(from: s.baseAddress!, count: s.count)
            }
        }
    }

    mutating func advance(by t: Int) { count += t }

    /// Forgets every position (keeps the memory).
    public mutating func reset() { count = 0 }
}
