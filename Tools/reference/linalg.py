# Reference values for the Linalg module: numpy/LAPACK SVDs of random matrices of several shapes and
# conditionings, numpy/LAPACK symmetric eigendecompositions, and scikit-learn PCA (svd_solver='full')
# of real SmolLM2 attention weights, loaded the way the original study loads weights (transformers,
# float32, PyTorch [out, in] layout).
#
# Usage: PY=$(Tools/reference/venv.sh); $PY Tools/reference/linalg.py [eigen]
#        (or Tools/reference/run.sh linalg.py, which writes everything)
# Writes Tests/Fixtures/linalg/** and, outside the tree, the raw float32 weight matrices to
# ~/.cache/surgery/dev/linalg/ (the tests' temporary stand-in for the checkpoint loader). With the
# argument `eigen`, only Tests/Fixtures/linalg/eigen/ (its own manifest; no model needed).
import hashlib
import json
import os
import platform
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
FIXTURES = os.environ.get("FIXTURES", os.path.join(ROOT, "Tests", "Fixtures"))
MODEL = os.environ.get("SURGERY_MODEL",
                       os.path.expanduser("~/.cache/surgery/models/SmolLM2-135M-Instruct.Q4_1.gguf"))
DEV = os.path.expanduser("~/.cache/surgery/dev/linalg")
OUT = os.path.join(FIXTURES, "linalg")
THRESHOLDS = [0.99, 0.95, 0.9, 0.8, 0.7, 0.5, 0.3, 0.1]
COMPONENT_ROWS = 64          # components stored in full; the rest are checked through a checksum
COMMAND = "Tools/reference/run.sh linalg.py"


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def write(relative, array, dtype):
    """A raw little-endian array (C order)."""
    path = os.path.join(OUT, relative)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    np.ascontiguousarray(array, dtype=np.dtype(dtype).newbyteorder("<")).tofile(path)
    return relative


def versions():
    import scipy
    import sklearn
    out = {"python": platform.python_version(), "numpy": np.__version__, "scipy": scipy.__version__,
           "scikit-learn": sklearn.__version__}
    try:
        import torch
        import transformers
        out["torch"] = torch.__version__
        out["transformers"] = transformers.__version__
    except ImportError:
        pass
    return out


# MARK: - Dense SVD of random matrices (LAPACK dgesdd through numpy, in float64)

def svd_cases():
    """Inputs are float32 (what the Swift code takes); the reference SVD is of those exact values
    in float64, so it is accurate to ~1e-15·σ₁ and the tolerance is set by the Swift side."""
    from sklearn.utils.extmath import svd_flip
    rng = np.random.default_rng(20250401)
    cases = {}

    def gaussian(m, n):
        return rng.standard_normal((m, n))

    def with_spectrum(m, n, sigma):
        # A = U diag(σ) Vᵀ with Haar-random orthonormal U, V (QR of Gaussians).
        u, _ = np.linalg.qr(rng.standard_normal((m, len(sigma))))
        v, _ = np.linalg.qr(rng.standard_normal((n, len(sigma))))
        return (u * sigma) @ v.T

    cases["tall"] = gaussian(64, 24)
    cases["wide"] = gaussian(20, 50)
    cases["square"] = gaussian(48, 48)
    cases["rank_deficient"] = gaussian(40, 7) @ gaussian(7, 30)          # rank 7
    cases["row"] = gaussian(1, 17)
    cases["column"] = gaussian(17, 1)
    cases["ill_conditioned"] = with_spectrum(60, 40, 10.0 ** np.linspace(0, -6, 40))
    cases["tall_big"] = with_spectrum(300, 120, 10.0 ** np.linspace(1, -3, 120))

    manifest = {}
    for name, a in cases.items():
        a32 = a.astype(np.float32)
        a64 = a32.astype(np.float64)
        u, s, vt = np.linalg.svd(a64, full_matrices=False)
        # The project's convention (STYLE.md §10): largest-magnitude entry of each left singular
        # vector positive — scikit-learn's svd_flip with u_based_decision=True.
        u, vt = svd_flip(u, vt, u_based_decision=True)
        # Numerical rank of the float32 input: rounding A to float32 lifts exact zeros of σ to
        # ~1e-7·σ₁, so count σ above max(m, n)·ε_float32·σ₁.
        rank = int(np.sum(s > s[0] * max(a.shape) * np.finfo(np.float32).eps)) if s[0] > 0 else 0
        # Vectors of a repeated or (numerically) zero σ are not unique: they are compared only for
        # the leading `determined` singular values, each separated from its neighbours by > 1e-6·σ₁.
        gaps = np.minimum(np.abs(np.diff(np.r_[np.inf, s])), np.abs(np.diff(np.r_[s, -np.inf])))
        determined = 0
        while determined < rank and gaps[determined] > 1e-6 * s[0]:
            determined += 1
        manifest[name] = {
            "shape": list(a.shape), "rank": rank, "determined_vectors": determined,
            "a": write(f"svd/{name}.a.f32", a32, np.float32),
            "s": write(f"svd/{name}.s.f64", s, np.float64),
            "u": write(f"svd/{name}.u.f64", u, np.float64),
            "vt": write(f"svd/{name}.vt.f64", vt, np.float64),
        }
        log(f"svd {name} {a.shape} rank {rank} σ₁ {s[0]:.4g} σmin {s[-1]:.3g}")
    return manifest


