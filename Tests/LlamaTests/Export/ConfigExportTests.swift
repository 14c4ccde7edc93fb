// config.json as written for transformers: read back equal by Config(huggingFaceJSON:), and equal,
// key by key, to the config.json transformers 5.24 itself saved for the tiny fixture model
// (Tools/reference/formats.py → Tests/Fixtures/tiny/f32/config.json).
import Foundation
import Testing
import Llama
import Tensor
import TestSupport

@Suite struct ConfigExportTests {
    static func text(_ value: JSONValue) -> Data { Data(value.prettyPrinted()) }

    @Test func tinyConfigReadsBackEqual() throws {
        let config = try Checkpoint.open(Fixtures.path("tiny/f32")).config
        for dtype in ScalarEncoding.allCases {
            let written = Self.text(config.huggingFaceConfigJSON(dtype: dtype))
            #expect(try Config(huggingFaceJSON: written, path: "config.json") == config)
        }
    }

    @Test func smolLM2ConfigReadsBackEqual() throws {
        let config = try Checkpoint.open(Fixtures.modelPath).config
        let written = Self.text(config.huggingFaceConfigJSON(dtype: .bfloat16))
        #expect(try Config(huggingFaceJSON: written, path: "config.json") == config)
    }

    /// No BOS, several EOS ids, an epsilon and theta with long decimal expansions.
    @Test func unusualFieldsReadBackEqual() throws {
        var config = try Checkpoint.open(Fixtures.path("tiny/f32")).config
        config.bosTokenID = nil
        config.eosTokenIDs = [2, 7, 11]
        config.rmsNormEpsilon = 1e-6
        config.ropeTheta = 500_000
        let written = Self.text(config.huggingFaceConfigJSON(dtype: .float32))
        #expect(try Config(huggingFaceJSON: written, path: "config.json") == config)
        config.eosTokenIDs = []
        #expect(try Config(huggingFaceJSON: Self.text(config.huggingFaceConfigJSON(dtype: .float32)),
                           path: "config.json") == config)
    }

    /// Every key transformers wrote for the tiny model that we write too has the same value; the keys we
    /// leave out are transformers' defaults for training (initializer_range, pretraining_tp, pad_token_id).
    @Test func tinyConfigMatchesTransformersSave() throws {
        let config = try Checkpoint.open(Fixtures.path("tiny/f32")).config
        let theirs = try #require(try Fixtures.json("tiny/f32/config.json") as? [String: Any])
        let ours = try #require(try JSONSerialization.jsonObject(with: Self.text(config.huggingFaceConfigJSON(dtype: .float32)))
            as? [String: Any])
        let leftOut = Set(theirs.keys).subtracting(ours.keys)
        #expect(leftOut == ["initializer_range", "pretraining_tp", "pad_token_id", "transformers_version"])
        for (key, value) in theirs where ours[key] != nil {
            #expect((ours[key] as? NSObject) == (value as? NSObject), "\(key): ours \(ours[key]!), transformers \(value)")
        }
        // The two keys only transformers 4 reads.
        #expect(ours["rope_theta"] as? Double == 10_000 && ours["torch_dtype"] as? String == "float32")
    }

    @Test func writtenNumbersAreShortest() throws {
        var config = try Checkpoint.open(Fixtures.path("tiny/f32")).config
        config.rmsNormEpsilon = 1e-5
        let text = String(decoding: config.huggingFaceConfigJSON(dtype: .float32).prettyPrinted(), as: UTF8.self)
        #expect(text.contains("\"rms_norm_eps\": 1e-05,"))
        #expect(text.contains("\"rope_theta\": 10000.0,"))
    }
}
