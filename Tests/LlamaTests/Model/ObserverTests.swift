// The forward-pass observer: it sees each layer's attention and MLP inputs, in layer order, with
// the shapes of the block, and changes nothing about the result.
import Testing
import Foundation
import Llama
import TestSupport

private final class Recorder: ForwardObserver {
    var calls: [(ObservationPoint, Int, Int, Int)] = []
    var firstAttentionInput: [Float] = []

    func observe(_ point: ObservationPoint, layer: Int, rows: Int, width: Int, values: UnsafeBufferPointer<Float>) {
        calls.append((point, layer, rows, width))
        if calls.count == 1 { firstAttentionInput = Array(values) }
    }
}

@Suite struct ObserverTests {
    @Test func seesEveryLayerAndChangesNothing() throws {
        let model = try Model(checkpoint: Checkpoint.open(Fixtures.path("tiny/f32")))
        let tokens = [1, 5, 9, 14, 2, 7]
        let recorder = Recorder()
        let observed = model.logits(tokens, observer: recorder)
        #expect(bitDifference(observed.scalars, model.logits(tokens).scalars) == nil)
        let c = model.config
        #expect(recorder.calls.count == 2 * c.layerCount)
        for (index, call) in recorder.calls.enumerated() {
            #expect(call.0 == (index % 2 == 0 ? .attentionInput : .mlpInput))
            #expect(call.1 == index / 2 && call.2 == tokens.count && call.3 == c.hiddenSize)
        }
        // Layer 0's attention input is RMSNorm of the embedding rows: x / √(mean(x²) + ε) ⊙ w,
        // recomputed here in Double (1e-5 relative: Float rounding of a 64-term mean).
        let d = c.hiddenSize
        #expect(recorder.firstAttentionInput.count == tokens.count * d)
        let embedding = model.weights.embedding.decoded()
        for (row, token) in tokens.enumerated() {
            let x = (0..<d).map { Double(embedding.scalars[token * d + $0]) }
            let scale = 1 / ((x.reduce(0) { $0 + $1 * $1 } / Double(d)) + Double(c.rmsNormEpsilon)).squareRoot()
            for j in 0..<d {
                let expected = x[j] * scale * Double(model.weights.layers[0].inputNorm.scalars[j])
                let ours = Double(recorder.firstAttentionInput[row * d + j])
                #expect(abs(ours - expected) <= 1e-5 * max(1, abs(expected)), "row \(row) column \(j)")
            }
        }

        // Decode: one call per point per layer with one row.
        var cache = model.makeCache()
        _ = model.forward(Array(tokens.prefix(5)), cache: &cache)
        let step = Recorder()
        _ = model.forward([tokens[5]], cache: &cache, observer: step)
        #expect(step.calls.count == 2 * c.layerCount && step.calls.allSatisfy { $0.2 == 1 })
    }
}
