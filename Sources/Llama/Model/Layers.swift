// The small operations of the forward pass over row-major [Float] buffers, in terms of Tensor's
// kernels (each of which has a scalar reference twin tested beside it).
import Tensor

/// y (T, out) = x (T, in) · Wᵀ with W (out, in), read in its stored encoding.
func linear(_ x: [Float], rows t: Int, _ w: WeightMatrix, into y: inout [Float]) {
    x.withUnsafeBufferPointer { xp in
        y.withUnsafeMutableBufferPointer { yp in
            linear(m: t, x: xp.baseAddress!, weight: w, y: yp.baseAddress!)
        }
    }
}

/// The same for a Float matrix.
func linear(_ x: [Float], rows t: Int, _ w: Tensor, into y: inout [Float]) {
    linear(x, rows: t, WeightMatrix(w), into: &y)
}

/// y += x, elementwise — the residual connection.
func add(_ x: [Float], into y: inout [Float]) {
    x.withUnsafeBufferPointer { xp in
        y.withUnsafeMutableBufferPointer { yp in
            for i in 0..<yp.count { yp[i] += xp[i] }
        }
    }
}

/// RMSNorm of each row of x (T, D): y = x / √(mean(x²) + ε) ⊙ w.
func rmsNorm(_ x: [Float], _ w: Tensor, epsilon: Float, rows t: Int, into y: inout [Float]) {
    x.withUnsafeBufferPointer { xp in
        w.scalars.withUnsafeBufferPointer { wp in
            y.withUnsafeMutableBufferPointer { yp in
                rmsNorm(xp.baseAddress!, weight: wp.baseAddress!, rows: t, dim: wp.count, epsilon: epsilon,
                        into: yp.baseAddress!)
            }
        }
    }
}

/// gate ← SiLU(gate) ⊙ up, SiLU(g) = g / (1 + e^(−g)).
func swiGLU(gate: inout [Float], up: [Float]) {
    up.withUnsafeBufferPointer { u in
        gate.withUnsafeMutableBufferPointer { g in
            swiglu(gate: g.baseAddress!, up: u.baseAddress!, count: g.count, into: g.baseAddress!)
        }
    }
}
