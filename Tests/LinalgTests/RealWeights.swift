// The one seam between the Linalg tests and the real model: SmolLM2's attention weights loaded by
// this project's checkpoint reader from the GGUF (float32, PyTorch [out, in], q/k un-permuted to
// Hugging Face order). The tests also check each matrix's sum and norm against the fixture
// manifest, so they verify this is exactly what scikit-learn was given.
import Llama
import Synchronization
import Tensor
import TestSupport

/// The weight `model.layers.<layer>.self_attn.<name>.weight` (name "q_proj", "k_proj" or "v_proj"),
/// shape [out, in].
func realWeight(layer: Int, name: String) throws -> Tensor {
    let checkpoint = try realCheckpoint.withLock { cached in
        if let cached { return cached }
        let opened = try Checkpoint.open(Fixtures.modelPath)
        cached = opened
        return opened
    }
    return try checkpoint.tensor(named: "model.layers.\(layer).self_attn.\(name).weight")
}

private let realCheckpoint = Mutex<Checkpoint?>(nil)
