# Reference token ids, decodings and chat renderings for Sources/Llama/Text (tokenizers).
#
# Independent implementations: transformers (SmolLM2 loaded from the GGUF, and jinja2 chat templates),
# the `tokenizers` library (byte-level BPE and a Llama-style SentencePiece BPE trained here), and the
# `sentencepiece` library (a BPE model whose merges go by piece score, as GGUF "llama" vocabularies do).
#
# Writes Tests/Fixtures/tokenizer/:
#   strings.json         the test strings (shared by every reference below)
#   smollm2.json         SmolLM2 ids (transformers from the GGUF, and with SmolLM2's own Digits pre-tokenizer),
#                        pre-token splits, decodings, WikiText-2 counts and hashes
#   chat.json            chat-template renderings (ChatML of SmolLM2, Zephyr of TinyLlama-Chat) and their ids
#   byte-bpe/            a small byte-level BPE tokenizer trained here (tokenizer.json), SmolLM2-shaped
#   byte-bpe.json        its ids, decodings, and its vocabulary as GGUF "gpt2" arrays (tokens, merges, types)
#   llama-bpe/           a Llama-style BPE tokenizer trained here (tokenizer.json, tokenizer_config.json)
#   llama-bpe.json       its ids, ids with special tokens, decodings, WikiText-2 count and hash
#   spm-score.json       a sentencepiece BPE vocabulary as GGUF arrays (tokens, scores, types) and its ids
# and, for development only, SmolLM2's tokenizer.json to ~/.cache/surgery/dev/smollm2-tokenizer/.
#
# Run: Tools/reference/run.sh tokenizer.py
import hashlib
import json
import os
import random
import struct
import tempfile

import jinja2
import sentencepiece as spm
import tokenizers
import transformers
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
from transformers import AutoTokenizer, PreTrainedTokenizerFast
from transformers.convert_slow_tokenizer import bytes_to_unicode

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
FIXTURES = os.environ.get("FIXTURES", os.path.join(ROOT, "Tests", "Fixtures"))
MODEL = os.environ.get("SURGERY_MODEL",
                       os.path.expanduser("~/.cache/surgery/models/SmolLM2-135M-Instruct.Q4_1.gguf"))
SHARED_DATA = os.environ.get("SHARED_DATA", os.path.join(ROOT, "..", "shared", "data"))
DEV_DIR = os.path.expanduser("~/.cache/surgery/dev/smollm2-tokenizer")
OUT = os.path.join(FIXTURES, "tokenizer")

WIKITEXT = open(os.path.join(SHARED_DATA, "wikitext-2-test.txt"), encoding="utf-8").read()

# MARK: - Strings chosen to break tokenizers

