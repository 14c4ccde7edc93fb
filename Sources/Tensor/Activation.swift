// The Llama MLP's activation: SiLU (Elfwing, Uchibe & Doya 2018; "swish") and the SwiGLU product
// (Shazeer 2020, "GLU Variants Improve Transformer"), as in Hugging Face's `LlamaMLP`:
//
//   silu(x)      = x · σ(x) = x / (1 + e⁻ˣ)
//   swiglu(g, u) = silu(g) ⊙ u          mlp(x) = down( silu(gate(x)) ⊙ up(x) )
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#elseif canImport(ucrt)
import ucrt
#endif

// MARK: - Reference

/// x (count) ← silu(x), one scalar at a time with libm's `exp`.
package func siluReference(_ x: UnsafeMutablePointer<Float>, count: Int) {
    for i in 0..<count { x[i] = x[i] / (1 + exp(-x[i])) }
}

/// output (count) = silu(gate) ⊙ up, one scalar at a time. `output` may be `gate` or `up`.
package func swigluReference(gate: UnsafePointer<Float>, up: UnsafePointer<Float>, count: Int,
                             into output: UnsafeMutablePointer<Float>) {
    for i in 0..<count { output[i] = (gate[i] / (1 + exp(-gate[i]))) * up[i] }
}

// MARK: - Fast

@inline(__always)
private func siluVector(_ x: SIMD16<Float>) -> SIMD16<Float> {
    x / (1 + vectorExp(-x))            // e⁻ˣ = +∞ for x < −88.7 gives −0, the right limit
}

/// x (count) ← silu(x) in place. Equal to `siluReference` up to exp's last bits.
package func silu(_ x: UnsafeMutablePointer<Float>, count: Int) {
    typealias V = SIMD16<Float>
    let raw = UnsafeMutableRawPointer(x)
    let vectorEnd = count & ~15
    var i = 0
    while i < vectorEnd {
        raw.storeBytes(of: siluVector(raw.loadUnaligned(fromByteOffset: 4 * i, as: V.self)), toByteOffset: 4 * i, as: V.self)
        i += 16
    }
    if vectorEnd < count {
        storePartial(siluVector(loadPartial(x + vectorEnd, count: count - vectorEnd, fill: 0)), x + vectorEnd,
                     count: count - vectorEnd)
    }
}

/// output (count) = silu(gate) ⊙ up: the elementwise middle of the Llama MLP, gate and up being the
/// (T, F) outputs of the gate and up projections. `output` may be `gate` or `up`.
package func swiglu(gate: UnsafePointer<Float>, up: UnsafePointer<Float>, count: Int,
                    into output: UnsafeMutablePointer<Float>) {
    typealias V = SIMD16<Float>
    let g = UnsafeRawPointer(gate), u = UnsafeRawPointer(up), out = UnsafeMutableRawPointer(output)
    let vectorEnd = count & ~15
    var i = 0
    while i < vectorEnd {
        let v = siluVector(g.loadUnaligned(fromByteOffset: 4 * i, as: V.self)) * u.loadUnaligned(fromByteOffset: 4 * i, as: V.self)
        out.storeBytes(of: v, toByteOffset: 4 * i, as: V.self)
        i += 16
    }
    if vectorEnd < count {
        let tail = count - vectorEnd
        let v = siluVector(loadPartial(gate + vectorEnd, count: tail, fill: 0)) * loadPartial(up + vectorEnd, count: tail, fill: 0)
        storePartial(v, output + vectorEnd, count: tail)
    }
}
