// The real model, loaded once per test process (loading dequantizes 135M weights).
import Llama
import Synchronization
import TestSupport

struct RealModel: Sendable {
    let checkpoint: Checkpoint
    let model: Model
    let tokenizer: Tokenizer
}

func realModel() throws -> RealModel {
    try realModelOnce.withLock { cached in
        if let cached { return cached }
        let checkpoint = try Checkpoint.open(Fixtures.modelPath)
        let loaded = RealModel(checkpoint: checkpoint, model: try Model(checkpoint: checkpoint),
                               tokenizer: try checkpoint.tokenizer())
        cached = loaded
        return loaded
    }
}

private let realModelOnce = Mutex<RealModel?>(nil)
