// The key/value cache of incremental decoding: for each layer, the rotated keys and the values of
// every position seen so far — or, for a layer whose K and V come from a latent (LatentKV.swift),
// only the latent c of each position. Decoding one token against it equals recomputing the prefix.
import Tensor

// S cached positions · G kv heads · Dh head dim · r a layer's latent rank

public struct KVCache: Sendable {
    /// Per dense layer, row-major (capacity, G·Dh); rows `0..<count` are filled. Empty for a latent layer.
    var keys: [[Float]]
    var values: [[Float]]
    /// Per latent layer, row-major (capacity, r); empty for a dense layer.
    var latents: [[Float]]
    public private(set) var count: Int = 0
    public let capacity: Int
    let width: Int                       // G·Dh
    /// Per layer, r for a latent layer and nil for a dense one.
    let latentRanks: [Int?]

    /// A cache for `capacity` positions; layers with a latent rank hold r values per position, the
    /// others 2·G·Dh.
    public init(config: Config, capacity: Int, latentRanks: [Int?]? = nil) {
        self.capacity = capacity
        width = config.kvHeadCount * config.headDim
        let ranks = latentRanks ?? Array(repeating: nil, count: config.layerCount)
        precondition(ranks.count == config.layerCount, "\(ranks.count) latent ranks for \(config.layerCount) layers")
        self.latentRanks = ranks
        let dense = [Float](repeating: 0, count: capacity * width)
        keys = ranks.map { $0 == nil ? dense : [] }
        values = keys
        latents = ranks.map { r in r.map { [Float](repeating: 0, count: capacity * $0) } ?? [] }
    }

    /// Bytes of Float the cache holds per position: Σ over layers of 2·G·Dh (dense) or r (latent), × 4.
    public var bytesPerPosition: Int {
        latentRanks.reduce(0) { $0 + ($1 ?? 2 * width) } * MemoryLayout<Float>.stride
    }

    /// Bytes the cache's buffers hold, counted from the buffers themselves: capacity × bytesPerPosition.
    public var allocatedBytes: Int {
        (keys + values + latents).reduce(0) { $0 + $1.count } * MemoryLayout<Float>.stride
    }

    /// Appends the rows (t, G·Dh) of keys `k` and values `v` of the new tokens for `layer` at rows
    /// `count..<count+t`; `advance` commits the positions once every layer has appended.
    mutating func append(layer: Int, keys k: [Float], values v: [Float]) {
        precondition(latentRanks[layer] == nil, "layer \(layer) caches latents, not keys and values")
        precondition(k.count == v.count && k.count % width == 0, "keys and values must both be (t, \(width)) rows")
        let t = k.count / width
        precondition(count + t <= capacity, "KV cache full: \(count) + \(t) > \(capacity) positions")
        KVCache.copy(k, into: &keys[layer], at: count * width)
        KVCache.copy(v, into: &values[layer], at: count * width)
    }

    /// Appends the latent rows c (t, r) of the new tokens for a latent `layer`.
    mutating func append(layer: Int, latents c: [Float]) {
        guard let r = latentRanks[layer] else { preconditionFailure("layer \(layer) caches keys and values, not latents") }
        precondition(c.count % r == 0, "latents must be (t, \(r)) rows")
        precondition(count + c.count / r <= capacity, "KV cache full: \(count) + \(c.count / r) > \(capacity) positions")
        KVCache.copy(c, into: &latents[layer], at: count * r)
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

    /// Treats the first `positions` rows as filled, whatever they hold (zeros for a new cache): for
    /// benchmarks of decoding at a long context, whose time does not depend on the cached values.
    package mutating func assumeFilled(_ positions: Int) {
        precondition(positions >= 0 && positions <= capacity, "\(positions) positions outside the capacity \(capacity)")
        count = positions
    }
}
