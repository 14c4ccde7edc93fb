// The real model, loaded once per test process (loading dequantizes 135M weights).
import Llama
import Synchronization
import TestSupport

func realModel() throws -> LoadedModel {
    try realModelOnce.withLock { cached in
        if let cached { return cached }
        let loaded = try LoadedModel(path: Fixtures.modelPath)
        cached = loaded
        return loaded
    }
}

private let realModelOnce = Mutex<LoadedModel?>(nil)
