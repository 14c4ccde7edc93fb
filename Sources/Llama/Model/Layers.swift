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

/// Rows per job for the row-wise operations below when they run on several threads: 32 rows of the
/// MLP width are ~50K values, enough to be worth a job (ParallelFor.swift), and prefill's 512 rows
/// make 16 jobs. Split on whole rows, each job's values are computed exactly as in one call.
private let rowsPerJob = 32

/// Runs `body(firstRow, rows)` over row blocks of `t` rows, in parallel when there are several blocks.
private func forRowBlocks(_ t: Int, _ body: @Sendable (Int, Int) -> Void) {
    let blocks = (t + rowsPerJob - 1) / rowsPerJob
    if blocks <= 1 { body(0, t); return }
    parallelFor(blocks) { block in body(block * rowsPerJob, min(rowsPerJob, t - block * rowsPerJob)) }
}

/// y += x, elementwise — the residual connection. x and y are (T, width).
func add(_ x: [Float], into y: inout [Float], rows t: Int) {
    let width = y.count / max(t, 1)
    x.withUnsafeBufferPointer { xp in
        y.withUnsafeMutableBufferPointer { yp in
            let xs = SharedPointer(readOnly: xp.baseAddress!), ys = SharedPointer(yp.baseAddress!)
            forRowBlocks(t) { first, rows in
                for i in (first * width)..<((first + rows) * width) { ys.base[i] += xs.base[i] }
            }
        }
    }
}

/// RMSNorm of each row of x (T, D): y = x / √(mean(x²) + ε) ⊙ w.
func rmsNorm(_ x: [Float], _ w: Tensor, epsilon: Float, rows t: Int, into y: inout [Float]) {
    x.withUnsafeBufferPointer { xp in
        w.scalars.withUnsafeBufferPointer { wp in
            y.withUnsafeMutableBufferPointer { yp in
                let xs = SharedPointer(readOnly: xp.baseAddress!), ws = SharedPointer(readOnly: wp.baseAddress!)
                let ys = SharedPointer(yp.baseAddress!), d = wp.count
                forRowBlocks(t) { first, rows in
                    rmsNorm(xs.base + first * d, weight: ws.base, rows: rows, dim: d, epsilon: epsilon,
                            into: ys.base + first * d)
                }
            }
        }
    }
}

/// gate ← SiLU(gate) ⊙ up, SiLU(g) = g / (1 + e^(−g)); both (T, F).
func swiGLU(gate: inout [Float], up: [Float], rows t: Int) {
    let width = gate.count / max(t, 1)
    up.withUnsafeBufferPointer { u in
        gate.withUnsafeMutableBufferPointer { g in
            let us = SharedPointer(readOnly: u.baseAddress!), gs = SharedPointer(g.baseAddress!)
            forRowBlocks(t) { first, rows in
                let offset = first * width
                swiglu(gate: gs.base + offset, up: us.base + offset, count: rows * width, into: gs.base + offset)
            }
        }
    }
}
