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

    /// Appends `t` rows (t, G·Dh) of keys and values for `layer`; `advance` commits the positions
    /// once every layer has appended.
    mutating func append(layer: Int, keys k: UnsafePointer<Float>, values v: UnsafePointer<Float>, rows t: Int) {
        precondition(count + t <= capacity, "KV cache full: \(count) + \(t) > \(capacity) positions")
        let start = count * width
        keys[layer].withUnsafeMutableBufferPointer { dst in
            (dst.baseAddress! + start).update(from: k, count: t * width)
        }
        values[layer].withUnsafeMutableBufferPointer { dst in
            (dst.baseAddress! + start).update(from: v, count: t * width)
        }
    }

    mutating func advance(by t: Int) { count += t }

    /// Forgets every position (keeps the memory).
    public mutating func reset() { count = 0 }
}
