"""Reference values for the Tensor module (Tests/Fixtures/tensor), from numpy and PyTorch.

Run: Tools/reference/run.sh tensor.py   (or: PY=$(Tools/reference/venv.sh); $PY Tools/reference/tensor.py)

Writes, little-endian:
  half_to_float.f32         65,536 float32: numpy's float16 -> float32 widening of every binary16 pattern
  bfloat16_to_float.f32     65,536 float32: every bfloat16 pattern widened (numpy uint32 shift, bits << 16)
  narrowing_inputs.f32      N float32 inputs (specials, every rounding tie for both formats, ties ± 1 ulp,
                            random bit patterns, random values in binary16's range)
  narrowing_half.u16        N: numpy `astype(np.float16)` (IEEE round to nearest, ties to even)
  narrowing_bfloat16.u16    N: torch `.to(torch.bfloat16)` (PyTorch's own round-to-nearest-even)
  kernels/*.f32 + kernels.json   small random inputs and PyTorch/transformers outputs for RMSNorm,
                            softmax, log-softmax, SiLU, SwiGLU and RoPE
  manifest.json             versions, counts and the command
NaN results are compared as "is NaN" only (payload and sign of a NaN differ between implementations:
torch's vectorised bfloat16 path returns 0xFFFF for every NaN).
"""
import json
import os
import sys

import numpy as np
import torch

FIXTURES = os.environ.get("FIXTURES") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../Tests/Fixtures")
OUT = os.path.join(FIXTURES, "tensor")
SEED = 20240611


