// Calibration for activation-aware surgery: the second moment of each layer's attention input,
//
//   C_l = Σ_t x_t x_tᵀ        (D × D, Double)    x_t = RMSNorm(h_t) before layer l's attention,
//
// summed over the calibration tokens. Measured by watching the base model's forward pass
// (`ForwardObserver`), cached beside the model file under a key of the model and the tokens.
import Tensor
import Llama
import FoundationEssentials

/// The attention-input second moments of every layer over a calibration text.
public struct ActivationStatistics: Sendable, Equatable {
    /// D, the width of x.
    public let width: Int
    public let tokenCount: Int
    /// Per layer, C_l row-major (D × D), symmetric.
    let moments: [[Double]]

    package init(width: Int, tokenCount: Int, moments: [[Double]]) {
        self.width = width
        self.tokenCount = tokenCount
        self.moments = moments
    }

    public var layerCount: Int { moments.count }

    /// C_l, row-major D × D Doubles (for the surgeon and the tests).
    package func moment(layer: Int) -> [Double] { moments[layer] }

    /// Measures the statistics of `model` over `windows` (each a forward pass from an empty cache).
    /// `progress(windows done, windows)`.
    public static func measure(_ model: Model, windows: [[Int]],
                               progress: (Int, Int) -> Void = { _, _ in }) -> ActivationStatistics {
        let observer = MomentObserver(layers: model.config.layerCount, width: model.config.hiddenSize)
        for (done, window) in windows.enumerated() {
            _ = model.logits(window, observer: observer)
            progress(done + 1, windows.count)
        }
        return ActivationStatistics(width: model.config.hiddenSize, tokenCount: observer.tokens / max(model.config.layerCount, 1),
                                    moments: observer.moments)
    }
}

/// Accumulates C_l += Xᵀ X for each observed block X (T × D) of attention inputs. The product runs
/// in Float through Tensor's GEMM over chunks of `chunk` rows (a sum of ≤ 64 products: relative
/// rounding ~1e-7), and each chunk's result is added to the Double accumulator, so the total's
/// rounding does not grow with the token count.
final class MomentObserver: ForwardObserver {
    private(set) var moments: [[Double]]
    private(set) var tokens = 0
    private let width: Int
    private let chunk = 64
    private var transposed: [Float]
    private var product: [Float]

    init(layers: Int, width: Int) {
        self.width = width
        moments = [[Double]](repeating: [Double](repeating: 0, count: width * width), count: layers)
        transposed = [Float](repeating: 0, count: width * chunk)
        product = [Float](repeating: 0, count: width * width)
    }

    func observe(_ point: ObservationPoint, layer: Int, rows: Int, width d: Int, values: UnsafeBufferPointer<Float>) {
        guard point == .attentionInput else { return }
        precondition(d == width, "observed width \(d), expected \(width)")
        tokens += rows
        for r0 in stride(from: 0, to: rows, by: chunk) {
            let c = min(chunk, rows - r0)
            // Xᵀ of the chunk, (D × c): so that (Xᵀ)·(Xᵀ)ᵀ = XᵀX is the GEMM's A·Bᵀ form.
            for r in 0..<c {
                for j in 0..<d { transposed[j * c + r] = values[(r0 + r) * d + j] }
            }
            transposed.withUnsafeBufferPointer { xt in
                product.withUnsafeMutableBufferPointer { p in
                    gemm(m: d, n: d, k: c, a: xt.baseAddress!, lda: c, b: xt.baseAddress!, ldb: c,
                         transposeB: true, c: p.baseAddress!, ldc: d)
                }
            }
            moments[layer].withUnsafeMutableBufferPointer { m in
                for i in 0..<(d * d) { m[i] += Double(product[i]) }
            }
        }
    }
}

// MARK: - The cache file

extension ActivationStatistics {
    /// "SRGCAL01", a UInt32 header length, the header (JSON: key, layers, width, tokens), then per
    /// layer the upper triangle of C_l row by row (D(D+1)/2 little-endian Doubles).
    private static let magic = Array("SRGCAL01".utf8)

    private struct Header: Codable {
        var key: String
        var layers: Int
        var width: Int
        var tokens: Int
    }