# MARK: - Symmetric eigendecomposition (LAPACK dsyevd through numpy, in float64)

EIGEN_COMMAND = "PY=$(Tools/reference/venv.sh); $PY Tools/reference/linalg.py eigen"
EIGEN_CLUSTER_GAP = 1e-6     # neighbours closer than this·max|λ| form a cluster (vectors not determined)


def eigen_orient(vectors):
    """The project's convention (STYLE.md §10, as for svd's U): in each eigenvector (column) the entry
    of largest magnitude, the first on a tie (np.argmax), is positive."""
    rows = np.argmax(np.abs(vectors), axis=0)
    signs = np.where(vectors[rows, np.arange(vectors.shape[1])] < 0, -1.0, 1.0)
    return vectors * signs


def eigen_cases():
    """Symmetric matrices and np.linalg.eigh of them in float64 (LAPACK dsyevd: Householder
    tridiagonalization, then divide and conquer — a different algorithm from the Swift one's QR
    iteration), sorted decreasing, signs by `eigen_orient`. Inputs marked float32_exact hold float32
    values (rounded, then symmetric), so the Swift Float entry point sees the same matrix."""
    rng = np.random.default_rng(20250917)

    def orthogonal(n):
        q, r = np.linalg.qr(rng.standard_normal((n, n)))
        return q * np.where(np.diag(r) < 0, -1.0, 1.0)              # Haar-distributed

    def with_spectrum(lam):
        q = orthogonal(len(lam))
        return (q * np.asarray(lam)) @ q.T

    def gaussian_symmetric(n):
        b = rng.standard_normal((n, n))
        return (b + b.T) / 2

    def gram(n, inner, rank):
        # The real use: M = W·C·Wᵀ, W a weight-like n×inner matrix of rank `rank`, C an input
        # covariance (inner×inner, positive definite) — positive semi-definite, rank `rank`.
        w = rng.standard_normal((n, rank)) @ rng.standard_normal((rank, inner)) / np.sqrt(inner)
        g = rng.standard_normal((inner, 2 * inner))
        c = g @ g.T / (2 * inner)
        return w @ c @ w.T

    cases = {
        "one": (np.array([[-2.5]]), True),
        "two": (np.array([[1.75, -0.8], [-0.8, 0.3]]), True),
        "small": (gaussian_symmetric(7), True),
        "indefinite": (with_spectrum(np.linspace(-4, 4, 40) + 0.01), True),
        # 5 four times, 2 three times, a cluster 1 + 1e-9·k of five, 28 spread values: float64 only
        # (rounding to float32 would split the repeats by ~1e-7).
        "clustered": (with_spectrum([5.0] * 4 + [2.0] * 3 + [1 + 1e-9 * k for k in range(5)]
                                    + list(np.linspace(-1, 0.5, 28))), False),
        "gram": (gram(96, 160, 96), False),
        "gram_low_rank": (gram(96, 160, 40), False),              # 56 eigenvalues ≈ 0: one cluster
        "wigner": (gaussian_symmetric(100), True),
    }
    out = {}
    for name, (a, float32_exact) in cases.items():
        if float32_exact:
            a = a.astype(np.float32).astype(np.float64)
        a = (a + a.T) / 2                                            # exactly symmetric
        values, vectors = np.linalg.eigh(a)
        values, vectors = values[::-1].copy(), eigen_orient(vectors[:, ::-1])
        n = a.shape[0]
        # How firmly the sign convention decides each vector: its largest |entry| minus the next.
        top = -np.sort(-np.abs(vectors), axis=0)
        margins = (top[0] - top[1]) if n > 1 else np.ones(1)
        scale = np.max(np.abs(values))
        splits = np.flatnonzero(-np.diff(values) > EIGEN_CLUSTER_GAP * scale) + 1
        clusters = [[int(g[0]), len(g)] for g in np.split(np.arange(n), splits) if len(g) > 1]
        out[name] = {
            "n": n, "float32_exact": float32_exact,
            "a": write(f"eigen/{name}.a.f64", a, np.float64),
            "values": write(f"eigen/{name}.values.f64", values, np.float64),
            "vectors": write(f"eigen/{name}.vectors.f64", vectors, np.float64),
            "sign_margins": [float(x) for x in margins],
            "clusters": clusters,
            "spectral_norm": float(scale),
        }
        log(f"eigen {name} {n}×{n} λ {values[0]:.4g} … {values[-1]:.3g} clusters {clusters} "
            f"min sign margin {np.min(margins):.2e}")
    manifest = {
        "provenance": {
            "tools": {"python": platform.python_version(), "numpy": np.__version__},
            "command": EIGEN_COMMAND,
            "blas": "numpy wheel's OpenBLAS (LAPACK dsyevd)",
            "eigen": "np.linalg.eigh(float64), reversed to decreasing order; in each eigenvector (column) "
                     "the largest-magnitude entry (first on a tie) made positive",
            "cluster_gap": EIGEN_CLUSTER_GAP,
            "seed": 20250917,
        },
        "cases": out,
    }
    os.makedirs(os.path.join(OUT, "eigen"), exist_ok=True)
    with open(os.path.join(OUT, "eigen", "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    log(f"wrote {os.path.join(OUT, 'eigen')}")


# MARK: - The project's generator, written again from its published definition

MASK = (1 << 64) - 1


def splitmix64_states(seed, count):
    state, out = seed & MASK, []
    for _ in range(count):
        state = (state + 0x9E3779B97F4A7C15) & MASK
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        out.append(z ^ (z >> 31))
    return out


def xoshiro256starstar(seed):
    """xoshiro256** (Blackman & Vigna, prng.di.unimi.it/xoshiro256starstar.c), SplitMix64-seeded."""
    s = splitmix64_states(seed, 4)
    rotl = lambda x, k: ((x << k) | (x >> (64 - k))) & MASK
    while True:
        result = (rotl((s[1] * 5) & MASK, 7) * 9) & MASK
        t = (s[1] << 17) & MASK
        s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3]; s[2] ^= t
        s[3] = rotl(s[3], 45)
        yield result


def polar_gaussians(seed, count):
    """Marsaglia's polar method on uniforms (top 53 bits)·2⁻⁵³, with the platform's math.log."""
    import math
    gen, out = xoshiro256starstar(seed), []
    while len(out) < count:
        x = 2 * ((next(gen) >> 11) * 2.0 ** -53) - 1
        y = 2 * ((next(gen) >> 11) * 2.0 ** -53) - 1
        s = x * x + y * y
        if s >= 1 or s == 0:
            continue
        f = math.sqrt(-2 * math.log(s) / s)
        out += [x * f, y * f]
    return out[:count]


def pairwise_sum_reference():
    """np.sum of float32 arrays (numpy's pairwise summation in float32): heavy-tailed values so that
    the summation order shows in the last bits."""
    rng = np.random.default_rng(11)
    lengths = [1, 7, 8, 9, 16, 127, 128, 129, 300, 576, 2048]
    arrays = [(rng.random(n) ** 8 * 100).astype(np.float32) for n in lengths]
    return {"lengths": lengths,
            "values": write("pairwise/values.f32", np.concatenate(arrays), np.float32),
            "sums": write("pairwise/sums.f32", np.array([np.sum(a) for a in arrays], dtype=np.float32), np.float32)}


def rng_reference():
    out = {}
    for seed in (0, 1, 42, 2**64 - 1):
        gen = xoshiro256starstar(seed)
        out[str(seed)] = {"uint64": [str(next(gen)) for _ in range(8)],
                          "gaussian": polar_gaussians(seed, 9)}
    return out


# MARK: - Real weights (transformers' GGUF loader, float32, as the study gets them)

def load_weights(layers):
    import torch
    from transformers import AutoModelForCausalLM
    torch.set_num_threads(2)
    log(f"loading {MODEL} with transformers (dequantizes to float32, ~20 s)")
    model = AutoModelForCausalLM.from_pretrained(os.path.dirname(MODEL), gguf_file=os.path.basename(MODEL),
                                                 dtype=torch.float32)
    state = model.state_dict()
    weights = {}
    for layer in layers:
        for name in ("q_proj", "k_proj", "v_proj"):
            # What the study does: weight.detach().cpu().float().numpy() — PyTorch [out, in].
            w = state[f"model.layers.{layer}.self_attn.{name}.weight"].detach().cpu().float().numpy()
            weights[(layer, name)] = np.ascontiguousarray(w, dtype=np.float32)
    return weights


def dump_weights(weights):
    """Raw float32 [out, in] dumps for the Swift tests' temporary weight seam (RealWeights.swift)."""
    os.makedirs(DEV, exist_ok=True)
    out = {}
    for (layer, name), w in weights.items():
        path = os.path.join(DEV, f"layer{layer}.{name}.f32")
        w.astype("<f4").tofile(path)
        out[f"layer{layer}.{name}"] = {"shape": list(w.shape), "sha256": sha256(path),
                                       "sum": float(w.astype(np.float64).sum()),
                                       "frobenius": float(np.linalg.norm(w.astype(np.float64)))}
    return out


# MARK: - PCA (scikit-learn, rows are samples)

def study_count(pca, t):
    """The study's rule: np.argmax(np.cumsum(ratio) >= t) + 1 on a full fit. For float32 ratios the
    Python float t is a weak scalar (NEP 50), so the comparison happens in float32."""
    return int(np.argmax(np.cumsum(pca.explained_variance_ratio_) >= t) + 1)


def pca_case(key, x, gauge):
    from sklearn.decomposition import PCA
    n = min(x.shape)
    # As the study computes it: float32 input, so scikit-learn works in float32 (sgesdd).
    p32 = PCA(n_components=n, svd_solver="full").fit(x)
    assert p32.components_.dtype == np.float32
    # The same float32 values in float64: an accurate reference for σ and the components.
    x64 = x.astype(np.float64)
    p64 = PCA(n_components=n, svd_solver="full").fit(x64)

    cumsum32 = np.cumsum(p32.explained_variance_ratio_)
    counts, sklearn_counts, margins = [], [], []
    for t in THRESHOLDS:
        c = study_count(p32, t)
        # scikit-learn's own rule for a fractional n_components: searchsorted(cumsum, t, 'right') + 1.
        s = int(PCA(n_components=t, svd_solver="full").fit(x).n_components_)
        counts.append(c)
        sklearn_counts.append(s)
        # How far the cumulative ratio is from t on either side of the count (float64 units):
        # a count can only flip if an implementation's cumulative sum moves by more than this.
        below = float(cumsum32[c - 2]) if c >= 2 else 0.0
        margins.append(min(abs(float(cumsum32[c - 1]) - t), abs(t - below)))

    prefix = f"pca/{key}"
    entry = {
        "shape": list(x.shape),
        "mean": write(f"{prefix}.mean.f32", p64.mean_, np.float32),
        "singular_values_f64": write(f"{prefix}.s.f64", p64.singular_values_, np.float64),
        "explained_variance_f64": write(f"{prefix}.var.f64", p64.explained_variance_, np.float64),
        "explained_variance_ratio_f64": write(f"{prefix}.ratio.f64", p64.explained_variance_ratio_, np.float64),
        "components_f64_head": write(f"{prefix}.components.f32", p64.components_[:COMPONENT_ROWS], np.float32),
        "component_checksums_f64": write(f"{prefix}.checksums.f64", p64.components_ @ gauge.astype(np.float64),
                                         np.float64),
        "singular_values_f32": write(f"{prefix}.s32.f32", p32.singular_values_, np.float32),
        "explained_variance_ratio_f32": write(f"{prefix}.ratio32.f32", p32.explained_variance_ratio_, np.float32),
        "components_f32_head": write(f"{prefix}.components32.f32", p32.components_[:COMPONENT_ROWS], np.float32),
        "thresholds": THRESHOLDS,
        "counts_study": counts,
        "counts_sklearn": sklearn_counts,
        "count_margins": margins,
        "counts_f64": [study_count(p64, t) for t in THRESHOLDS],
        # σ of the uncentred matrix (LAPACK, float64): the exact side of the randomized-SVD tests.
        "raw_singular_values_f64": write(f"{prefix}.raw_s.f64", np.linalg.svd(x64, compute_uv=False), np.float64),
    }
    # Smallest relative gap between neighbouring σ among the stored components (how well determined).
    s = p64.singular_values_
    gaps = np.abs(np.diff(s)) / s[0]
    entry["min_relative_gap_head"] = float(np.min(gaps[:COMPONENT_ROWS]))
    entry["min_relative_gap_all"] = float(np.min(gaps))
    log(f"pca {key} {x.shape} counts {counts} sklearn {sklearn_counts} min margin {min(margins):.2e}")
    return entry


def main():
    import sklearn
    os.makedirs(OUT, exist_ok=True)
    manifest = {
        "provenance": {
            "tools": versions(),
            "command": COMMAND,
            "model": os.path.basename(MODEL),
            "model_sha256": sha256(MODEL) if os.path.exists(MODEL) else None,
            "blas": "numpy/scipy wheels' OpenBLAS (LAPACK gesdd)",
            "svd": "np.linalg.svd(float64 of the float32 input, full_matrices=False), signs by "
                   "sklearn svd_flip(u_based_decision=True)",
            "pca": "sklearn PCA(n_components=min(shape), svd_solver='full') on float32 (the study) and "
                   "on the same values in float64 (accurate σ and components)",
        },
        "svd": svd_cases(),
        "rng": rng_reference(),
        "pairwise_sum": pairwise_sum_reference(),
    }
    weights = load_weights([0, 15])
    manifest["weights"] = dump_weights(weights)
    gauge = np.random.default_rng(7).standard_normal(576).astype(np.float32)
    manifest["gauge"] = write("pca/gauge.f32", gauge, np.float32)
    pca = {}
    for layer in (0, 15):
        pca[f"layer{layer}.q_proj"] = pca_case(f"layer{layer}.q_proj", weights[(layer, "q_proj")], gauge)
        pca[f"layer{layer}.k_proj"] = pca_case(f"layer{layer}.k_proj", weights[(layer, "k_proj")], gauge)
        kv = np.vstack([weights[(layer, "k_proj")], weights[(layer, "v_proj")]])   # the study's shared K/V
        pca[f"layer{layer}.kv_proj"] = pca_case(f"layer{layer}.kv_proj", kv, gauge)
    manifest["pca"] = pca
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    log(f"wrote {OUT} (scikit-learn {sklearn.__version__})")
    eigen_cases()


if __name__ == "__main__":
    parts = sys.argv[1:]
    if parts == ["eigen"]:
        eigen_cases()
    elif not parts:
        main()
    else:
        raise SystemExit(f"usage: linalg.py [eigen]  (unknown part {' '.join(parts)})")
