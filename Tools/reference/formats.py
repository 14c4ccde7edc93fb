"""Reference fixtures for the file formats (safetensors, GGUF, GGML block dequantization).

Everything expected here is computed by independent implementations: transformers/torch (saving the
tiny model, loading the real GGUF), the `safetensors` package (writing the byte-exact writer fixture),
and the `gguf` package (writing GGUF files, quantizing, dequantizing). Nothing is produced by this
project's Swift code.

    PY=$(Tools/reference/venv.sh); $PY Tools/reference/formats.py          # writes the fixtures
    $PY Tools/reference/formats.py --verify DIR   # checks safetensors files the Swift writer made

Writes Tests/Fixtures/tiny/** (the tiny random Llama in every format) and Tests/Fixtures/formats/**
(GGML blocks, type sizes, a metadata GGUF, the writer fixture, rows of the real model's layer 0).
See the README.md written into each folder.
"""
import copy
import hashlib
import json
import os
import shutil
import struct
import sys
from pathlib import Path

import numpy as np
import torch

import gguf
import safetensors
import safetensors.torch
import transformers

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(os.environ.get("FIXTURES", ROOT / "Tests" / "Fixtures"))
MODEL = Path(os.environ.get("SURGERY_MODEL",
                            Path.home() / ".cache/surgery/models/SmolLM2-135M-Instruct.Q4_1.gguf"))
TINY = FIXTURES / "tiny"
FORMATS = FIXTURES / "formats"

VERSIONS = {
    "python": sys.version.split()[0], "numpy": np.__version__, "torch": torch.__version__,
    "transformers": transformers.__version__, "safetensors": safetensors.__version__,
    "gguf": gguf.__version__ if hasattr(gguf, "__version__") else "0.19.0",
}
COMMAND = "PY=$(Tools/reference/venv.sh); $PY Tools/reference/formats.py"


def write_f32(path: Path, values) -> None:
    np.asarray(values, dtype="<f4").tofile(path)


def write_json(path: Path, value) -> None:
    path.write_text(json.dumps(value, indent=1, sort_keys=False) + "\n")


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# ---------------------------------------------------------------------------------------------
# The tiny random Llama
# ---------------------------------------------------------------------------------------------

TINY_CONFIG = dict(vocab_size=96, hidden_size=64, intermediate_size=96, num_hidden_layers=2,
                   num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=128,
                   rms_norm_eps=1e-5, rope_theta=10000.0, bos_token_id=1, eos_token_id=2)


def tiny_model(tied: bool, seed: int, layers: int = 2):
    """A seeded random LlamaForCausalLM; norms get noise so they are not all ones."""
    torch.manual_seed(seed)
    config = transformers.LlamaConfig(**(TINY_CONFIG | {"num_hidden_layers": layers}), tie_word_embeddings=tied)
    model = transformers.LlamaForCausalLM(config).eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("norm.weight"):
                p.copy_(1.0 + 0.1 * torch.randn_like(p))
            else:
                p.copy_(0.05 * torch.randn_like(p))
    return model


def hf_to_gguf_name(name: str) -> str:
    """llama.cpp's tensor names (gguf-py tensor_mapping, MODEL_ARCH.LLAMA)."""
    fixed = {"model.embed_tokens.weight": "token_embd.weight", "model.norm.weight": "output_norm.weight",
             "lm_head.weight": "output.weight"}
    if name in fixed:
        return fixed[name]
    parts = name.split(".")            # model.layers.N.<module>.<proj>.weight
    n = parts[2]
    module = ".".join(parts[3:])
    table = {"input_layernorm.weight": "attn_norm.weight", "post_attention_layernorm.weight": "ffn_norm.weight",
             "self_attn.q_proj.weight": "attn_q.weight", "self_attn.k_proj.weight": "attn_k.weight",
             "self_attn.v_proj.weight": "attn_v.weight", "self_attn.o_proj.weight": "attn_output.weight",
             "mlp.gate_proj.weight": "ffn_gate.weight", "mlp.up_proj.weight": "ffn_up.weight",
             "mlp.down_proj.weight": "ffn_down.weight"}
    return f"blk.{n}.{table[module]}"


