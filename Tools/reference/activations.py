# Reference values for the activation basis (issue 9): calibration statistics recorded with
# transformers forward hooks, output PCA factors from numpy.linalg.eigh (LAPACK syevd), and
# transformers' perplexity / KL / top-1 of SmolLM2 surgered with those factors → Tests/Fixtures/activations/.
#
#   C_l = Σ_t x_t x_tᵀ   x_t = output of layer l's input_layernorm (float32), summed in float64
#   M = W C Wᵀ (W = [W_k; W_v], or one matrix), M = U Λ Uᵀ, Ŵ = U_r U_rᵀ W
#   balance: S = diag(α on K's rows, 1 on V's), α = √(tr M_vv / tr M_kk); Ŵ = S⁻¹ U_r U_rᵀ S W (U of S M S)
#
# Usage: Tools/reference/run.sh activations.py            (tiny and smollm2)
#        $PY Tools/reference/activations.py tiny          (one part)
import os
import sys
import time

from common_ref import (FIXTURES, SURGERY_MODEL, WIKITEXT, check_model_file, encode, load_smollm2,
                        log, p1_windows, read_utf8, scored_logprobs, torch_setup, versions,
                        window_logits, write_f32, write_f64, write_i32, write_json)

import numpy as np

OUT = os.path.join(FIXTURES, "activations")
COMMAND = "Tools/reference/run.sh activations.py"
TINY_DIR = os.environ.get("TINY_MODEL", os.path.join(FIXTURES, "tiny", "f32"))
TINY_RANKS = [4, 16, 40]
SMOL_RANKS = [96, 192, 288]
SMOL_LAYERS = [0, 15, 29]
P1_WINDOW = 512
P1_WINDOWS = 16
CALIBRATION_WINDOWS = 8          # windows 16..23 of WikiText-2: disjoint from the evaluated 0..15


def second_moments(model, windows):
    """Σ x xᵀ of every layer's input_layernorm output over the windows, float64."""
    import torch
    layers = model.model.layers
    d = model.config.hidden_size
    C = [np.zeros((d, d)) for _ in layers]
    hooks = []
    for i, layer in enumerate(layers):
        def hook(module, inputs, output, i=i):
            x = output[0].detach().double().numpy()                    # (T, D)
            C[i] += x.T @ x
        hooks.append(layer.input_layernorm.register_forward_hook(hook))
    with torch.no_grad():
        for w in windows:
            model(input_ids=torch.tensor([w]), use_cache=False)
    for h in hooks:
        h.remove()
    return C


def eigh_desc(M):
    values, vectors = np.linalg.eigh(M)                                # ascending
    return values[::-1].copy(), vectors[:, ::-1].copy()


def output_pca(W, C, balanced=False, k_rows=None):
    """λ (descending), U, and the row scale of the output PCA of W under C."""
    M = W @ C @ W.T
    scale = np.ones(W.shape[0])
    if balanced:
        alpha = np.sqrt(np.trace(M[k_rows:, k_rows:]) / np.trace(M[:k_rows, :k_rows]))
        scale[:k_rows] = alpha
        M = M * scale[:, None] * scale[None, :]
    M = (M + M.T) / 2
    lam, U = eigh_desc(M)
    return lam, U, scale


def reconstruct(W, U, scale, r):
    Ur = U[:, :r]
    SW = W * scale[:, None]
    return (Ur @ (Ur.T @ SW)) / scale[:, None]


def qkv(model):
    out = []
    for layer in model.model.layers:
        a = layer.self_attn
        out.append({m: getattr(a, f"{m}_proj").weight.detach().double().numpy() for m in "qkv"})
    return out


# MARK: - Part 1: the tiny model, everything stored whole

def tiny():
    torch = torch_setup()
    from transformers import AutoModelForCausalLM
    model = AutoModelForCausalLM.from_pretrained(TINY_DIR, dtype=torch.float32, attn_implementation="eager")
    model.eval()
    rng = np.random.default_rng(9)
    windows = rng.integers(0, model.config.vocab_size, size=(4, 48)).tolist()
    C = second_moments(model, windows)
    weights = qkv(model)
    entries = []
    write_i32(os.path.join(OUT, "tiny", "tokens.i32"), np.array(windows))
    for i, (c, w) in enumerate(zip(C, weights)):
        write_f64(os.path.join(OUT, "tiny", f"C{i}.f64"), c)
        kv = np.vstack([w["k"], w["v"]])
        groups = [("kv", kv, False), ("kv_balanced", kv, True), ("q", w["q"], False),
                  ("k", w["k"], False), ("v", w["v"], False)]
        for name, W, balanced in groups:
            lam, U, scale = output_pca(W, c, balanced, w["k"].shape[0])
            write_f64(os.path.join(OUT, "tiny", f"L{i}_{name}_eigenvalues.f64"), lam)
            for r in TINY_RANKS:
                if r > min(W.shape):
                    continue
                R = reconstruct(W, U, scale, r)
                f = f"L{i}_{name}_r{r}.f32"
                write_f32(os.path.join(OUT, "tiny", f), R)
                entries.append({"layer": i, "group": name, "rank": r, "file": f, "shape": list(R.shape),
                                "energy_kept": float(lam[:r].sum() / lam.sum())})
    write_json(os.path.join(OUT, "tiny.json"), {
        "provenance": {"tool": "transformers forward hooks on input_layernorm; numpy.linalg.eigh",
                       "versions": versions(), "command": COMMAND + " tiny",
                       "model_dir": "Tests/Fixtures/tiny/f32"},
        "tokens": {"file": "tiny/tokens.i32", "shape": [4, 48]},
        "moments": [f"tiny/C{i}.f64" for i in range(len(C))],
        "width": model.config.hidden_size, "reconstructions": entries})
    log(f"tiny: {len(entries)} reconstructions")


