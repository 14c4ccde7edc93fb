# Shared helpers for the transformers / scikit-learn reference scripts (model.py, study.py,
# compress_check.py): paths, provenance, raw fixture writers, model loading, protocol P1.
# Everything here is an independent implementation's behaviour (transformers 5.x, torch,
# scikit-learn); nothing reads this project's own output.
import hashlib
import json
import os
import platform
import sys
import time

import numpy as np

# Machines running this are shared (2 cores, parallel builds): OpenMP threads that spin while
# waiting made a 512-token forward 2-3× slower under load. Sleeping waits change no result.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))

# MARK: - Paths (env vars set by run.sh; sensible defaults when a script is run directly)

FIXTURES = os.environ.get("FIXTURES", os.path.join(ROOT, "Tests", "Fixtures"))
SURGERY_MODEL = os.environ.get(
    "SURGERY_MODEL",
    os.path.expanduser("~/.cache/surgery/models/SmolLM2-135M-Instruct.Q4_1.gguf"))
SHARED_DATA = os.environ.get("SHARED_DATA", os.path.join(ROOT, "..", "shared", "data"))
WIKITEXT = os.path.join(SHARED_DATA, "wikitext-2-test.txt")

MODEL_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
THREADS = 2


def log(*args):
    print(f"[{time.strftime('%H:%M:%S')}]", *args, file=sys.stderr, flush=True)


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def versions():
    import sklearn
    import torch
    import transformers
    import tokenizers
    import scipy
    out = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "tokenizers": tokenizers.__version__,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "scikit-learn": sklearn.__version__,
    }
    try:
        import gguf
        out["gguf"] = getattr(gguf, "__version__", "0.19.0 (pinned)")
    except Exception:
        pass
    return out


def check_model_file(path=SURGERY_MODEL):
    """Refuse to record anything from a model file that is not the pinned one."""
    digest = sha256_file(path)
    if digest != MODEL_SHA256:
        raise SystemExit(f"{path}: SHA-256 {digest}, expected {MODEL_SHA256}")
    return digest


# MARK: - Raw fixture writers (little-endian, no header; shapes live in the JSON manifest)

def write_raw(path, array, dtype):
    a = np.ascontiguousarray(np.asarray(array, dtype=dtype))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    a.tofile(path)
    return list(np.asarray(array).shape)


def write_f32(path, array):
    return write_raw(path, array, "<f4")


def write_f64(path, array):
    return write_raw(path, array, "<f8")


def write_i32(path, array):
    return write_raw(path, array, "<i4")


def write_json(path, obj):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=1, ensure_ascii=False, sort_keys=False)
        f.write("\n")
    os.replace(tmp, path)


# MARK: - Loading SmolLM2 from the GGUF with transformers

def torch_setup():
    import torch
    torch.set_num_threads(THREADS)
    torch.manual_seed(0)
    return torch


def load_smollm2(path=SURGERY_MODEL):
    """transformers dequantizes the GGUF (Q4_1 / Q8_0 / F32) to float32 and undoes llama.cpp's
    Q/K row permutation, so the weights are in Hugging Face layout. Eager attention: the plain
    softmax(QKᵀ/√d + mask)V path, no fused kernel."""
    torch = torch_setup()
    from transformers import AutoModelForCausalLM, AutoTokenizer
    directory, name = os.path.split(path)
    tok = AutoTokenizer.from_pretrained(directory, gguf_file=name)
    model = AutoModelForCausalLM.from_pretrained(
        directory, gguf_file=name, dtype=torch.float32, attn_implementation="eager")
    model.eval()
    return model, tok


def encode(tok, text):
    """Token ids without any special tokens (SmolLM2 adds no BOS anyway; model.py checks that)."""
    return tok(text, add_special_tokens=False)["input_ids"]


def read_utf8(path):
    """Read as bytes and decode strictly: no newline translation (Python's text mode would fold
    \\r\\n), no BOM stripping."""
    with open(path, "rb") as f:
        return f.read().decode("utf-8")


# MARK: - Perplexity protocol P1 (DESIGN.md)
# Tokenize the whole text without BOS/special tokens; consecutive non-overlapping windows of
# `window` tokens from the start (a short tail is dropped); in each window the logits at
# positions 0..N-2 score tokens 1..N-1 (N-1 scored per window); ppl = exp(ΣNLL / Σscored).

def p1_windows(ids, window=512, windows=None):
    count = len(ids) // window
    if windows is not None:
        count = min(count, windows)
    return [ids[i * window:(i + 1) * window] for i in range(count)]


def window_logits(model, window_ids):
    """One prefill of a window → float32 logits [N, V]."""
    import torch
    with torch.no_grad():
        x = torch.tensor([window_ids], dtype=torch.long)
        return model(input_ids=x, use_cache=False).logits[0].float()


def scored_logprobs(logits, window_ids):
    """float64 log-softmax of the rows that score tokens 1..N-1, and those targets."""
    import torch
    lp = torch.log_softmax(logits[:-1].double(), dim=-1)              # (N-1, V) float64
    targets = torch.tensor(window_ids[1:], dtype=torch.long)          # (N-1,)
    return lp, targets
