// A way to watch the forward pass without the model knowing why: calibration (the activation
// statistics of surgery) and diagnostics receive what each layer computes, block by block.

/// Where in a layer an observed activation was taken.
public enum ObservationPoint: Sendable, Hashable {
    /// RMSNorm(h) before attention: the x that Q, K and V read, (T, D).
    case attentionInput
    /// RMSNorm(h) before the MLP: the x that gate and up read, (T, D).
    case mlpInput
}

/// Receives activations from `Model.forward(_:cache:observer:)`. Called on the caller's thread, in
/// layer order, once per point per layer per call; `values` is row-major (rows, width) and is only
/// valid during the call (copy what must be kept).
public protocol ForwardObserver: AnyObject {
    func observe(_ point: ObservationPoint, layer: Int, rows: Int, width: Int, values: UnsafeBufferPointer<Float>)
}

extension ForwardObserver {
    func observe(_ point: ObservationPoint, layer: Int, rows: Int, width: Int, activations: [Float]) {
        activations.withUnsafeBufferPointer { observe(point, layer: layer, rows: rows, width: width, values: $0) }
    }
}
