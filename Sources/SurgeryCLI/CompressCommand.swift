// `surgery compress [MODEL] --out DIR [--dtype f32|bf16|f16] [surgery options]`: applies a surgery
// and writes the result as a Hugging Face folder (config.json, model.safetensors, tokenizer files)
// that transformers loads; the folder appears only when complete. With `--factored`, a folder that
// keeps each layer's K/V factors (HuggingFaceExport.swift), which this project loads and runs from
// a latent cache.
import Llama
import Surgery
import Tensor

func runCompress(_ arguments: inout Arguments) throws {
    let requested = try surgeryPlan(&arguments)
    let uniform = try uniformFlag(&arguments, requested)
    var calibration = try CalibrationRequest(&arguments, needed: PreparedSurgery.needsCalibration(requested, uniform: uniform))
    guard let out = arguments.string("out") else { throw UsageError("compress needs --out DIR") }
    let factored = arguments.flag("factored")
    if factored { try requireLatent(requested, flag: "--factored") }
    let dtypeName = arguments.string("dtype") ?? "bf16"
    let dtypes: [String: ScalarEncoding] = ["f32": .float32, "bf16": .bfloat16, "f16": .float16]
    guard let dtype = dtypes[dtypeName.lowercased()] else {
        throw UsageError("--dtype must be one of f32, bf16, f16, got \"\(dtypeName)\"")
    }
    try arguments.finish(maxPositionals: 1)
    try calibration.readText()
    let path = modelPath(arguments)
    try refuseNonEmptyFolder(out, argument: "--out")

    // Only a calibrated surgery reads text: without one, the model needs no tokenizer.
    let loaded = PreparedSurgery.needsCalibration(requested, uniform: uniform) ? try loadModel(path) : nil
    let (checkpoint, model) = try loaded.map { ($0.checkpoint, $0.model) } ?? loadWeights(path)
    try requested.validate(for: model.weights)
    let prepared = try loaded.map {
        try PreparedSurgery(requested, uniform: uniform, loaded: $0, calibration: calibration, evaluation: nil, evaluated: nil)
    } ?? PreparedSurgery(uncalibrated: requested, weights: model.weights)
    let plan = prepared.plan
    let keep = { (reconstructed: Tensor) in WeightMatrix(rounding: reconstructed, to: dtype) }
    let metadata = ["surgery": plan.description, "source": path]
    let folder: ExportedFolder
    let summary: SurgerySummary
    var factors: Weights?
    if !factored, let surgery = try prepared.surgeon.layerByLayer(plan, keep: keep, progress: surgeryProgress) {
        // Each layer is fitted and reconstructed when the writer reaches it, and forgotten after:
        // memory holds one layer's decompositions and replaced matrices, never the surgered model.
        let replacements = LayerReplacements(tensors: surgery.replaced) { layer in try surgery.matrices(layer: layer) }
        folder = try exportHuggingFace(weights: model.weights, replacing: replacements, config: model.config,
                                       tokenizerSource: checkpoint, dtype: dtype, to: out, metadata: metadata,
                                       checked: exportCheckProgress)
        summary = surgery.summary
    } else {
        // Factored output, or a basis shared across layers: the whole surgery, then the export.
        let result = try prepared.surgeon.applyLayerByLayer(plan, keep: keep, progress: surgeryProgress)
        let weights = factored ? result.latentWeights ?? result.weights : result.weights
        folder = try exportHuggingFace(weights: weights, config: model.config, tokenizerSource: checkpoint,
                                       dtype: dtype, to: out, factored: factored, metadata: metadata,
                                       checked: exportCheckProgress)
        summary = result.summary
        factors = weights
    }
    status("surgery: \(summary.line)")
    if !folder.files.contains(where: { $0.name == "tokenizer.json" }) {
        status("\(path) has no tokenizer to copy; \(out) has none either (give it one to tokenize text)")
    }
    print("wrote \(folder.path): \(folder.tensorCount) tensors, \(grouped(folder.parameterCount)) parameters in \(dtypeName)")
    for file in folder.files { print("  \(file.name)  \(grouped(file.byteCount)) bytes") }
    print("surgery: \(plan)")
    print(summary.line)
    if factored, let weights = factors {
        let ranks = weights.latentRanks.map { $0 ?? 0 }
        let bytes = KVCache(config: model.config, capacity: 1, latentRanks: weights.latentRanks).allocatedBytes
        print("factored: latent ranks \(rankSummary(ranks)); KV cache \(grouped(bytes)) "
              + "bytes per token (dense: \(grouped(model.makeCache(capacity: 1).allocatedBytes)))")
    }
}

/// The export reads every matrix it keeps once, to check it fits the dtype, before writing.
private func exportCheckProgress(done: Int, total: Int) {
    reportProgress(Stage(name: "checking", steps: "matrices"), done: done, total: total)
}

/// `192 in every layer`, or `min 18, max 261, mean 192.0`.
func rankSummary(_ ranks: [Int]) -> String {
    guard let first = ranks.first else { return "none" }
    if ranks.allSatisfy({ $0 == first }) { return "\(first) in every layer" }
    return "min \(ranks.min()!), max \(ranks.max()!), mean \(fixed(Double(ranks.reduce(0, +)) / Double(ranks.count), 1))"
}