STRINGS = [
    "",
    "Hello world",
    " Hello world",
    "Hello world ",
    "Hello   world",
    "  leading two spaces",
    "trailing three   ",
    "   ",
    "tab\tseparated\tvalues",
    "\t\tindented with tabs",
    "line one\nline two\n",
    "windows\r\nline\r\nendings\r\n",
    "blank\n\n\nlines",
    " \n \n  \t \n",
    "Mixed   whitespace \t\n\r\n end",
    "\n",
    "\r\r\n",
    "a  1",
    "1234567890",
    "The year 2024 had 365 days and 8,760 hours.",
    "3.14159265358979 and -0.000001e-10",
    "phone: +1 (555) 010-9999",
    "12abc34 x1y2z3",
    "Numbers like \u00bd \u00be \u00b2 \u00b3 \u216b \u0661\u0662\u0663",
    "!!!???...,,,;;;",
    "Hello!!! What??? Wow...",
    "--- === *** ### @@@ $$$ %%% ^^^ &&&",
    "I'm sure it's what you're doing; they've said we'll see, he'd go.",
    "DON'T SHOUT IT'S LOUD",
    "'s 't 're 've 'm 'll 'd",
    "rock 'n' roll ''quoted'' `backticks` ?'s",
    "caf\u00e9 na\u00efve r\u00e9sum\u00e9 fa\u00e7ade",
    "cafe\u0301 nai\u0308ve",
    "\u0301 leading combining mark, x\u0301",
    "  \u0300 space then combining",
    "\u00c5ngstr\u00f6m \u00d8resund \u0141\u00f3d\u017a Stra\u00dfe",
    "\u0395\u03bb\u03bb\u03b7\u03bd\u03b9\u03ba\u03ac \u0420\u0443\u0441\u0441\u043a\u0438\u0439 \u05e2\u05d1\u05e8\u05d9\u05ea \u0627\u0644\u0639\u0631\u0628\u064a\u0629",
    "\u0939\u093f\u0928\u094d\u0926\u0940 \u0e20\u0e32\u0e29\u0e32\u0e44\u0e17\u0e22",
    "\u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8\u3001\u4e2d\u6587\u6587\u672c\u3002\ud55c\uad6d\uc5b4 \ud14d\uc2a4\ud2b8",
    "\u6771\u4eac\u90fd 2024\u5e7412\u670831\u65e5",
    "emoji \U0001F600\U0001F603\U0001F604 done",
    "family \U0001F468\u200d\U0001F469\u200d\U0001F467\u200d\U0001F466 ZWJ sequence",
    "flags \U0001F1EB\U0001F1F7\U0001F1EF\U0001F1F5 and skin \U0001F44D\U0001F3FD",
    "math \u2211\u222b\u221a\u221e \u2264\u2265\u2260 \u03b1\u03b2\u03b3",
    "full-width \uff21\uff22\uff23\uff11\uff12\uff13 and ideographic\u3000space",
    "nbsp\u00a0here and thin\u2009space",
    "zero\u200bwidth\u200dz joiner\ufeffbom",
    "Hello\u2028world\u2029next",
    "bell\x07 and del\x7f and nel\x85",
    "bytes SmolLM2 lacks: a\x04b\x06c\x13 \x14\x16\x1d end",
    "def add(a, b):\n    return a + b\n",
    "for (int i = 0; i < n; ++i) { sum += x[i]; }",
    "<html><body class=\"main\">Hi</body></html>",
    "https://example.com/path?query=1&x=y#frag",
    "{\"key\": [1, 2, 3], \"nested\": {\"a\": null}}",
    "snake_case camelCase PascalCase SCREAMING_CASE kebab-case",
    "A very long word: pneumonoultramicroscopicsilicovolcanoconiosis",
    "repeated aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    " = Robert Boulter = \n 1 @,@ 000 @-@ year",
    "<|im_start|>user\nHello<|im_end|>",
    "text before<|im_end|>text after",
    "<|im_start|><|im_end|><|endoftext|>",
    "<|im_start incomplete <|im_start|",
    "<s>Hello</s> <unk>",
    "a<s>b",
    WIKITEXT[:2000],
]

# Texts in which a control token of the sentencepiece vocabulary appears: sentencepiece reads
# "<s>" in text as three characters, llama.cpp and Hugging Face match it as the control token.
SPM_CONTROL_TEXTS = ("<s>", "</s>", "<unk>")

# Byte sequences that are not (all) valid UTF-8: incomplete, stray continuation, overlong, surrogate, too large.
# (SmolLM2's vocabulary has no token for bytes 0x04 0x06 0x13 0x14 0x16 0x1D 0xC0 0xC1 0xF1 0xF2 0xF5-0xFF.)
INVALID_UTF8 = [
    [0xE6, 0x97], [0x41, 0xE6, 0x97], [0xBF, 0x41], [0xE6, 0x41], [0xF0, 0x9F, 0x98], [0xED, 0xA0, 0x80],
    [0xC2, 0x41], [0x80, 0x80, 0x41], [0xF4, 0x90, 0x80, 0x80], [0xE0, 0x80, 0x41], [0xF0, 0x9F, 0x98, 0x80],
    [0xE2, 0x82, 0xAC, 0xE2], [0xF0, 0x9F, 0x41, 0x98, 0x80],
]

# MARK: - Helpers


def fnv1a64(ids):
    """FNV-1a (64-bit) over the ids as little-endian int32 — a compact checksum of a long id list."""
    h = 0xCBF29CE484222325
    for byte in struct.pack(f"<{len(ids)}i", *ids):
        h ^= byte
        h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"


def write_json(name, obj):
    path = os.path.join(OUT, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=True, indent=1)
        f.write("\n")
    print("wrote", path, os.path.getsize(path), "bytes")


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


VERSIONS = {"transformers": transformers.__version__, "tokenizers": tokenizers.__version__,
            "sentencepiece": spm.__version__, "jinja2": jinja2.__version__}
COMMAND = "Tools/reference/run.sh tokenizer.py"

