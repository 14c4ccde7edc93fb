// The usage text: every command and flag, with its default and range.

let usage = """
usage: surgery COMMAND [MODEL] [OPTIONS]

MODEL is a Hugging Face folder (config.json + *.safetensors), a .safetensors file with a
config.json beside it, or a .gguf file. Where MODEL is optional it defaults to the model
`make model` caches: $SURGERY_MODEL, else ~/.cache/surgery/models/SmolLM2-135M-Instruct.Q4_1.gguf.

commands:
  inspect MODEL [--json]
      Architecture, config, one line per module (name, kind, parameters), per-layer totals,
      total parameters, dtype breakdown and file size.
      --json              print the same as JSON

  generate [MODEL] --prompt TEXT [options]
      Streams a continuation of TEXT (or, with --chat, the model's reply) to stdout.
      --prompt TEXT       the prompt (required)
      --chat              wrap the prompt in the model's chat template (ChatML, Zephyr)
      --max-tokens N      tokens to generate, default 128 (1 or more; stops early at EOS)
      --temperature T     0 = greedy (default); > 0 samples from softmax(logits / T), up to 100
      --top-k K           sample among the K most likely tokens; default 0 = all
      --top-p P           sample within the smallest set reaching probability P, in (0, 1]; default 1
      --seed S            seed of the sampler, default 0 (same seed, same tokens on every platform)

  perplexity [MODEL] --text FILE [--window 512] [--windows K]
      Perplexity under protocol P1: the text tokenized without BOS, cut into consecutive
      non-overlapping windows; in each, tokens 2…N are scored given their prefix.
      --text FILE         a UTF-8 text file (required)
      --window N          tokens per window, default 512 (2 … the model's context)
      --windows K         score only the first K windows (default: all)

Exit status: 0 success, 2 bad input (arguments or files), 1 unexpected failure.
"""
