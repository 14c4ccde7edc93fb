# Checks a folder written by `surgery compress` (issue 5) with transformers: loads it as a
# Hugging Face model and compares its logits for one prompt with an independent reference —
# transformers' own model from the original GGUF, unchanged (--mode none) or surgered by the
# study's scikit-learn code path (study.py), or a recorded logits file — and checks its tokenizer:
# AutoTokenizer on the folder must give, on the 66 strings of Tests/Fixtures/tokenizer/strings.json
# and on all of WikiText-2, the ids `tokenizers` gave with SmolLM2's own pre-tokenizer
# (Tests/Fixtures/tokenizer/smollm2.json, `ids_digits`), and render the chat conversations of
# chat.json as SmolLM2's template does.
#
# Usage:
#   $PY Tools/reference/compress_check.py OUT_DIR --mode none                  # a plain export
#   $PY Tools/reference/compress_check.py OUT_DIR --mode shared-kv --variance 0.9 --centring pca
#   $PY Tools/reference/compress_check.py OUT_DIR --expected logits.f32   # [T, V] float32
# Exit status: 0 when max|Δ| of the logits is within --tolerance and the tokenizer agrees, 1 when
# not, 2 on bad input. Without OUT_DIR (as `run.sh` with no arguments runs every script) it only
# says what it is for: it records no fixture.
import argparse
import json
import os
import sys

import numpy as np

from common_ref import FIXTURES, SURGERY_MODEL, WIKITEXT, encode, load_smollm2, log, read_utf8, torch_setup

PROMPT = "The old lighthouse keeper climbed the stairs every evening, lit the lamp, and watched"

# Suggested bounds on max|Δ| of logits. f32: the folder holds the reconstruction made by another
# implementation (≈1e-6 relative apart) and runs through the same transformers code, so only
# summation-order noise remains (measured float32 vs float64 model: ~1e-4). f16/bf16: the
# reference weights are rounded to the folder's dtype first; a reconstruction that differs in
# the last float32 bits can still round to the neighbouring f16/bf16 value (one ulp is 2⁻¹¹ /
# 2⁻⁸ relative) — these two are starting guesses, to be confirmed on the first real folder.
TOLERANCE = {"float32": 1e-3, "float16": 1e-2, "bfloat16": 5e-2}

CONFIG_KEYS = ["hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads",
               "num_key_value_heads", "vocab_size", "rms_norm_eps", "tie_word_embeddings"]


def fail(message, status=2):
    print(f"compress_check: {message}", file=sys.stderr)
    sys.exit(status)


# MARK: - The folder under test

def load_folder(folder):
    torch = torch_setup()
    from transformers import AutoModelForCausalLM, AutoTokenizer
    if not os.path.isfile(os.path.join(folder, "config.json")):
        fail(f"{folder}: no config.json")
    with open(os.path.join(folder, "config.json"), encoding="utf-8") as f:
        config = json.load(f)
    stored = str(config.get("torch_dtype", config.get("dtype", "float32"))).replace("torch.", "")
    # Load in float32 so both sides compute the same way; the stored dtype only decides how the
    # reference weights are rounded.
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32,
                                                 attn_implementation="eager")
    model.eval()
    tok = AutoTokenizer.from_pretrained(folder)
    return model, tok, config, stored


def safetensors_dtype(folder):
    """The dtype actually stored for the attention projections (config.json may not say)."""
    from safetensors import safe_open
    files = [f for f in os.listdir(folder) if f.endswith(".safetensors")]
    if not files:
        fail(f"{folder}: no .safetensors file")
    for name in files:
        with safe_open(os.path.join(folder, name), framework="pt") as f:
            for key in f.keys():
                if key.endswith("self_attn.q_proj.weight"):
                    return str(f.get_slice(key).get_dtype()).lower()
    fail(f"{folder}: no q_proj weight in any safetensors file")


# MARK: - The reference

def reference_model(args, dtype):
    """transformers' model from the GGUF — unchanged for --mode none, else q/k/v replaced by the
    study's reconstruction (study.py: scikit-learn PCA, svd_solver='full', float32) — then every
    weight rounded to the folder's dtype as the compressed file stores it."""
    import torch
    from study import fit_all, layer_reconstruction, set_qkv, smollm2_qkv
    model, tok = load_smollm2(args.model)
    counts = None
    if args.mode != "none":
        if args.targets != "q,k,v":
            fail("the study's code path covers --targets q,k,v only")
        if args.centring not in ("seed", "pca"):
            fail("the study's code path has the centrings 'seed' and 'pca' only")
        if not 0 < args.variance <= 1:
            fail(f"--variance {args.variance} is outside (0, 1]")
        fits = fit_all(smollm2_qkv(model))
        layers = [layer_reconstruction(f, args.mode, args.centring, args.variance) for f in fits]
        set_qkv(model, [{m: l[m][0].astype(np.float32) for m in "qkv"} for l in layers])
        counts = {m: [l[m][1] for l in layers] for m in "qkv"}
    rounding = {"float16": torch.float16, "f16": torch.float16, "bfloat16": torch.bfloat16,
                "bf16": torch.bfloat16}.get(dtype)
    if rounding is not None:
        with torch.no_grad():
            for p in model.parameters():
                p.copy_(p.to(rounding).float())
    return model, tok, counts


# MARK: - The tokenizer

def fnv1a64(ids):
    """FNV-1a (64-bit) over the ids as little-endian int32, as tokenizer.py computes it."""
    import struct
    h = 0xCBF29CE484222325
    for byte in struct.pack(f"<{len(ids)}i", *ids):
        h ^= byte
        h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"