CONVERSATIONS = [
    {"name": "study", "messages": [{"role": "user", "content": "What is machine learning?"}],
     "add_generation_prompt": True},
    {"name": "study-no-generation-prompt", "messages": [{"role": "user", "content": "What is machine learning?"}],
     "add_generation_prompt": False},
    {"name": "system", "messages": [{"role": "system", "content": "You are terse."},
                                    {"role": "user", "content": "Hi"}], "add_generation_prompt": True},
    {"name": "multi-turn", "messages": [{"role": "user", "content": "Hi"},
                                        {"role": "assistant", "content": "Hello! How can I help?"},
                                        {"role": "user", "content": "Tell me a joke.\nA short one."}],
     "add_generation_prompt": True},
]

# TinyLlama-1.1B-Chat-v1.0's chat_template (tokenizer_config.json), the Zephyr format.
TINYLLAMA_CHAT_TEMPLATE = (
    "{% for message in messages %}\n{% if message['role'] == 'user' %}\n{{ '<|user|>\n' + message['content'] "
    "+ eos_token }}\n{% elif message['role'] == 'system' %}\n{{ '<|system|>\n' + message['content'] + eos_token }}"
    "\n{% elif message['role'] == 'assistant' %}\n{{ '<|assistant|>\n'  + message['content'] + eos_token }}\n"
    "{% endif %}\n{% if loop.last and add_generation_prompt %}\n{{ '<|assistant|>' }}\n{% endif %}\n{% endfor %}"
)

# Plain ChatML, as in transformers' chat-templating guide.
PLAIN_CHATML_TEMPLATE = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + "
    "'\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

# MARK: - SmolLM2 (byte-level BPE), loaded by transformers from the GGUF


def smollm2():
    directory, name = os.path.split(MODEL)
    tok = AutoTokenizer.from_pretrained(directory, gguf_file=name)
    os.makedirs(DEV_DIR, exist_ok=True)
    tok.save_pretrained(DEV_DIR)  # dev only: lets the Swift tests load the vocabulary before GGUF metadata does
    backend = tok.backend_tokenizer

    # SmolLM2's own tokenizer.json (Hugging Face hub) pre-tokenizes with Digits(individual_digits) then
    # ByteLevel; llama.cpp's "smollm" pre-tokenizer does the same. transformers' GGUF converter has no entry
    # for "smollm" and keeps the plain GPT-2 ByteLevel split. Record both, on the same vocabulary and merges.
    spec = json.loads(backend.to_str())
    spec["pre_tokenizer"] = {"type": "Sequence", "pretokenizers": [
        {"type": "Digits", "individual_digits": True},
        {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}]}
    digits = Tokenizer.from_str(json.dumps(spec))

    cases = []
    for s in STRINGS:
        ids = tok(s, add_special_tokens=False)["input_ids"]
        default_ids = tok(s)["input_ids"]
        assert default_ids == ids, "SmolLM2 adds special tokens by default?"
        cases.append({
            "ids": ids,
            "ids_digits": digits.encode(s, add_special_tokens=False).ids,
            "pre_tokens": [p for p, _ in backend.pre_tokenizer.pre_tokenize_str(s)],
            "pre_tokens_digits": [p for p, _ in digits.pre_tokenizer.pre_tokenize_str(s)],
            "decoded": backend.decode(ids, skip_special_tokens=False),
            "decoded_skipping_special": backend.decode(ids, skip_special_tokens=True),
        })
    whole = tok(WIKITEXT, add_special_tokens=False)["input_ids"]
    whole_digits = digits.encode(WIKITEXT, add_special_tokens=False).ids

    # Byte tokens that are not valid UTF-8 together: the ByteLevel decoder's from_utf8_lossy replaces them.
    spelling = bytes_to_unicode()
    byte_ids = [tok.convert_tokens_to_ids(spelling[b]) for b in range(256)]
    invalid = []
    for seq in INVALID_UTF8:
        ids = [byte_ids[b] for b in seq]
        assert tok.unk_token_id not in ids
        invalid.append({"bytes": seq, "ids": ids, "decoded": backend.decode(ids, skip_special_tokens=False)})
    write_json("smollm2.json", {
        "provenance": {
            "tool": VERSIONS, "command": COMMAND,
            "model": os.path.basename(MODEL), "model_sha256": sha256(MODEL),
            "how": "AutoTokenizer.from_pretrained(dir, gguf_file=name); ids = tok(s, add_special_tokens=False); "
                   "ids_digits = tokenizers.Tokenizer of the same vocabulary/merges with pre_tokenizer "
                   "Sequence[Digits(individual_digits=True), ByteLevel(add_prefix_space=False)] "
                   "(SmolLM2's hub tokenizer.json, llama.cpp 'smollm'); pre_tokens = pre_tokenize_str; "
                   "decoded = backend decode(ids)",
            "tolerance": "exact (token ids are integers)",
        },
        "adds_special_tokens_by_default": False,
        "bos_token": tok.bos_token, "eos_token": tok.eos_token, "unk_token": tok.unk_token,
        "pad_token": tok.pad_token,
        "cases": cases,
        "invalid_utf8": invalid,
        "wikitext": {"file": "wikitext-2-test.txt", "sha256": sha256(os.path.join(SHARED_DATA, "wikitext-2-test.txt")),
                     "count": len(whole), "fnv1a64": fnv1a64(whole),
                     "count_digits": len(whole_digits), "fnv1a64_digits": fnv1a64(whole_digits)},
    })
    return tok


