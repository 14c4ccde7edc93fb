// The one seam between the Linalg tests and the real model: SmolLM2's attention weights as
// transformers loads them from the GGUF (float32, PyTorch [out, in], q/k un-permuted to Hugging
// Face order).
import Foundation
import Tensor

/// The weight `model.layers.<layer>.self_attn.<name>.weight` (name "q_proj", "k_proj" or "v_proj"),
/// shape [out, in].
///
/// TEMPORARY SEAM — replaced by the lead's `Checkpoint` loader when the Llama module lands. Until
/// then it reads the raw little-endian float32 dumps that Tools/reference/linalg.py writes outside
/// the tree, to ~/.cache/surgery/dev/linalg/layer<N>.<name>.f32 (run `Tools/reference/run.sh
/// linalg.py` once). The tests also check each matrix's sum and norm against the fixture manifest,
/// so the replacement is verified to return exactly what scikit-learn was given.
func realWeight(layer: Int, name: String) throws -> Tensor {
    let shapes = ["q_proj": [576, 576], "k_proj": [192, 576], "v_proj": [192, 576]]
    guard let shape = shapes[name] else { throw RealWeightError.unknownName(name) }
    let path = NSHomeDirectory() + "/.cache/surgery/dev/linalg/layer\(layer).\(name).f32"
    let data = try Data(contentsOf: URL(fileURLWithPath: path))
    guard data.count == shape[0] * shape[1] * 4 else {
        throw RealWeightError.wrongSize(path: path, found: data.count, expected: shape[0] * shape[1] * 4)
    }
    let values = data.withUnsafeBytes { raw in
        (0..<(raw.count / 4)).map { Float(bitPattern: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self).littleEndian) }
    }
    return Tensor(shape: shape, scalars: values)
}

enum RealWeightError: Error {
    case unknownName(String)
    case wrongSize(path: String, found: Int, expected: Int)
}