def write(name, array, dtype):
    path = os.path.join(OUT, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    np.ascontiguousarray(array, dtype=dtype).astype(np.dtype(dtype).newbyteorder("<")).tofile(path)
    return os.path.getsize(path)


def as_f32(bits):
    return np.asarray(bits, dtype=np.uint32).view(np.float32)


# MARK: - Widening: every 16-bit pattern

def widening():
    patterns = np.arange(65536, dtype=np.uint32)
    half = patterns.astype(np.uint16).view(np.float16).astype(np.float32)
    bf16 = (patterns << np.uint32(16)).view(np.float32)
    write("half_to_float.f32", half, np.float32)
    write("bfloat16_to_float.f32", bf16, np.float32)


# MARK: - Narrowing: inputs chosen to hit every rounding decision

def narrowing_inputs(rng):
    parts = []
    # Specials: ±0, ±∞, NaNs with assorted payloads (quiet, signalling, payload only in dropped bits),
    # the largest finite floats, float32 subnormals.
    specials = [0x00000000, 0x80000000, 0x7F800000, 0xFF800000, 0x7FC00000, 0xFFC00000, 0x7F800001,
                0xFF800001, 0x7FBFFFFF, 0x7FFFFFFF, 0x7F801FFF, 0x7FA00000, 0x7F7FFFFF, 0xFF7FFFFF,
                0x00000001, 0x80000001, 0x007FFFFF, 0x807FFFFF, 0x00800000, 0x3F800000, 0xBF800000,
                0x477FE000, 0x477FEFFF, 0x477FF000, 0x477FF001, 0x47800000,   # around half's max 65504
                0x7F7F7FFF, 0x7F7F8000, 0x7F7F8001]                            # around bfloat16's max
    parts.append(np.array(specials, dtype=np.uint32))

    # binary16 ties: the float32 exactly halfway between each positive finite half h and the next one
    # (for 0x7BFF the next is +∞: 65520 rounds to ∞). Every one of them, plus one float32 ulp below or
    # above (a random half of them each).
    h = np.arange(0x0000, 0x7C00, dtype=np.uint32)
    lo = h.astype(np.uint16).view(np.float16).astype(np.float64)
    hi = np.where(h < 0x7BFF, (h + 1).astype(np.uint16).view(np.float16).astype(np.float64), 65536.0)
    mid = ((lo + hi) / 2).astype(np.float32)                 # exact: 12 significant bits
    assert np.all(mid.astype(np.float64) == (lo + hi) / 2)
    mid_bits = mid.view(np.uint32)
    parts.append(mid_bits)
    pick = rng.random(mid_bits.size) < 0.5
    parts.append(mid_bits[pick] - 1)
    parts.append(mid_bits[~pick] + 1)

    # bfloat16 ties: the low 16 bits exactly 0x8000 for every positive finite bfloat16, plus ± 1 ulp on
    # a random half of them.
    b = np.arange(0x0000, 0x7F80, dtype=np.uint32)
    tie = (b << np.uint32(16)) | np.uint32(0x8000)
    parts.append(tie)
    pick = rng.random(tie.size) < 0.5
    parts.append(tie[pick] - 1)
    parts.append(tie[~pick] + 1)

    # Random bit patterns (every exponent equally likely) and random values in binary16's range
    # (exponents -27 … 16, where half rounding is interesting).
    parts.append(rng.integers(0, 2**32, size=20000, dtype=np.uint64).astype(np.uint32))
    exponent = rng.integers(127 - 27, 127 + 17, size=20000).astype(np.uint32)
    mantissa = rng.integers(0, 2**23, size=20000).astype(np.uint32)
    parts.append((exponent << np.uint32(23)) | mantissa)

    bits = np.concatenate(parts)
    sign = rng.random(bits.size) < 0.5                       # each case with a random sign
    sign[: len(specials)] = False                            # specials keep the sign they were given
    bits = bits | (sign.astype(np.uint32) << np.uint32(31))
    return bits


def narrowing(rng):
    bits = narrowing_inputs(rng)
    x = as_f32(bits)
    with np.errstate(over="ignore", invalid="ignore"):
        half = x.astype(np.float16).view(np.uint16)
    bf16 = torch.from_numpy(x.copy()).to(torch.bfloat16).view(torch.int16).numpy().view(np.uint16)
    write("narrowing_inputs.f32", bits.view(np.float32), np.float32)
    write("narrowing_half.u16", half, np.uint16)
    write("narrowing_bfloat16.u16", bf16, np.uint16)
    return int(bits.size)


# MARK: - Kernels: small random inputs through PyTorch / transformers / numpy

def kernels(rng):
    """Each case: inputs and outputs as raw .f32 under kernels/, shapes and parameters in kernels.json."""
    import torch.nn.functional as F
    import transformers
    from transformers import LlamaConfig
    from transformers.models.llama.modeling_llama import LlamaRMSNorm, LlamaRotaryEmbedding, apply_rotary_pos_emb

    cases = []
    torch.manual_seed(SEED)

    def f32(a):
        return np.asarray(a, dtype=np.float32)

    def save(case, **arrays):
        files = {}
        for key, value in arrays.items():
            name = f"kernels/{case['name']}_{key}.f32"
            write(name, f32(value).ravel(), np.float32)
            files[key] = name
        case["files"] = files
        cases.append(case)

    # RMSNorm: transformers' LlamaRMSNorm with a random weight, odd and model-sized widths.
    # The last case has mean(x²) near ε, so ε's placement matters.
    for rows, dim, eps, scale in [(3, 37, 1e-5, 3), (2, 576, 1e-5, 3), (4, 16, 1e-6, 1), (3, 50, 1e-5, 3e-3)]:
        x = rng.normal(size=(rows, dim)).astype(np.float32) * scale
        w = rng.normal(size=dim).astype(np.float32)
        norm = LlamaRMSNorm(dim, eps=eps)
        with torch.no_grad():
            norm.weight.copy_(torch.from_numpy(w))
            y = norm(torch.from_numpy(x)).numpy()
        save({"name": f"rmsnorm_{rows}x{dim}", "kernel": "rmsnorm", "rows": rows, "dim": dim, "epsilon": eps},
             x=x, weight=w, y=y)

    # Softmax, log-softmax, log-sum-exp over rows: mixed scales, one row with a huge spread, a row
    # with −∞ entries (masked positions), odd and vector-multiple widths.
    for rows, columns in [(5, 45), (3, 16), (2, 1000)]:
        x = (rng.normal(size=(rows, columns)) * np.array([1, 10, 30, 0.1, 3][:rows])[:, None]).astype(np.float32)
        if rows >= 3:
            x[2, ::3] = -np.inf
        t = torch.from_numpy(x)
        save({"name": f"softmax_{rows}x{columns}", "kernel": "softmax", "rows": rows, "columns": columns},
             x=x, softmax=torch.softmax(t, -1).numpy(), logsoftmax=torch.log_softmax(t, -1).numpy(),
             logsumexp=torch.logsumexp(t, -1).numpy())

    # NLL and KL(p ‖ q) per row from two sets of logits, as perplexity and model comparison use them.
    rows, columns = 4, 1003
    p = (rng.normal(size=(rows, columns)) * 4).astype(np.float32)
    q = (p + rng.normal(size=(rows, columns)) * 0.5).astype(np.float32)
    targets = rng.integers(0, columns, size=rows)
    tp, tq = torch.from_numpy(p), torch.from_numpy(q)
    nll = F.cross_entropy(tp, torch.from_numpy(targets), reduction="none").numpy()
    kl = F.kl_div(torch.log_softmax(tq, -1), torch.log_softmax(tp, -1), log_target=True, reduction="none").sum(-1).numpy()
    save({"name": f"divergence_{rows}x{columns}", "kernel": "divergence", "rows": rows, "columns": columns,
          "targets": [int(t) for t in targets]}, p=p, q=q, nll=nll, kl=kl)

    # SiLU and SwiGLU: torch.nn.functional.silu; inputs across the range, plus extremes.
    x = np.concatenate([rng.uniform(-20, 20, size=990), [-200, -100, -88, -30, 0, 1e-30, 30, 88, 100, 200]]).astype(np.float32)
    save({"name": "silu_1000", "kernel": "silu", "count": x.size}, x=x, y=F.silu(torch.from_numpy(x)).numpy())
    g = rng.normal(size=333).astype(np.float32) * 4
    u = rng.normal(size=333).astype(np.float32)
    y = (F.silu(torch.from_numpy(g)) * torch.from_numpy(u)).numpy()
    save({"name": "swiglu_333", "kernel": "swiglu", "count": g.size}, gate=g, up=u, y=y)

    # RoPE: transformers' LlamaRotaryEmbedding + apply_rotary_pos_emb (rotate half), (T, H, Dh) inputs
    # at scattered positions; SmolLM2's head dim and θ, and an odd half-width.
    for heads, head_dim, theta, positions in [(3, 64, 100000.0, [0, 1, 7, 100, 511, 2047, 8191]),
                                               (2, 40, 10000.0, [0, 3, 64, 1000, 4095])]:
        config = LlamaConfig(hidden_size=heads * head_dim, num_attention_heads=heads, num_key_value_heads=heads,
                             head_dim=head_dim, rope_theta=theta, max_position_embeddings=max(positions) + 1)
        rotary = LlamaRotaryEmbedding(config)
        T = len(positions)
        x = rng.normal(size=(T, heads, head_dim)).astype(np.float32)
        q = torch.from_numpy(x).transpose(0, 1).unsqueeze(0)                      # (1, H, T, Dh)
        cos, sin = rotary(q, torch.tensor([positions]))
        y, _ = apply_rotary_pos_emb(q, q, cos, sin)
        y = y.squeeze(0).transpose(0, 1).contiguous().numpy()                    # (T, H, Dh)
        save({"name": f"rope_{heads}x{head_dim}", "kernel": "rope", "heads": heads, "headDim": head_dim,
              "theta": theta, "positions": positions}, x=x, y=y,
             cos=cos.squeeze(0)[:, : head_dim // 2].numpy(), sin=sin.squeeze(0)[:, : head_dim // 2].numpy())

    # GEMM: numpy (OpenBLAS sgemm) on odd shapes, both B layouts.
    m, n, k = 37, 41, 29
    a = rng.uniform(-1, 1, size=(m, k)).astype(np.float32)
    b = rng.uniform(-1, 1, size=(k, n)).astype(np.float32)
    save({"name": f"gemm_{m}x{n}x{k}", "kernel": "gemm", "m": m, "n": n, "k": k}, a=a, b=b, bT=b.T.copy(), c=a @ b)

    with open(os.path.join(OUT, "kernels.json"), "w") as f:
        json.dump({"provenance": {"tool": f"torch {torch.__version__}, transformers {transformers.__version__}, "
                                          f"numpy {np.__version__}", "command": "Tools/reference/run.sh tensor.py",
                                  "seed": SEED},
                   "cases": cases}, f, indent=1)
        f.write("\n")


# MARK: - Manifest

def main():
    rng = np.random.default_rng(SEED)
    widening()
    count = narrowing(rng)
    kernels(rng)
    manifest = {
        "provenance": {
            "tool": f"numpy {np.__version__}, torch {torch.__version__}, python {sys.version.split()[0]}",
            "command": "Tools/reference/run.sh tensor.py",
            "seed": SEED,
        },
        "narrowingCount": count,
        "halfWidening": "numpy: np.arange(65536).astype(np.uint16).view(np.float16).astype(np.float32)",
        "bfloat16Widening": "numpy: (np.arange(65536, dtype=np.uint32) << 16).view(np.float32)",
        "halfNarrowing": "numpy: x.astype(np.float16) — IEEE round to nearest, ties to even, overflow to inf",
        "bfloat16Narrowing": "torch: torch.from_numpy(x).to(torch.bfloat16) — round to nearest, ties to even",
        "nan": "NaN results compared as is-NaN only",
    }
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    print(f"wrote {OUT}: {count} narrowing inputs")


if __name__ == "__main__":
    main()
