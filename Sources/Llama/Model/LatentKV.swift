// K and V of one layer as factors of one latent (DeepSeek-V2's multi-head latent attention, without
// its decoupled RoPE): every token's keys and values come from r values computed once,
//
//   c = A x          A (r × D), x the layer's attention input (D), c the latent (r)
//   k = B_k c        B_k (G·Dh × r), rotated by RoPE after (k = RoPE(B_k c))
//   v = B_v c        B_v (G·Dh × r)
//
// so the cache holds c, r values per token, instead of k and v, 2·G·Dh values. The dense equivalent
// is K = B_k A and V = B_v A.
import Tensor

// r latent rank · D model dim · G kv heads · Dh head dim

public struct LatentKV: Sendable, Equatable {
    /// A (r, D): the down-projection shared by K and V.
    public let down: Tensor
    /// B_k (G·Dh, r).
    public let keyUp: Tensor
    /// B_v (G·Dh, r).
    public let valueUp: Tensor

    /// `down` (r, D), `keyUp` and `valueUp` (same rows, r) with r ≥ 1.
    public init(down: Tensor, keyUp: Tensor, valueUp: Tensor) {
        precondition(down.rank == 2 && keyUp.rank == 2 && valueUp.rank == 2, "latent factors must be matrices")
        let r = down.shape[0]
        precondition(r > 0 && keyUp.shape[1] == r && valueUp.shape[1] == r && keyUp.shape == valueUp.shape,
                     "latent factors do not fit: A \(down.shape), B_k \(keyUp.shape), B_v \(valueUp.shape)")
        self.down = down
        self.keyUp = keyUp
        self.valueUp = valueUp
    }

    /// r, the values per token a cache holds for this layer.
    public var rank: Int { down.shape[0] }

    /// B_k A (G·Dh, D): the dense K projection these factors compute.
    public var denseKeys: Tensor { matmul(keyUp, down) }

    /// B_v A (G·Dh, D).
    public var denseValues: Tensor { matmul(valueUp, down) }
}