def permute(weights: np.ndarray, n_head: int) -> np.ndarray:
    """convert_hf_to_gguf.py LlamaModel.permute: rows of Q (n_head) or K (n_head_kv) reordered for
    llama.cpp's RoPE (pairs (i, i + d/2) of each head become adjacent rows)."""
    return (weights.reshape(n_head, 2, weights.shape[0] // n_head // 2, *weights.shape[1:])
            .swapaxes(1, 2).reshape(weights.shape))


def gguf_weights(model) -> dict:
    """HF state dict → {gguf name: float32 array in GGUF row order}."""
    config = model.config
    out = {}
    for name, tensor in model.state_dict().items():
        if name == "lm_head.weight" and config.tie_word_embeddings:
            continue
        w = tensor.detach().to(torch.float32).numpy().copy()
        if name.endswith("q_proj.weight"):
            w = permute(w, config.num_attention_heads)
        elif name.endswith("k_proj.weight"):
            w = permute(w, config.num_key_value_heads)
        out[hf_to_gguf_name(name)] = w
    return out


def write_gguf(path: Path, model, weights: dict, qtype: gguf.GGMLQuantizationType) -> dict:
    """Writes a llama GGUF; 2-D weights in `qtype`, norms F32 (as llama.cpp does). Returns, per
    tensor, the values the gguf package dequantizes from what was written (GGUF row order)."""
    c = model.config
    w = gguf.GGUFWriter(str(path), "llama")
    w.add_name("surgery tiny random llama")
    w.add_context_length(c.max_position_embeddings)
    w.add_embedding_length(c.hidden_size)
    w.add_block_count(c.num_hidden_layers)
    w.add_feed_forward_length(c.intermediate_size)
    w.add_head_count(c.num_attention_heads)
    w.add_head_count_kv(c.num_key_value_heads)
    w.add_rope_freq_base(TINY_CONFIG["rope_theta"])
    w.add_layer_norm_rms_eps(c.rms_norm_eps)
    w.add_vocab_size(c.vocab_size)
    w.add_rope_dimension_count(c.hidden_size // c.num_attention_heads)
    w.add_file_type({gguf.GGMLQuantizationType.F32: 0, gguf.GGMLQuantizationType.F16: 1,
                     gguf.GGMLQuantizationType.Q4_0: 2, gguf.GGMLQuantizationType.Q4_1: 3,
                     gguf.GGMLQuantizationType.Q8_0: 7}[qtype])
    # A toy byte-level vocabulary, so tokenizer keys exist (and arrays of strings are exercised).
    w.add_tokenizer_model("gpt2")
    w.add_token_list([f"<{i}>" if i < 3 else chr(0x100 + i) for i in range(c.vocab_size)])
    w.add_token_types([3 if i < 3 else 1 for i in range(c.vocab_size)])
    w.add_bos_token_id(c.bos_token_id)
    w.add_eos_token_id(c.eos_token_id)
    expected = {}
    for name, array in weights.items():
        t = qtype if array.ndim == 2 else gguf.GGMLQuantizationType.F32
        data = gguf.quants.quantize(array, t)
        w.add_tensor(name, data, raw_dtype=t)
        expected[name] = (t, gguf.quants.dequantize(data, t).astype(np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return expected


def make_tiny() -> None:
    if TINY.exists():
        shutil.rmtree(TINY)
    TINY.mkdir(parents=True)
    model = tiny_model(tied=False, seed=0)
    model.save_pretrained(TINY / "f32")
    bf16_model = copy.deepcopy(model).to(torch.bfloat16)
    bf16_model.save_pretrained(TINY / "bf16")
    bf16_model.save_pretrained(TINY / "sharded", max_shard_size="60KB")
    tied = tiny_model(tied=True, seed=1, layers=1)
    tied.to(torch.bfloat16).save_pretrained(TINY / "tied")
    for folder in ("f32", "bf16", "sharded", "tied"):
        (TINY / folder / "generation_config.json").unlink(missing_ok=True)
    shards = sorted(p.name for p in (TINY / "sharded").glob("*.safetensors"))
    assert len(shards) >= 2, shards

    # The safetensors files' own values, as torch reads them: F32 and BF16 are what the loader must
    # return exactly (BF16 widened to float32 exactly).
    reference = {name: t.detach().to(torch.float32).numpy() for name, t in model.state_dict().items()}
    bf16 = safetensors.torch.load_file(TINY / "bf16" / "model.safetensors")
    names = list(reference)
    manifest = {"provenance": provenance("tiny random Llama, transformers save_pretrained"),
                "config": TINY_CONFIG | {"tie_word_embeddings": False, "seed": 0},
                "tensors": [], "gguf": {}}
    offset = 0
    with open(TINY / "expected-f32.f32", "wb") as f32, open(TINY / "expected-bf16.u16", "wb") as b16:
        for name in names:
            a = reference[name]
            f32.write(a.astype("<f4").tobytes())
            b16.write(bf16[name].view(torch.int16).numpy().astype("<i2").tobytes())
            manifest["tensors"].append({"name": name, "gguf_name": hf_to_gguf_name(name),
                                        "shape": list(a.shape), "offset": offset, "count": int(a.size)})
            offset += int(a.size)

    # The same model as GGUF, llama.cpp names and Q/K permutation. Expected values: the gguf package's
    # dequantization of what was written, in GGUF row order (Q/K rows still permuted).
    weights = gguf_weights(model)
    reference_offset = {t["gguf_name"]: t["offset"] for t in manifest["tensors"]}
    (TINY / "gguf").mkdir()
    for qname in ("F32", "F16", "Q8_0", "Q4_0", "Q4_1"):
        qtype = gguf.GGMLQuantizationType[qname]
        path = TINY / "gguf" / f"tiny-{qname}.gguf"
        expected = write_gguf(path, model, weights, qtype)
        entry = {"file": f"gguf/{path.name}", "tensors": []}
        # F32 tensors (all of tiny-F32, the norms of the others) point into expected-f32.f32, with the
        # Q/K rows to be taken in `permutation` order. Quantized tensors get their own file; F16
        # values are exact halves, stored as their bit patterns (numpy float16).
        suffix = "u16" if qname == "F16" else "f32"
        own = f"gguf/expected-{qname}.{suffix}"
        offset = 0
        with open(TINY / own, "wb") as f:
            for gname, (t, values) in expected.items():
                item = {"name": gname, "type": t.name, "shape": list(values.shape), "count": int(values.size)}
                if t == gguf.GGMLQuantizationType.F32:
                    assert np.array_equal(values, weights[gname])
                    item |= {"expected": "expected-f32.f32", "offset": reference_offset[gname]}
                    if gname.endswith(("attn_q.weight", "attn_k.weight")):
                        item["row_permutation"] = gname.split(".")[2][:6]
                else:
                    if qname == "F16":
                        assert np.array_equal(values.astype(np.float16).astype(np.float32), values)
                        f.write(values.astype("<f2").tobytes())
                    else:
                        f.write(values.astype("<f4").tobytes())
                    item |= {"expected": own, "offset": offset}
                    offset += int(values.size)
                entry["tensors"].append(item)
        if offset == 0:
            (TINY / own).unlink()
        manifest["gguf"][qname] = entry
        # Cross-check with GGUFReader: the file holds what we meant to write.
        reader = gguf.GGUFReader(path)
        for tensor in reader.tensors:
            got = gguf.quants.dequantize(tensor.data, tensor.tensor_type)
            assert np.array_equal(got.reshape(-1), expected[tensor.name][1].reshape(-1)), tensor.name

    # The row order the permutation produces: gguf row i holds HF row source[i] (for the lead's
    # Checkpoint test of the un-permutation).
    c = model.config
    manifest["permutation"] = {
        "attn_q": permute(np.arange(c.hidden_size), c.num_attention_heads).tolist(),
        "attn_k": permute(np.arange(c.num_key_value_heads * c.hidden_size // c.num_attention_heads),
                          c.num_key_value_heads).tolist(),
        "meaning": "GGUF row i of attn_q/attn_k is Hugging Face row permutation[i] of q_proj/k_proj",
    }

    # transformers loading the F32 GGUF must give back the Hugging Face weights (checks the names and
    # the direction of the permutation written above).
    loaded = transformers.AutoModelForCausalLM.from_pretrained(TINY / "gguf", gguf_file="tiny-F32.gguf",
                                                               dtype=torch.float32)
    for name, t in loaded.state_dict().items():
        assert np.array_equal(t.numpy(), reference[name]), f"transformers read back {name} differently"

    write_json(TINY / "manifest.json", manifest)
    (TINY / "README.md").write_text(TINY_README.format(
        versions=json.dumps(VERSIONS), command=COMMAND, shards=", ".join(shards)))


TINY_README = """# tiny — a tiny random Llama in every format the loader reads

Made by `Tools/reference/formats.py` ({command}) with {versions}.

The model: transformers `LlamaConfig` with 2 layers, hidden 64, intermediate 96, 4 query heads,
2 KV heads (head dim 16), vocab 96, RMS eps 1e-5, RoPE theta 10000, untied embeddings, weights
`0.05·N(0,1)` and norms `1 + 0.1·N(0,1)` from `torch.manual_seed(0)`. `tied/` is a second model
(seed 1, **1 layer**, BF16) with `tie_word_embeddings=True` (no `lm_head.weight` in the file).

| path | what |
| --- | --- |
| `f32/`, `bf16/`, `tied/` | `save_pretrained` (config.json + model.safetensors); bf16 via `model.to(torch.bfloat16)` |
| `sharded/` | the bf16 model, `save_pretrained(max_shard_size="60KB")`: {shards} + model.safetensors.index.json |
| `expected-f32.f32` | every tensor of the f32 model as torch holds it, concatenated in `manifest.json` order |
| `expected-bf16.u16` | the bf16 file's values as `safetensors.torch.load_file` reads them, as bit patterns |
| `gguf/tiny-{{F32,F16,Q8_0,Q4_0,Q4_1}}.gguf` | the same model written by `gguf.GGUFWriter` with llama.cpp names, `llama.*` keys, a toy 96-token vocabulary, and llama.cpp's Q/K row permutation (`convert_hf_to_gguf.py` `LlamaModel.permute`); 2-D weights quantized with `gguf.quants.quantize`, norms F32 |
| `gguf/expected-{{Q8_0,Q4_0,Q4_1}}.f32`, `gguf/expected-F16.u16` | `gguf.quants.dequantize` of the written quantized tensors, **in GGUF row order** (Q/K rows still permuted), shapes row-major (GGUF dims reversed); F16 as half bit patterns. `manifest.json` → `gguf` → each tensor's `expected` file and element `offset`; F32 tensors (all of tiny-F32, the norms elsewhere) point into `expected-f32.f32` and, for attn_q/attn_k, carry `row_permutation` |
| `manifest.json` | names, shapes, offsets; `permutation`: GGUF row i of attn_q/attn_k is HF row `permutation[i]` |

An F32 tensor's expected values are `expected-f32.f32`'s, with attn_q/attn_k rows taken in the
manifest's `permutation` order (GGUF row i = HF row permutation[i]).
The script also checks that transformers, loading `tiny-F32.gguf`, gets back exactly the f32 weights.

Tolerances (in the tests): F32 and BF16 safetensors exact (the loader only widens); GGUF types
exact against the gguf package, because the Swift dequantization does the same float32 operations
in the same order (`d * q + m` unfused).
"""


# ---------------------------------------------------------------------------------------------
# GGML blocks of every supported type, sizes, and a metadata GGUF
# ---------------------------------------------------------------------------------------------

SUPPORTED = ["F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q4_K", "Q5_K", "Q6_K"]
# Byte offsets of the f16 scale fields in each block (set to finite values in random blocks).
HALF_FIELDS = {"Q8_0": [0], "Q4_0": [0], "Q4_1": [0, 2], "Q5_0": [0], "Q5_1": [0, 2],
               "Q4_K": [0, 2], "Q5_K": [0, 2], "Q6_K": [208]}


def make_blocks() -> None:
    folder = FORMATS / "blocks"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(20250101)
    cases = []
    for name in SUPPORTED:
        qtype = gguf.GGMLQuantizationType[name]
        block_size, block_bytes = gguf.GGML_QUANT_SIZES[qtype]
        n_blocks = 8 if block_size > 1 else 256
        # 1) random bytes, scale fields replaced by random finite halves (±2⁻¹⁰ … ±2)
        raw = rng.integers(0, 256, size=(n_blocks, block_bytes), dtype=np.uint8)
        if name == "F16":
            bits = raw.view("<u2")
            bits[(bits & 0x7C00) == 0x7C00] &= 0xBFFF          # no ∞/NaN: clear the top exponent bit
        elif name == "BF16":
            bits = raw.view("<u2")
            bits[(bits & 0x7F80) == 0x7F80] &= 0xBFFF
        elif name == "F32":
            raw = rng.standard_normal(n_blocks).astype("<f4").view(np.uint8).reshape(n_blocks, 4)
        for field in HALF_FIELDS.get(name, []):
            scale = (rng.uniform(2 ** -10, 2, n_blocks) * rng.choice([-1, 1], n_blocks)).astype("<f2")
            raw[:, field:field + 2] = scale.view(np.uint8).reshape(n_blocks, 2)
        sources = [("random", raw)]
        # 2) quantize() of random normal data, where the gguf package can quantize the type
        data = rng.standard_normal((4, 2 * max(block_size, 32)) if block_size > 1 else (4, 64)).astype(np.float32)
        try:
            q = gguf.quants.quantize(data, qtype)
            sources.append(("quantized", np.ascontiguousarray(q).reshape(-1, block_bytes)))
        except (NotImplementedError, gguf.quants.QuantError):
            pass
        for source, blocks in sources:
            values = gguf.quants.dequantize(blocks.reshape(1, -1), qtype).astype(np.float32).reshape(-1)
            stem = f"{name}-{source}"
            blocks.tofile(folder / f"{stem}.bin")
            write_f32(folder / f"{stem}.f32", values)
            cases.append({"type": name, "source": source, "blocks": int(blocks.shape[0]),
                          "values": int(values.size), "bytes": f"blocks/{stem}.bin", "expected": f"blocks/{stem}.f32"})
    write_json(FORMATS / "blocks.json", {"provenance": provenance("gguf.quants.dequantize"), "cases": cases})
    sizes = {t.name: {"id": int(t), "block_size": s[0], "block_bytes": s[1]} for t, s in gguf.GGML_QUANT_SIZES.items()}
    write_json(FORMATS / "quant-sizes.json", {"provenance": provenance("gguf.GGML_QUANT_SIZES"), "types": sizes})


def make_metadata_gguf() -> None:
    """A GGUF with one key of every value type (nested arrays too) and a tensor, and its expected
    values as JSON."""
    T = gguf.GGUFValueType
    path = FORMATS / "metadata.gguf"
    w = gguf.GGUFWriter(str(path), "llama")
    entries = [
        ("test.uint8", 200, T.UINT8), ("test.int8", -100, T.INT8), ("test.uint16", 60000, T.UINT16),
        ("test.int16", -30000, T.INT16), ("test.uint32", 4000000000, T.UINT32), ("test.int32", -2000000000, T.INT32),
        ("test.float32", 0.1, T.FLOAT32), ("test.bool", True, T.BOOL), ("test.string", "héllo, wörld ✓", T.STRING),
        ("test.uint64", 18000000000000000000, T.UINT64), ("test.int64", -9000000000000000000, T.INT64),
        ("test.float64", 0.1, T.FLOAT64),
        ("test.array.int32", [1, -2, 3], T.ARRAY), ("test.array.string", ["a", "", "ü"], T.ARRAY),
        ("test.array.nested", [[1, 2], [3], [4, 5, 6]], T.ARRAY), ("test.array.float32", [0.5, -1.25], T.ARRAY),
        ("test.array.bool", [True, False], T.ARRAY),
    ]
    for key, value, vtype in entries:
        sub = None
        if key == "test.array.float32":
            sub = T.FLOAT32
        w.add_key_value(key, value, vtype, sub_type=sub)
    w.add_custom_alignment(64)
    w.add_tensor("t", np.arange(6, dtype=np.float32).reshape(2, 3))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    reader = gguf.GGUFReader(path)
    keys = [k for k in reader.fields if not k.startswith("GGUF.")]   # GGUF.* are the reader's header pseudo-fields
    expected = {"provenance": provenance("gguf.GGUFWriter; key order and types read back with gguf.GGUFReader"),
                "keys": keys,
                "types": {k: reader.fields[k].types[0].name for k in keys},
                # 64-bit integers as strings (JSON readers may round them through a double)
                "values": {key: (str(value) if vtype in (T.UINT64, T.INT64) else value) for key, value, vtype in entries},
                "float32_bits": int(np.float32(0.1).view(np.uint32)), "alignment": 64,
                "tensor": {"name": "t", "dims": [int(d) for d in reader.tensors[0].shape],
                           "offset": int(reader.tensors[0].data_offset), "values": [0, 1, 2, 3, 4, 5]}}
    write_json(FORMATS / "metadata.json", expected)


# ---------------------------------------------------------------------------------------------
# The safetensors writer fixture
# ---------------------------------------------------------------------------------------------

WRITER_TENSORS = [("embed.weight", "F32", [3, 5]), ("norm", "BF16", [7]), ("z.empty", "F32", [0]),
                  ("b.half", "F16", [2, 2, 3]), ("a.bf", "BF16", [2, 3]), ("é", "F32", [1])]
# One key only: safetensors (Rust) writes `__metadata__` in hash-map order, so with several keys the
# bytes differ from run to run.
WRITER_METADATA = {"note": "quote \" backslash \\ newline \n tab \t control \u0001 ü"}


def make_writer_fixture() -> None:
    """Python's safetensors writes a file from float32 source values; the Swift writer, given the
    same values, names, dtypes and metadata, must produce the same bytes."""
    folder = FORMATS / "writer"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(7)
    source = []
    tensors = {}
    for name, dtype, shape in WRITER_TENSORS:
        n = int(np.prod(shape))
        values = (rng.standard_normal(n) * 3).astype(np.float32)
        if n >= 4:   # specials the rounding must get right: ties, overflow to ∞ in F16, subnormals
            values[:4] = [65520.0, 1 + 2 ** -8, -(2 ** -20), 0.0]
        source.append(values)
        t = torch.from_numpy(values.copy()).reshape(shape)
        tensors[name] = t.to({"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}[dtype])
    safetensors.torch.save_file(tensors, folder / "reference.safetensors", metadata=WRITER_METADATA)
    write_f32(folder / "source.f32", np.concatenate(source))
    write_json(folder / "writer.json", {
        "provenance": provenance("safetensors.torch.save_file (torch rounds float32 to F16/BF16, nearest-even)"),
        "tensors": [{"name": n, "dtype": d, "shape": s} for n, d, s in WRITER_TENSORS],
        "metadata": WRITER_METADATA, "source": "writer/source.f32", "reference": "writer/reference.safetensors"})


def verify_written(folder: Path) -> None:
    """`formats.py --verify DIR`: every *.safetensors in DIR must load with the safetensors package,
    and files named like the writer fixture must equal reference.safetensors bit for bit."""
    reference = safetensors.torch.load_file(FORMATS / "writer" / "reference.safetensors")
    for path in sorted(Path(folder).glob("*.safetensors")):
        loaded = safetensors.torch.load_file(path)
        with safetensors.safe_open(path, "pt") as f:
            meta = f.metadata()
        same = set(loaded) == set(reference) and all(
            torch.equal(loaded[k].view(torch.uint8) if loaded[k].numel() else loaded[k],
                        reference[k].view(torch.uint8) if reference[k].numel() else reference[k])
            and loaded[k].dtype == reference[k].dtype for k in loaded)
        print(f"{path}: {len(loaded)} tensors, metadata {meta}, equal to the reference tensors: {same}")


# ---------------------------------------------------------------------------------------------
# The real model's layer 0 q_proj / k_proj
# ---------------------------------------------------------------------------------------------

ROWS = list(range(8)) + list(range(100, 104))


def make_real_model_rows() -> None:
    folder = FORMATS / "smollm2"
    folder.mkdir(parents=True)
    digest = sha256(MODEL)
    # GGUF order, straight from the gguf package (no un-permutation).
    reader = gguf.GGUFReader(MODEL)
    raw = {}
    for t in reader.tensors:
        if t.name in ("blk.0.attn_q.weight", "blk.0.attn_k.weight"):
            raw[t.name] = gguf.quants.dequantize(t.data, t.tensor_type).astype(np.float32)
            raw_type = t.tensor_type.name
    # Hugging Face order, as transformers loads the GGUF (it un-permutes Q and K).
    model = transformers.AutoModelForCausalLM.from_pretrained(MODEL.parent, gguf_file=MODEL.name, dtype=torch.float32)
    attn = model.model.layers[0].self_attn
    hf = {"q_proj": attn.q_proj.weight.detach().numpy(), "k_proj": attn.k_proj.weight.detach().numpy()}
    entries = {}
    for label, array in [("transformers.q_proj", hf["q_proj"]), ("transformers.k_proj", hf["k_proj"]),
                         ("gguf.attn_q", raw["blk.0.attn_q.weight"]), ("gguf.attn_k", raw["blk.0.attn_k.weight"])]:
        stem = label.replace(".", "-")
        write_f32(folder / f"{stem}-rows.f32", array[ROWS])
        write_f32(folder / f"{stem}-rowsums.f32", array.astype(np.float64).sum(axis=1))
        entries[label] = {"shape": list(array.shape), "rows": ROWS, "rows_file": f"smollm2/{stem}-rows.f32",
                          "row_sums_file": f"smollm2/{stem}-rowsums.f32",
                          "frobenius": float(np.sqrt((array.astype(np.float64) ** 2).sum()))}
    write_json(folder / "layer0.json", {
        "provenance": provenance("transformers AutoModelForCausalLM.from_pretrained(gguf_file=…, dtype=float32) "
                                 "and gguf.GGUFReader + gguf.quants.dequantize")
        | {"model": MODEL.name, "model_sha256": digest, "type": raw_type},
        "meaning": "transformers.* are Hugging Face row order (un-permuted); gguf.* are the GGUF file's own row "
                   "order. Rows: the listed row indices, row-major float32. Row sums: float64 sums of every row, "
                   "stored as float32. frobenius: float64.",
        "tensors": entries})


def provenance(tool: str) -> dict:
    return {"tool": tool, "versions": VERSIONS, "command": COMMAND}


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--verify":
        verify_written(Path(sys.argv[2]))
        return
    make_tiny()
    if FORMATS.exists():
        shutil.rmtree(FORMATS)
    FORMATS.mkdir(parents=True)
    make_blocks()
    make_metadata_gguf()
    make_writer_fixture()
    if MODEL.exists():
        make_real_model_rows()
    else:
        print(f"warning: {MODEL} missing; smollm2/ rows not written", file=sys.stderr)
    (FORMATS / "README.md").write_text(FORMATS_README.format(versions=json.dumps(VERSIONS), command=COMMAND))


FORMATS_README = """# formats — reference values for the file-format readers

Made by `Tools/reference/formats.py` ({command}) with {versions}.

| path | what | tolerance in the tests |
| --- | --- | --- |
| `blocks.json`, `blocks/*.bin` + `.f32` | blocks of every supported GGML type (F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K): `*-random` are random bytes (numpy seed 20250101) with the f16 scale fields set to finite values in ±[2⁻¹⁰, 2] (no ∞/NaN in F16/BF16); `*-quantized` are `gguf.quants.quantize` of N(0,1) data where the package can quantize the type. Expected: `gguf.quants.dequantize` | exact: same float32 operations in the same order |
| `quant-sizes.json` | `gguf.GGML_QUANT_SIZES`: block size and bytes of every GGML type id | exact |
| `metadata.gguf`, `metadata.json` | a GGUF (v3, alignment 64) with one key of every value type, nested arrays, and a 2×3 F32 tensor, written by `gguf.GGUFWriter`; key order and types read back by `gguf.GGUFReader`. 64-bit integers are strings in the JSON | exact |
| `writer/reference.safetensors` | `safetensors.torch.save_file` of `writer/source.f32` values as F32/F16/BF16 tensors (torch rounds to nearest even) with `writer.json`'s metadata | the Swift writer's bytes must equal it exactly |
| `smollm2/layer0.json` + `*.f32` | SmolLM2-135M-Instruct Q4_1 (SHA-256 in the JSON): layer 0 q_proj/k_proj as transformers loads the GGUF (float32, Hugging Face row order) and as `gguf.quants.dequantize` gives them (GGUF row order): rows 0–7 and 100–103, float64 row sums of every row, Frobenius norms | GGUF order: exact; sums ≤ 1e-6 relative (summation order) |

`formats.py --verify DIR` loads every `*.safetensors` in DIR with the `safetensors` package and
says whether its tensors equal `writer/reference.safetensors`'s, for files the Swift writer wrote.
"""


if __name__ == "__main__":
    main()
