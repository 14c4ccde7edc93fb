// `surgery inspect MODEL [--json]`: the model's architecture and parameter listing.
import Llama
import Surgery
import FoundationEssentials

func runInspect(_ arguments: inout Arguments) throws {
    let json = arguments.flag("json")
    try arguments.finish(maxPositionals: 1)
    guard let path = arguments.positionals.first else { throw UsageError("inspect needs a MODEL path") }
    let summary = ModelSummary(try Checkpoint.open(path))
    if json {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        print(String(decoding: try encoder.encode(summary), as: UTF8.self))
    } else {
        print(render(summary))
    }
}

private func render(_ s: ModelSummary) -> String {
    let c = s.config
    var lines: [String] = []
    lines.append("\(s.architecture)  (\(s.format): \(s.path))")
    lines.append("")
    lines.append("layers \(c.layerCount) · hidden \(c.hiddenSize) · heads \(c.headCount) · kv heads \(c.kvHeadCount)"
                 + " · head dim \(c.headDim) · MLP \(c.intermediateSize) · vocab \(c.vocabSize)")
    lines.append("RMS ε \(c.rmsNormEpsilon) · RoPE θ \(c.ropeTheta) · context \(c.contextLength)"
                 + " · tied embeddings \(c.tiedEmbeddings ? "yes" : "no")"
                 + " · BOS \(c.bosTokenID.map(String.init) ?? "none") · EOS \(c.eosTokenIDs.map(String.init).joined(separator: ","))")
    lines.append("")
    let nameWidth = s.modules.map(\.name.count).max() ?? 10
    lines.append(pad("module", nameWidth) + "  " + pad("kind", 12) + "  " + leftPad("parameters", 12) + "  dtype")
    for m in s.modules {
        let count = m.tiedTo.map { "tied to \($0)" } ?? grouped(m.parameters)
        lines.append(pad(m.name, nameWidth) + "  " + pad(m.kind, 12) + "  " + leftPad(count, 12) + "  " + m.dtype)
    }
    lines.append("")
    if let first = s.layerParameters.first, s.layerParameters.allSatisfy({ $0 == first }) {
        lines.append("per layer: \(grouped(first)) parameters × \(s.layerParameters.count) layers")
    } else {
        lines.append("per layer: " + s.layerParameters.enumerated().map { "\($0.offset): \(grouped($0.element))" }.joined(separator: ", "))
    }
    lines.append("total parameters: \(grouped(s.totalParameters))")
    lines.append("dtypes: " + s.dtypes.map { "\($0.dtype) \(grouped($0.parameters)) params in \($0.tensors) tensors (\(grouped($0.bytes)) bytes)" }
        .joined(separator: "; "))
    lines.append("file size: \(grouped(s.fileSize)) bytes")
    if let ranks = c.latentKVRanks {
        lines.append("latent K/V: ranks \(rankSummary(ranks)) (0: dense K and V); KV cache \(grouped(s.kvCacheBytesPerToken)) bytes per token, "
                     + "\(fixed(100 * Double(s.kvCacheBytesPerToken) / Double(s.denseKVCacheBytesPerToken), 1))% of the dense \(grouped(s.denseKVCacheBytesPerToken))")
        if Set(ranks).count > 1 { lines.append("latent ranks per layer: " + ranks.map(String.init).joined(separator: ",")) }
    } else {
        lines.append("KV cache: \(grouped(s.kvCacheBytesPerToken)) bytes per token (float32 keys and values)")
    }
    return lines.joined(separator: "\n")
}

func pad(_ s: String, _ width: Int) -> String { s.count >= width ? s : s + String(repeating: " ", count: width - s.count) }
func leftPad(_ s: String, _ width: Int) -> String { s.count >= width ? s : String(repeating: " ", count: width - s.count) + s }