# MARK: - A small byte-level BPE tokenizer trained with `tokenizers` (SmolLM2's shape)

BYTE_SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]


def train_byte_bpe():
    lines = [l for l in WIKITEXT.split("\n") if l.strip()][:3000]
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=True),
                                                 pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=1000, special_tokens=BYTE_SPECIALS, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(lines, trainer)
    return tok


def byte_bpe():
    tok = train_byte_bpe()
    assert tok.to_str() == train_byte_bpe().to_str(), "training is not deterministic"
    folder = os.path.join(OUT, "byte-bpe")
    os.makedirs(folder, exist_ok=True)
    tok.save(os.path.join(folder, "tokenizer.json"))
    n = tok.get_vocab_size()
    model = json.loads(tok.to_str())["model"]
    merges = [" ".join(m) if isinstance(m, list) else m for m in model["merges"]]
    cases = []
    for s in STRINGS:
        ids = tok.encode(s, add_special_tokens=False).ids
        cases.append({"ids": ids, "decoded": tok.decode(ids, skip_special_tokens=False),
                      "decoded_skipping_special": tok.decode(ids, skip_special_tokens=True)})
    whole = tok.encode(WIKITEXT, add_special_tokens=False).ids
    write_json("byte-bpe.json", {
        "provenance": {
            "tool": VERSIONS, "command": COMMAND,
            "how": "tokenizers BpeTrainer(vocab_size=1000, initial_alphabet=ByteLevel.alphabet()) with pre-tokenizer "
                   "Sequence[Digits(individual_digits=True), ByteLevel(add_prefix_space=False)] on the first 3000 "
                   "non-blank lines of wikitext-2-test.txt; ids = encode(s, add_special_tokens=False); the arrays are "
                   "the same vocabulary as GGUF writes it (llama.cpp token types: 3 control for the special tokens)",
            "tolerance": "exact (token ids are integers)",
        },
        "gguf": {"model": "gpt2", "pre": "smollm", "tokens": [tok.id_to_token(i) for i in range(n)],
                 "token_types": [3 if tok.id_to_token(i) in BYTE_SPECIALS else 1 for i in range(n)],
                 "merges": merges, "bos_token_id": 1, "eos_token_id": 2, "unknown_token_id": 0,
                 "add_bos_token": False},
        "cases": cases,
        "wikitext": {"count": len(whole), "fnv1a64": fnv1a64(whole)},
    })


# MARK: - A Llama-style BPE tokenizer trained with `tokenizers`

BYTE_TOKENS = [f"<0x{b:02X}>" for b in range(256)]
SPECIALS = ["<unk>", "<s>", "</s>"]


