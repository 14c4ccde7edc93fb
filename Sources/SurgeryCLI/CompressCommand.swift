// `surgery compress [MODEL] --out DIR [--dtype f32|bf16|f16] [surgery options]`: applies a surgery
// and writes the result as a Hugging Face folder (config.json, model.safetensors, tokenizer files)
// that transformers loads; the folder appears only when complete.
import Llama
import Surgery
import Tensor

func runCompress(_ arguments: inout Arguments) throws {
    let plan = try surgeryPlan(&arguments)
    guard let out = arguments.string("out") else { throw UsageError("compress needs --out DIR") }
    let dtypeName = arguments.string("dtype") ?? "bf16"
    let dtypes: [String: ScalarEncoding] = ["f32": .float32, "bf16": .bfloat16, "f16": .float16]
    guard let dtype = dtypes[dtypeName.lowercased()] else {
        throw UsageError("--dtype must be one of f32, bf16, f16, got \"\(dtypeName)\"")
    }
    try arguments.finish(maxPositionals: 1)
    let path = modelPath(arguments)
    try refuseNonEmptyFolder(out, argument: "--out")

    let loaded = try loadModel(path)
    try plan.validate(for: loaded.model.weights)
    let result = try Surgeon(base: loaded.model.weights).apply(plan, progress: surgeryProgress)
    status("surgery: \(result.summary.line)")
    let folder = try exportHuggingFace(weights: result.weights, config: loaded.model.config,
                                       tokenizerSource: loaded.checkpoint, dtype: dtype, to: out,
                                       metadata: ["surgery": plan.description, "source": path])
    print("wrote \(folder.path): \(folder.tensorCount) tensors, \(grouped(folder.parameterCount)) parameters in \(dtypeName)")
    for file in folder.files { print("  \(file.name)  \(grouped(file.byteCount)) bytes") }
    print("surgery: \(plan)")
    print(result.summary.line)
}
