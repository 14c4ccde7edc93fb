# Reference values for the forward pass, generation and perplexity (issue 3), recorded with
# transformers (eager attention, float32, 2 threads) → Tests/Fixtures/model/.
# Sources: transformers' LlamaForCausalLM loading SmolLM2 from the GGUF (`gguf_file=`), protocol
# P1 from DESIGN.md, and the tiny fixture model written by Tools/reference/formats.py.
#
# Usage: Tools/reference/run.sh model.py          (all parts)
#        $PY Tools/reference/model.py smollm2     (only the real model)
#        $PY Tools/reference/model.py tiny        (only the tiny fixture model)
import os
import sys

import numpy as np

from common_ref import (FIXTURES, SURGERY_MODEL, WIKITEXT, check_model_file, encode, load_smollm2,
                        log, p1_windows, read_utf8, scored_logprobs, sha256_file, torch_setup,
                        versions, window_logits, write_f32, write_i32, write_json)

OUT = os.path.join(FIXTURES, "model")
COMMAND = "Tools/reference/run.sh model.py"

PLAIN_PROMPT = ("The old lighthouse keeper climbed the stairs every evening, lit the lamp, "
                "and watched the ships pass safely through the narrow channel.")
CHAT_QUESTION = "What is machine learning?"          # the study's prompt, in the model's template
GREEDY_PROMPT = "The capital of France is"
GREEDY_TOKENS = 40
P1_WINDOW = 512
P1_WINDOWS = 16