def train_llama_bpe():
    """Llama's tokenizer.json shape: normalizer Prepend("▁") + Replace(" ", "▁"), no pre-tokenizer, BPE with
    byte_fallback and fuse_unk, ids 0-2 <unk> <s> </s>, ids 3-258 the byte tokens <0x00>..<0xFF>."""
    lines = [l for l in WIKITEXT.split("\n") if l.strip()][:3000]
    trainer_tok = Tokenizer(models.BPE(unk_token="<unk>"))
    trainer_tok.normalizer = normalizers.Sequence([normalizers.Prepend("\u2581"), normalizers.Replace(" ", "\u2581")])
    # Training splits words before each "▁", as sentencepiece does, so that no merge crosses a word boundary.
    trainer_tok.pre_tokenizer = pre_tokenizers.Split("\u2581", behavior="merged_with_next")
    trainer = trainers.BpeTrainer(vocab_size=1000 - len(BYTE_TOKENS), special_tokens=SPECIALS,
                                  limit_alphabet=70, show_progress=False)
    trainer_tok.train_from_iterator(lines, trainer)
    trained = json.loads(trainer_tok.to_str())["model"]

    vocab = {t: i for i, t in enumerate(SPECIALS + BYTE_TOKENS)}
    for token, _ in sorted(trained["vocab"].items(), key=lambda kv: kv[1]):
        if token not in vocab:
            vocab[token] = len(vocab)
    merges = [tuple(m) if isinstance(m, list) else tuple(m.split(" ")) for m in trained["merges"]]

    tok = Tokenizer(models.BPE(vocab=vocab, merges=merges, unk_token="<unk>", byte_fallback=True, fuse_unk=True))
    tok.normalizer = normalizers.Sequence([normalizers.Prepend("\u2581"), normalizers.Replace(" ", "\u2581")])
    tok.decoder = decoders.Sequence([decoders.Replace("\u2581", " "), decoders.ByteFallback(), decoders.Fuse(),
                                     decoders.Strip(" ", 1, 0)])
    tok.add_special_tokens([tokenizers.AddedToken(t, normalized=False, special=True) for t in SPECIALS])
    tok.post_processor = processors.TemplateProcessing(single="<s> $A", pair="<s> $A <s> $B",
                                                       special_tokens=[("<s>", 1)])
    return tok, lines


def llama_bpe():
    tok, lines = train_llama_bpe()
    again, _ = train_llama_bpe()
    assert tok.to_str() == again.to_str(), "training is not deterministic"
    folder = os.path.join(OUT, "llama-bpe")
    os.makedirs(folder, exist_ok=True)
    tok.save(os.path.join(folder, "tokenizer.json"))
    config = {"add_bos_token": True, "add_eos_token": False, "bos_token": "<s>", "eos_token": "</s>",
              "unk_token": "<unk>", "chat_template": TINYLLAMA_CHAT_TEMPLATE,
              "tokenizer_class": "PreTrainedTokenizerFast"}
    with open(os.path.join(folder, "tokenizer_config.json"), "w") as f:
        json.dump(config, f, indent=1)
        f.write("\n")

    cases = []
    for s in STRINGS:
        ids = tok.encode(s, add_special_tokens=False).ids
        cases.append({"ids": ids, "ids_with_special": tok.encode(s).ids,
                      "decoded": tok.decode(ids, skip_special_tokens=False),
                      "decoded_skipping_special": tok.decode(ids, skip_special_tokens=True)})
    whole = tok.encode(WIKITEXT, add_special_tokens=False).ids
    write_json("llama-bpe.json", {
        "provenance": {
            "tool": VERSIONS, "command": COMMAND,
            "how": "tokenizers BpeTrainer(vocab_size=744, limit_alphabet=70) on the first 3000 non-blank lines of "
                   "wikitext-2-test.txt, then re-assembled Llama-style (see train_llama_bpe); ids = "
                   "encode(s, add_special_tokens=False); ids_with_special = encode(s) (post-processor adds <s>); "
                   "decoded = decode(ids)",
            "tolerance": "exact (token ids are integers)",
        },
        "vocabulary_size": tok.get_vocab_size(),
        "cases": cases,
        "wikitext": {"count": len(whole), "fnv1a64": fnv1a64(whole)},
    })
    return config


# MARK: - A sentencepiece BPE model, as GGUF "llama" arrays (merges by score)


