// The level-1 kernels the factorizations share — dot product, y += α·x, and a plane rotation of two
// rows — written with SIMD8<Double>, each beside its one-line scalar definition.

// MARK: - Dot product

/// Σᵢ xᵢ·yᵢ. Scalar definition: `(0..<count).reduce(0) { $0 + x[$1] * y[$1] }`; this sums eight
/// lanes in parallel, so it equals that up to summation order.
@inline(__always)
func dot(_ x: UnsafePointer<Double>, _ y: UnsafePointer<Double>, _ count: Int) -> Double {
    var acc0 = SIMD8<Double>(), acc1 = SIMD8<Double>()
    let rx = UnsafeRawPointer(x), ry = UnsafeRawPointer(y)
    var i = 0
    while i + 16 <= count {
        acc0 = acc0.addingProduct(rx.loadUnaligned(fromByteOffset: i * 8, as: SIMD8<Double>.self),
                                  ry.loadUnaligned(fromByteOffset: i * 8, as: SIMD8<Double>.self))
        acc1 = acc1.addingProduct(rx.loadUnaligned(fromByteOffset: i * 8 + 64, as: SIMD8<Double>.self),
                                  ry.loadUnaligned(fromByteOffset: i * 8 + 64, as: SIMD8<Double>.self))
        i += 16
    }
    var sum = (acc0 + acc1).sum()
    while i < count { sum += x[i] * y[i]; i += 1 }
    return sum
}

// MARK: - y += α·x

/// yᵢ += α·xᵢ for i in 0..<count (exact per element, no reordering).
@inline(__always)
func axpy(_ alpha: Double, _ x: UnsafePointer<Double>, _ y: UnsafeMutablePointer<Double>, _ count: Int) {
    let rx = UnsafeRawPointer(x), ry = UnsafeMutableRawPointer(y)
    var i = 0
    while i + 8 <= count {
        let v = ry.loadUnaligned(fromByteOffset: i * 8, as: SIMD8<Double>.self)
            .addingProduct(alpha, rx.loadUnaligned(fromByteOffset: i * 8, as: SIMD8<Double>.self))
        ry.storeBytes(of: v, toByteOffset: i * 8, as: SIMD8<Double>.self)
        i += 8
    }
    while i < count { y[i] = y[i].addingProduct(alpha, x[i]); i += 1 }
}

// MARK: - Plane rotation

/// (x, y) ← (c·x + s·y, c·y − s·x) elementwise over `count` entries: the rotation
/// [c s; −s c] applied to two rows.
@inline(__always)
func rotate(_ x: UnsafeMutablePointer<Double>, _ y: UnsafeMutablePointer<Double>, _ count: Int,
            c: Double, s: Double) {
    let rx = UnsafeMutableRawPointer(x), ry = UnsafeMutableRawPointer(y)
    var i = 0
    while i + 8 <= count {
        let a = rx.loadUnaligned(fromByteOffset: i * 8, as: SIMD8<Double>.self)
        let b = ry.loadUnaligned(fromByteOffset: i * 8, as: SIMD8<Double>.self)
        rx.storeBytes(of: (c * a).addingProduct(s, b), toByteOffset: i * 8, as: SIMD8<Double>.self)
        ry.storeBytes(of: (c * b).addingProduct(-s, a), toByteOffset: i * 8, as: SIMD8<Double>.self)
        i += 8
    }
    while i < count {
        let a = x[i], b = y[i]
        x[i] = (c * a).addingProduct(s, b)
        y[i] = (c * b).addingProduct(-s, a)
        i += 1
    }
}

/// The rotation [c s; −s c] that maps (f, g) to (r, 0): c = f/r, s = g/r, r = √(f² + g²) ≥ 0,
/// computed with scaling so that tiny or huge entries neither underflow nor overflow.
@inline(__always)
func givens(_ f: Double, _ g: Double) -> (c: Double, s: Double, r: Double) {
    if g == 0 { return (1, 0, f) }
    if f == 0 { return (0, 1, g) }
    let scale = max(abs(f), abs(g))
    let fs = f / scale, gs = g / scale
    let r = scale * (fs * fs + gs * gs).squareRoot()
    return (f / r, g / r, r)
}