def check_tokenizer(tok):
    """AutoTokenizer on the folder against the recorded SmolLM2 references. Returns the failures."""
    with open(os.path.join(FIXTURES, "tokenizer", "strings.json"), encoding="utf-8") as f:
        strings = json.load(f)["strings"]
    with open(os.path.join(FIXTURES, "tokenizer", "smollm2.json"), encoding="utf-8") as f:
        reference = json.load(f)
    with open(os.path.join(FIXTURES, "tokenizer", "chat.json"), encoding="utf-8") as f:
        chat = json.load(f)
    failures = []
    for i, (s, case) in enumerate(zip(strings, reference["cases"])):
        ids = tok(s, add_special_tokens=False)["input_ids"]
        if ids != case["ids_digits"]:
            failures.append(f"string {i} {s[:30]!r}: ids {ids[:12]}…, expected {case['ids_digits'][:12]}…")
        if tok(s)["input_ids"] != case["ids_digits"]:
            failures.append(f"string {i}: add_special_tokens=True adds tokens")
        if tok.decode(case["ids"]) != case["decoded"]:
            failures.append(f"string {i}: decode differs")
    whole = encode(tok, read_utf8(WIKITEXT))
    want = reference["wikitext"]
    if (len(whole), fnv1a64(whole)) != (want["count_digits"], want["fnv1a64_digits"]):
        failures.append(f"WikiText-2: {len(whole)} ids, FNV {fnv1a64(whole)}; expected "
                        f"{want['count_digits']}, {want['fnv1a64_digits']}")
    for conversation in chat["conversations"]:
        text = tok.apply_chat_template(conversation["messages"], tokenize=False,
                                       add_generation_prompt=conversation["add_generation_prompt"])
        if text != conversation["chatml"]:
            failures.append(f"chat template, conversation {conversation['name']}: rendering differs")
    print(f"tokenizer: {len(strings)} strings, WikiText-2 ({len(whole)} ids), "
          f"{len(chat['conversations'])} chat renderings: {len(failures)} differences")
    for line in failures[:10]:
        print("  " + line)
    return failures


def logits_of(model, ids):
    import torch
    with torch.no_grad():
        return model(input_ids=torch.tensor([ids]), use_cache=False).logits[0].float().numpy()


# MARK: - Main

def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("folder", nargs="?", help="a folder written by `surgery compress`")
    ap.add_argument("--model", default=SURGERY_MODEL, help="the GGUF the folder was made from")
    ap.add_argument("--mode", default="shared-kv", choices=["none", "separate", "shared-kv"],
                    help="'none': the folder holds the model unchanged")
    ap.add_argument("--variance", type=float, default=0.90)
    ap.add_argument("--centring", default="pca")
    ap.add_argument("--targets", default="q,k,v")
    ap.add_argument("--expected", help="float32 logits [T, V] for --prompt instead of the "
                                       "reference surgery")
    ap.add_argument("--prompt", default=PROMPT)
    ap.add_argument("--tolerance", type=float, help="max|Δ| of logits allowed")
    ap.add_argument("--skip-tokenizer", action="store_true",
                    help="do not check the tokenizer (a folder whose model is not SmolLM2)")
    args = ap.parse_args()
    if args.folder is None:
        print("compress_check.py: checks a folder written by `surgery compress`, given by hand "
              "(see the usage at the top); it records no fixture.", file=sys.stderr)
        sys.exit(0)

    model, tok, config, stored = load_folder(args.folder)
    dtype = safetensors_dtype(args.folder).replace("torch.", "")
    log(f"folder: config dtype {stored}, stored q_proj dtype {dtype}")
    tokenizer_failures = [] if args.skip_tokenizer else check_tokenizer(tok)
    ids = encode(tok, args.prompt)
    got = logits_of(model, ids)

    if args.expected:
        want = np.fromfile(args.expected, dtype="<f4")
        if want.size != got.size:
            fail(f"{args.expected}: {want.size} floats, expected {got.shape[0]}×{got.shape[1]}")
        want = want.reshape(got.shape)
    else:
        ref, ref_tok, counts = reference_model(args, dtype)
        ref_ids = encode(ref_tok, args.prompt)
        if ref_ids != ids:
            print(f"token ids differ: folder {ids}, GGUF {ref_ids}")
            sys.exit(1)
        for key in CONFIG_KEYS:
            a, b = config.get(key), getattr(ref.config, key, None)
            if a is not None and b is not None and not np.isclose(float(a), float(b), rtol=1e-6):
                print(f"config {key}: folder {a}, reference {b}")
        if counts is not None:
            print(f"reference components: mean q {np.mean(counts['q']):.1f}, "
                  f"mean k/v {np.mean(counts['k'] + counts['v']):.1f}")
        # Weight-level diagnostics: which tensors differ, and by how much.
        ref_params = dict(ref.named_parameters())
        worst = []
        for name, p in model.named_parameters():
            if name in ref_params:
                d = float((p.detach() - ref_params[name].detach()).abs().max())
                worst.append((d, name))
        worst.sort(reverse=True)
        for d, name in worst[:5]:
            print(f"weight max|Δ| {d:.3g}  {name}")
        want = logits_of(ref, ids)

    delta = float(np.abs(got - want).max())
    bound = args.tolerance if args.tolerance is not None else TOLERANCE.get(
        {"f32": "float32", "f16": "float16", "bf16": "bfloat16"}.get(dtype, dtype), 1e-3)
    same_argmax = float(np.mean(got.argmax(1) == want.argmax(1)))
    print(f"logits max|Δ| {delta:.3g} over {len(ids)} positions (bound {bound:g}); "
          f"argmax agreement {same_argmax:.3f}")
    sys.exit(0 if delta <= bound and not tokenizer_failures else 1)


if __name__ == "__main__":
    main()