def spm_score():
    lines = [l for l in WIKITEXT.split("\n") if l.strip()][:3000]
    with tempfile.TemporaryDirectory() as tmp:
        corpus = os.path.join(tmp, "corpus.txt")
        with open(corpus, "w", encoding="utf-8") as f:
            f.write("\n".join(lines))
        prefix = os.path.join(tmp, "spm")
        spm.SentencePieceTrainer.train(
            input=corpus, model_prefix=prefix, model_type="bpe", vocab_size=1000, byte_fallback=True,
            character_coverage=0.9995, normalization_rule_name="identity", add_dummy_prefix=True,
            remove_extra_whitespaces=False, split_digits=True, num_threads=1, seed_sentencepiece_size=100000,
            bos_id=1, eos_id=2, unk_id=0, pad_id=-1, minloglevel=2)
        sp = spm.SentencePieceProcessor(model_file=prefix + ".model")

    # llama.cpp's convert_hf_to_gguf token types: 1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte.
    def token_type(i):
        if sp.is_unknown(i): return 2
        if sp.is_control(i): return 3
        if sp.is_unused(i): return 5
        if sp.is_byte(i): return 6
        return 1

    n = sp.get_piece_size()
    cases = []
    for s in STRINGS:
        skip = any(c in s for c in SPM_CONTROL_TEXTS)
        cases.append({"ids": None if skip else sp.encode(s),
                      "decoded": None if skip else sp.decode(sp.encode(s))})
    whole = sp.encode(WIKITEXT)
    write_json("spm-score.json", {
        "provenance": {
            "tool": VERSIONS, "command": COMMAND,
            "how": "sentencepiece BPE (vocab 1000, byte_fallback, identity normalization, add_dummy_prefix, "
                   "remove_extra_whitespaces=False) trained on the first 3000 non-blank lines of wikitext-2-test.txt; "
                   "ids = sp.encode(s). ids are null where the text holds a control token's spelling: "
                   "sentencepiece reads it as plain text, GGUF tokenizers match it as the token.",
            "tolerance": "exact (token ids are integers)",
        },
        "tokens": [sp.id_to_piece(i) for i in range(n)],
        "scores": [sp.get_score(i) for i in range(n)],
        "token_types": [token_type(i) for i in range(n)],
        "bos_token_id": sp.bos_id(), "eos_token_id": sp.eos_id(), "unknown_token_id": sp.unk_id(),
        "cases": cases,
        "wikitext": {"count": len(whole), "fnv1a64": fnv1a64(whole)},
    })


# MARK: - Chat templates


def chat(smollm2_tok, llama_config):
    zephyr_tok = PreTrainedTokenizerFast(tokenizer_file=os.path.join(OUT, "llama-bpe", "tokenizer.json"),
                                         bos_token="<s>", eos_token="</s>", unk_token="<unk>")
    renders = []
    for c in CONVERSATIONS:
        chatml = smollm2_tok.apply_chat_template(c["messages"], add_generation_prompt=c["add_generation_prompt"],
                                                 tokenize=False)
        zephyr = zephyr_tok.apply_chat_template(c["messages"], add_generation_prompt=c["add_generation_prompt"],
                                                tokenize=False, chat_template=llama_config["chat_template"])
        plain = smollm2_tok.apply_chat_template(c["messages"], add_generation_prompt=c["add_generation_prompt"],
                                                tokenize=False, chat_template=PLAIN_CHATML_TEMPLATE)
        renders.append({**c, "chatml": chatml, "plain_chatml": plain, "chatml_ids": smollm2_tok(chatml, add_special_tokens=False)["input_ids"],
                        "zephyr": zephyr})
    write_json("chat.json", {
        "provenance": {
            "tool": VERSIONS, "command": COMMAND, "model_sha256": sha256(MODEL),
            "how": "apply_chat_template(messages, add_generation_prompt=…, tokenize=False): chatml with SmolLM2's "
                   "tokenizer from the GGUF (its tokenizer.chat_template); zephyr with TinyLlama-1.1B-Chat-v1.0's "
                   "template and eos_token </s>; plain_chatml with PLAIN_CHATML_TEMPLATE; chatml_ids = tok(chatml, add_special_tokens=False)",
            "tolerance": "exact (strings)",
        },
        "smollm2_template": smollm2_tok.chat_template,
        "tinyllama_template": TINYLLAMA_CHAT_TEMPLATE,
        "plain_chatml_template": PLAIN_CHATML_TEMPLATE,
        "conversations": renders,
    })


if __name__ == "__main__":
    random.seed(0)
    os.makedirs(OUT, exist_ok=True)
    write_json("strings.json", {"provenance": {"command": COMMAND,
                                               "how": "hand-picked; the last is the first 2,000 characters of "
                                                      "wikitext-2-test.txt"},
                                "strings": STRINGS})
    smollm2_tok = smollm2()
    byte_bpe()
    llama_config = llama_bpe()
    spm_score()
    chat(smollm2_tok, llama_config)