def logit_positions(n):
    """Positions whose full logit rows are stored: 0, 1, the middle and the last."""
    return sorted({0, 1, n // 2, n - 1})


# MARK: - SmolLM2: logits of two prompts

def record_logits(model, model64, tok, manifest):
    import torch
    chat_text = tok.apply_chat_template([{"role": "user", "content": CHAT_QUESTION}],
                                        add_generation_prompt=True, tokenize=False)
    prompts = [("plain", PLAIN_PROMPT), ("chat", chat_text)]
    entries = []
    for name, text in prompts:
        ids = encode(tok, text)
        with torch.no_grad():
            x = torch.tensor([ids])
            logits = model(input_ids=x, use_cache=False).logits[0].float().numpy()     # (T, V)
            logits64 = model64(input_ids=x, use_cache=False).logits[0].numpy()         # (T, V) f64
        positions = logit_positions(len(ids))
        rows = logits[positions]                                                      # (P, V)
        write_i32(os.path.join(OUT, f"smollm2_{name}_ids.i32"), ids)
        write_f32(os.path.join(OUT, f"smollm2_{name}_logits.f32"), rows)
        top2 = np.sort(logits, axis=1)[:, -2:]
        entries.append({
            "name": name,
            "text": text,
            "ids_file": f"model/smollm2_{name}_ids.i32",
            "token_count": len(ids),
            "ids": ids,
            "logits_file": f"model/smollm2_{name}_logits.f32",
            "logits_shape": [len(positions), logits.shape[1]],
            "positions": positions,
            "argmax_every_position": logits.argmax(axis=1).tolist(),
            "top1_minus_top2_every_position": (top2[:, 1] - top2[:, 0]).tolist(),
            "max_abs_diff_float32_vs_float64_model": float(np.abs(logits - logits64).max()),
        })
        log(f"logits {name}: {len(ids)} tokens, positions {positions}, "
            f"f32 vs f64 max|Δ| {entries[-1]['max_abs_diff_float32_vs_float64_model']:.3g}")
    manifest["logits"] = {
        "note": ("Full float32 logit rows [positions.count, 49152], row-major, for the listed "
                 "positions of each prompt (prefill of the whole prompt, no cache). 'chat' is the "
                 "model's own chat template (with its default system message) applied to the "
                 "study's question, add_generation_prompt=True; its ids include the special tokens "
                 "matched in the text."),
        "prompts": entries,
    }


# MARK: - SmolLM2: greedy continuation

def record_greedy(model, model64, tok, manifest):
    import torch
    ids = encode(tok, GREEDY_PROMPT)
    with_special = tok(GREEDY_PROMPT)["input_ids"]
    assert with_special == ids, "SmolLM2's tokenizer unexpectedly adds special tokens"
    x = torch.tensor([ids])
    with torch.no_grad():
        greedy = dict(attention_mask=torch.ones_like(x), max_new_tokens=GREEDY_TOKENS,
                      do_sample=False, temperature=None, top_p=None, top_k=None)
        out = model.generate(x, output_scores=True, return_dict_in_generate=True, **greedy)
        out64 = model64.generate(x, **greedy)
    new = out.sequences[0, len(ids):].tolist()
    new64 = out64[0, len(ids):].tolist()
    margins = []
    for s in out.scores:                       # raw next-token logits (greedy: no processors)
        top2 = torch.topk(s[0].float(), 2).values
        margins.append(float(top2[0] - top2[1]))
    # Independent check of the cached generate(): argmax of a full prefill at every step,
    # continued past EOS to the full 40 tokens (for a decoder that does not stop at EOS).
    seq = list(ids)
    loop_margins = []
    with torch.no_grad():
        for _ in range(GREEDY_TOKENS):
            logits = model(input_ids=torch.tensor([seq]), use_cache=False).logits[0, -1]
            top2 = torch.topk(logits, 2).values
            loop_margins.append(float(top2[0] - top2[1]))
            seq.append(int(logits.argmax()))
    assert seq[len(ids):len(ids) + len(new)] == new, "generate() disagrees with an argmax loop"
    manifest["greedy"] = {
        "prompt": GREEDY_PROMPT,
        "prompt_ids": ids,
        "bos_added": False,
        "max_new_tokens": GREEDY_TOKENS,
        "generated_ids": new,
        "generated_text": tok.decode(new),
        "full_text": tok.decode(ids + new),
        "stopped_at_eos": len(new) < GREEDY_TOKENS,
        "top1_minus_top2_logit_each_step": margins,
        "min_margin": min(margins),
        "float64_model_same_tokens": new64 == new,
        "ignoring_eos_ids": seq[len(ids):],
        "ignoring_eos_text": tok.decode(seq[len(ids):]),
        "ignoring_eos_min_margin": min(loop_margins),
        "note": ("model.generate(do_sample=False), KV cache, stops at EOS (<|im_end|>, id 2); "
                 "checked equal to an argmax loop over full no-cache prefills, whose 40 tokens "
                 "past EOS are 'ignoring_eos_ids'. SmolLM2's tokenizer adds no BOS (verified: "
                 "add_special_tokens=True gives the same ids)."),
    }
    log(f"greedy: {tok.decode(new)!r} min margin {min(margins):.3f}, f64 same: {new64 == new}")


# MARK: - SmolLM2: P1 perplexity on WikiText-2 (first 16 windows)

def p1_perplexity(model, windows):
    """Σ NLL (float64) per window over the N-1 scored positions."""
    import torch
    sums = []
    for w in windows:
        lp, targets = scored_logprobs(window_logits(model, w), w)
        sums.append(float(-lp.gather(1, targets[:, None]).sum()))
    return sums


def record_perplexity(model, model64, tok, manifest):
    text = read_utf8(WIKITEXT)
    ids = encode(tok, text)
    windows = p1_windows(ids, P1_WINDOW, P1_WINDOWS)
    assert len(windows) == P1_WINDOWS
    log(f"wikitext: {len(text)} characters, {len(ids)} tokens; scoring {len(windows)} windows")
    sums = p1_perplexity(model, windows)
    scored = len(windows) * (P1_WINDOW - 1)
    total = float(np.sum(np.array(sums, dtype=np.float64)))
    ppl = float(np.exp(total / scored))
    log(f"P1-16 perplexity {ppl:.6f} (float64 model: running)")
    sums64 = p1_perplexity(model64, windows)
    ppl64 = float(np.exp(np.sum(sums64) / scored))
    log(f"P1-16 perplexity float64 model {ppl64:.6f}")
    write_i32(os.path.join(OUT, "wikitext_p1_16_ids.i32"), np.array(windows).reshape(-1))
    manifest["perplexity"] = {
        "protocol": "P1",
        "text_file": "../shared/data/wikitext-2-test.txt",
        "text_sha256": sha256_file(WIKITEXT),
        "text_bytes": os.path.getsize(WIKITEXT),
        "text_characters": len(text),
        "read_as": "bytes decoded as strict UTF-8 (no newline translation)",
        "file_token_count": len(ids),
        "first_ids": ids[:32],
        "window": P1_WINDOW,
        "windows": P1_WINDOWS,
        "window_ids_file": "model/wikitext_p1_16_ids.i32",
        "window_ids_shape": [P1_WINDOWS, P1_WINDOW],
        "scored_tokens": scored,
        "total_nll": total,
        "window_nll_sums": sums,
        "perplexity": ppl,
        "float64_model_perplexity": ppl64,
        "float64_model_total_nll": float(np.sum(sums64)),
        "note": ("NLL from float64 log-softmax of the float32 logits; sums accumulated in float64. "
                 "Tokens 2..N of each window are scored given their prefix (511 per window)."),
    }


def smollm2():
    torch = torch_setup()
    import copy
    digest = check_model_file()
    log("loading SmolLM2 with transformers (float32, eager)")
    model, tok = load_smollm2()
    model64 = copy.deepcopy(model).double()
    manifest = {
        "provenance": {
            "tool": "transformers LlamaForCausalLM (eager attention), torch CPU, 2 threads",
            "versions": versions(),
            "command": COMMAND,
            "model_file": os.path.basename(SURGERY_MODEL),
            "model_sha256": digest,
            "load": ("AutoModelForCausalLM.from_pretrained(dir, gguf_file=name, "
                     "dtype=torch.float32, attn_implementation='eager')"),
            "rms_norm_eps_from_gguf": model.config.rms_norm_eps,
            "rope_theta": model.config.rope_parameters["rope_theta"],
        },
    }
    record_logits(model, model64, tok, manifest)
    record_greedy(model, model64, tok, manifest)
    record_perplexity(model, model64, tok, manifest)
    write_json(os.path.join(OUT, "smollm2.json"), manifest)
    log("wrote", os.path.join(OUT, "smollm2.json"))


# MARK: - The tiny fixture model: prefill logits and KV-cache decode

# The tiny random Llama (vocab 96, D 64, 4 query heads, 2 KV heads, 2 layers, untied) is read
# from the committed files, Tests/Fixtures/tiny/f32 (config.json + model.safetensors), or from
# $TINY_MODEL. The tied variant (1 layer, bf16 on disk) is read from the sibling folder `tied`.
TINY_DIR = os.environ.get("TINY_MODEL", os.path.join(FIXTURES, "tiny", "f32"))
TINY_DECODE_PREFILL = 5          # decode test: prefill this many tokens, then one token per step


def tiny_sequences(vocab):
    rng = np.random.default_rng(20240611)
    return [
        [1, 5, 17, 42, 88, 3, 64, 9],                              # a short one starting at BOS id
        [7],                                                       # a single token
        rng.integers(0, vocab, size=40).tolist(),                  # 40 seeded random tokens
    ]


def load_tiny(directory, torch):
    from transformers import AutoModelForCausalLM
    model = AutoModelForCausalLM.from_pretrained(directory, dtype=torch.float32,
                                                 attn_implementation="eager")
    return model.eval()


def tiny():
    torch = torch_setup()
    import copy
    from transformers import DynamicCache
    if not os.path.isfile(os.path.join(TINY_DIR, "model.safetensors")):
        raise SystemExit(f"tiny: {TINY_DIR}/model.safetensors is missing (run formats.py first, "
                         "or set TINY_MODEL)")
    model = load_tiny(TINY_DIR, torch)
    model64 = copy.deepcopy(model).double()
    vocab = model.config.vocab_size
    seqs = tiny_sequences(vocab)
    manifest = {"provenance": {
        "tool": "transformers LlamaForCausalLM (eager attention), torch CPU, 2 threads, float32",
        "versions": versions(), "command": COMMAND + " tiny",
        "model_dir": "Tests/Fixtures/tiny/f32",
        "model_safetensors_sha256": sha256_file(os.path.join(TINY_DIR, "model.safetensors")),
        "config_sha256": sha256_file(os.path.join(TINY_DIR, "config.json")),
    }, "vocab_size": vocab, "prefill": []}

    # Prefill: logits of every position of each sequence, one forward without a cache.
    for i, ids in enumerate(seqs):
        with torch.no_grad():
            x = torch.tensor([ids])
            logits = model(input_ids=x, use_cache=False).logits[0].float().numpy()     # (T, V)
            logits64 = model64(input_ids=x, use_cache=False).logits[0].numpy()
        name = f"tiny_prefill_{i}"
        write_i32(os.path.join(OUT, f"{name}_ids.i32"), ids)
        manifest["prefill"].append({
            "ids": ids, "ids_file": f"model/{name}_ids.i32",
            "logits_file": f"model/{name}_logits.f32", "logits_shape":
                write_f32(os.path.join(OUT, f"{name}_logits.f32"), logits),
            "max_abs_diff_float32_vs_float64_model": float(np.abs(logits - logits64).max()),
        })

    # Decode: prefill the first tokens into a KV cache, then feed one token at a time. Row t of
    # the file holds the logits after token t, from whichever call produced them.
    ids = seqs[2]
    rows = []
    cache = DynamicCache()
    with torch.no_grad():
        out = model(input_ids=torch.tensor([ids[:TINY_DECODE_PREFILL]]), past_key_values=cache,
                    use_cache=True)
        rows.extend(out.logits[0].float().numpy())
        cache = out.past_key_values
        for t in range(TINY_DECODE_PREFILL, len(ids)):
            out = model(input_ids=torch.tensor([[ids[t]]]), past_key_values=cache,
                        use_cache=True)
            rows.append(out.logits[0, -1].float().numpy())
            cache = out.past_key_values
    rows = np.array(rows)
    full = np.fromfile(os.path.join(OUT, "tiny_prefill_2_logits.f32"), dtype="<f4").reshape(
        rows.shape)
    manifest["decode"] = {
        "ids": ids, "prefill_tokens": TINY_DECODE_PREFILL,
        "logits_file": "model/tiny_decode_logits.f32",
        "logits_shape": write_f32(os.path.join(OUT, "tiny_decode_logits.f32"), rows),
        "max_abs_diff_vs_full_prefill": float(np.abs(rows - full).max()),
        "note": ("transformers DynamicCache: one forward of the first prefill_tokens ids, then one "
                 "forward per remaining id; row t = logits after ids[0...t]. Compare with "
                 "tiny_prefill_2 (same ids, one forward)."),
    }
    log(f"tiny: decode vs prefill max|Δ| {manifest['decode']['max_abs_diff_vs_full_prefill']:.3g}")

    # The tied variant (1 layer, lm_head = embed_tokens, bf16 on disk widened to float32).
    tied_dir = os.path.join(os.path.dirname(TINY_DIR), "tied")
    if os.path.isfile(os.path.join(tied_dir, "model.safetensors")):
        tied = load_tiny(tied_dir, torch)
        assert tied.config.tie_word_embeddings
        with torch.no_grad():
            logits = tied(input_ids=torch.tensor([seqs[0]]), use_cache=False).logits[0].numpy()
        manifest["tied_prefill"] = {
            "model_dir": "Tests/Fixtures/tiny/tied",
            "model_safetensors_sha256": sha256_file(os.path.join(tied_dir, "model.safetensors")),
            "ids": seqs[0], "logits_file": "model/tiny_tied_prefill_logits.f32",
            "logits_shape": write_f32(os.path.join(OUT, "tiny_tied_prefill_logits.f32"), logits),
        }
    write_json(os.path.join(OUT, "tiny.json"), manifest)
    log("wrote", os.path.join(OUT, "tiny.json"))


if __name__ == "__main__":
    parts = sys.argv[1:] or ["smollm2", "tiny"]
    for part in parts:
        {"smollm2": smollm2, "tiny": tiny}[part]()
