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

Exit status: 0 success, 2 bad input (arguments or files), 1 unexpected failure.
"""