# MARK: - Part 2: SmolLM2, statistics on WikiText windows 16..23, evaluation on P1-16

def evaluate(model, windows, base_logits=None):
    import torch
    nll, kl, agree, kept = 0.0, 0.0, 0, []
    for j, w in enumerate(windows):
        logits = window_logits(model, w)
        lp, targets = scored_logprobs(logits, w)
        nll += float(-lp.gather(1, targets[:, None]).sum())
        if base_logits is None:
            kept.append(logits)
        else:
            base = base_logits[j]
            lpb = torch.log_softmax(base[:-1].double(), dim=-1)
            kl += float((lpb.exp() * (lpb - lp)).sum())
            agree += int((base[:-1].argmax(-1) == logits[:-1].argmax(-1)).sum())
    return nll, kl, agree, kept


def smollm2():
    import torch
    check_model_file()
    model, tok = load_smollm2()
    ids = encode(tok, read_utf8(WIKITEXT))
    all_windows = p1_windows(ids, P1_WINDOW, P1_WINDOWS + CALIBRATION_WINDOWS)
    evaluated, calibration = all_windows[:P1_WINDOWS], all_windows[P1_WINDOWS:]
    write_i32(os.path.join(OUT, "smollm2_calibration_ids.i32"), np.array(calibration))
    t0 = time.time()
    C = second_moments(model, calibration)
    log(f"smollm2: statistics of {len(calibration)} windows in {time.time() - t0:.0f} s")
    weights = qkv(model)
    layers = []
    for i, (c, w) in enumerate(zip(C, weights)):
        kv = np.vstack([w["k"], w["v"]])
        lam, U, scale = output_pca(kv, c)
        lamb, Ub, scaleb = output_pca(kv, c, True, w["k"].shape[0])
        entry = {"layer": i, "trace": float(np.trace(c)), "frobenius": float(np.linalg.norm(c)),
                 "eigenvalues_kv": lam.tolist(), "eigenvalues_kv_balanced": lamb.tolist(),
                 "alpha": float(scaleb[0])}
        if i in SMOL_LAYERS:
            picks = [0, 1, 287, 575]
            entry["moment_rows"] = {str(p): c[p].tolist() for p in picks}
            entry["moment_diagonal"] = np.diag(c).tolist()
            recon = {}
            for r in SMOL_RANKS:
                for name, (UU, ss) in {"kv": (U, scale), "kv_balanced": (Ub, scaleb)}.items():
                    R = reconstruct(kv, UU, ss, r)
                    recon[f"{name}_r{r}"] = {"frobenius": float(np.linalg.norm(R)),
                                             "rows": {str(p): R[p].tolist() for p in [0, 100, 383]}}
            entry["reconstructions"] = recon
        layers.append(entry)

    nll, _, _, base_logits = evaluate(model, evaluated)
    scored = len(evaluated) * (P1_WINDOW - 1)
    base = {"perplexity": float(np.exp(nll / scored)), "total_nll": nll}
    log(f"smollm2: base ppl {base['perplexity']:.4f}")
    rows = []
    originals = [{m: getattr(l.self_attn, f"{m}_proj").weight.detach().clone() for m in "kv"} for l in model.model.layers]
    for balanced in [False, True]:
        for r in SMOL_RANKS:
            with torch.no_grad():
                for i, layer in enumerate(model.model.layers):
                    w = weights[i]
                    kv = np.vstack([w["k"], w["v"]])
                    lam, U, scale = output_pca(kv, C[i], balanced, w["k"].shape[0])
                    R = reconstruct(kv, U, scale, r).astype(np.float32)
                    k_rows = w["k"].shape[0]
                    layer.self_attn.k_proj.weight.copy_(torch.from_numpy(R[:k_rows]))
                    layer.self_attn.v_proj.weight.copy_(torch.from_numpy(R[k_rows:]))
            nll, kl, agree, _ = evaluate(model, evaluated, base_logits)
            with torch.no_grad():
                for layer, o in zip(model.model.layers, originals):
                    layer.self_attn.k_proj.weight.copy_(o["k"])
                    layer.self_attn.v_proj.weight.copy_(o["v"])
            row = {"rank": r, "balanced": balanced, "perplexity": float(np.exp(nll / scored)),
                   "total_nll": nll, "kl_mean": kl / scored, "top1_agreement": agree / scored,
                   "top1_agree_count": agree}
            rows.append(row)
            log(f"smollm2: r={r} balanced={balanced}: ppl {row['perplexity']:.4f} KL {row['kl_mean']:.5f} "
                f"top1 {row['top1_agreement']:.4f}")
    write_json(os.path.join(OUT, "smollm2.json"), {
        "provenance": {"tool": "transformers forward hooks (float32 model from the GGUF, eager attention); "
                               "C summed in float64; numpy.linalg.eigh", "versions": versions(),
                       "command": COMMAND + " smollm2"},
        "calibration": {"file": "smollm2_calibration_ids.i32", "windows": len(calibration), "window": P1_WINDOW,
                        "first_window": P1_WINDOWS},
        "evaluation": {"window": P1_WINDOW, "windows": P1_WINDOWS, "scored_tokens": scored,
                       "window_ids_file": "model/wikitext_p1_16_ids.i32"},
        "layers": layers, "base": base, "surgered": rows})


if __name__ == "__main__":
    parts = sys.argv[1:] or ["tiny", "smollm2"]
    for part in parts:
        {"tiny": tiny, "smollm2": smollm2}[part]()