    /// The statistics stored at `path` under `key`, or nil when the file is absent, damaged, or made for another key.
    package static func cached(at path: String, key: String) -> ActivationStatistics? {
        guard let data = FileManager.default.contents(atPath: path), data.count > 12,
              Array(data.prefix(8)) == magic else { return nil }
        let headerLength = data.subdata(in: 8..<12).withUnsafeBytes { Int(UInt32(littleEndian: $0.loadUnaligned(as: UInt32.self))) }
        guard headerLength > 0, 12 + headerLength <= data.count,
              let header = try? JSONDecoder().decode(Header.self, from: data.subdata(in: 12..<(12 + headerLength))),
              header.key == key, header.layers > 0, header.width > 0 else { return nil }
        let d = header.width, triangle = d * (d + 1) / 2
        guard data.count == 12 + headerLength + header.layers * triangle * 8 else { return nil }
        var moments: [[Double]] = []
        data.withUnsafeBytes { raw in
            var offset = 12 + headerLength
            for _ in 0..<header.layers {
                var m = [Double](repeating: 0, count: d * d)
                for i in 0..<d {
                    for j in i..<d {
                        let value = Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self)))
                        m[i * d + j] = value
                        m[j * d + i] = value
                        offset += 8
                    }
                }
                moments.append(m)
            }
        }
        return ActivationStatistics(width: d, tokenCount: header.tokens, moments: moments)
    }

    /// Writes the statistics to `path` whole (a temporary file renamed over it).
    package func write(to path: String, key: String) throws(SurgeryError) {
        var data = Data(Self.magic)
        let header: Data
        do {
            header = try JSONEncoder().encode(Header(key: key, layers: layerCount, width: width, tokens: tokenCount))
        } catch { throw .cannotWrite(path: path, reason: errorReason(error)) }
        withUnsafeBytes(of: UInt32(header.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(header)
        let d = width
        data.reserveCapacity(data.count + layerCount * d * (d + 1) / 2 * 8)
        for m in moments {
            for i in 0..<d {
                for j in i..<d { withUnsafeBytes(of: m[i * d + j].bitPattern.littleEndian) { data.append(contentsOf: $0) } }
            }
        }
        try writeWholeFile(data, to: path)
    }

    /// A cache key for a model file and calibration tokens: the file's name and size, and an FNV-1a
    /// hash of the windows' token ids.
    public static func cacheKey(modelPath: String, windows: [[Int]]) -> String {
        let size = (try? FileManager.default.attributesOfItem(atPath: modelPath)[.size]).map { "\($0)" } ?? "?"
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for window in windows {
            for token in window + [-1] {
                withUnsafeBytes(of: Int64(token).littleEndian) { for byte in $0 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 } }
            }
        }
        let name = modelPath.split(separator: "/").last.map(String.init) ?? modelPath
        return "v1|\(name)|\(size)|\(windows.count)×\(windows.first?.count ?? 0)|\(String(hash, radix: 16))"
    }

    /// The cache file for `key` beside the model file.
    public static func cachePath(modelPath: String, key: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in key.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return modelPath + ".calibration-\(String(hash, radix: 16)).stats"
    }

    /// The statistics for `windows` from the cache beside the model, else measured and cached
    /// (a cache that cannot be written is reported through `note` and costs a re-measurement next time).
    public static func load(_ model: Model, modelPath: String, windows: [[Int]],
                            progress: (Int, Int) -> Void = { _, _ in },
                            note: (String) -> Void = { _ in }) -> ActivationStatistics {
        let key = cacheKey(modelPath: modelPath, windows: windows)
        let path = cachePath(modelPath: modelPath, key: key)
        if let stored = cached(at: path, key: key), stored.layerCount == model.config.layerCount,
           stored.width == model.config.hiddenSize {
            note("calibration statistics from the cache \(path)")
            return stored
        }
        let measured = measure(model, windows: windows, progress: progress)
        do {
            try measured.write(to: path, key: key)
            note("calibration statistics cached at \(path)")
        } catch {
            note("calibration statistics not cached: \(error)")
        }
        return measured
    }
}
