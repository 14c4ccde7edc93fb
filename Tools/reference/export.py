# Reference logits for exported folders (issue 5, `surgery compress`) → Tests/Fixtures/export/.
# transformers' SmolLM2 from the original GGUF (float32), every weight then rounded to bfloat16 and
# to float16 (torch's round-to-nearest-even) as an exported BF16/F16 folder stores it, and run in
# float32 — what transformers computes from such a folder. Nothing here reads this project's output.
#
# Usage: Tools/reference/run.sh export.py
import os

import numpy as np

from common_ref import (FIXTURES, SURGERY_MODEL, check_model_file, encode, load_smollm2, log,
                        versions, write_f32, write_json)

OUT = os.path.join(FIXTURES, "export")
COMMAND = "Tools/reference/run.sh export.py"
# compress_check.py's prompt (and CompressCheckHarness's in the Swift tests).
PROMPT = "The old lighthouse keeper climbed the stairs every evening, lit the lamp, and watched"


def main():
    import torch
    digest = check_model_file(SURGERY_MODEL)
    model, tok = load_smollm2(SURGERY_MODEL)
    ids = encode(tok, PROMPT)
    positions = [0, len(ids) // 2, len(ids) - 1]
    original = {name: p.detach().clone() for name, p in model.named_parameters()}
    entries = []
    for dtype, torch_dtype in [("bfloat16", torch.bfloat16), ("float16", torch.float16)]:
        with torch.no_grad():
            for name, p in model.named_parameters():
                p.copy_(original[name].to(torch_dtype).float())
            logits = model(input_ids=torch.tensor([ids]), use_cache=False).logits[0].float().numpy()
        file = f"smollm2_{dtype}_logits.f32"
        write_f32(os.path.join(OUT, file), logits[positions])
        entries.append({"dtype": dtype, "logits_file": f"export/{file}", "logits_shape": [len(positions), logits.shape[1]],
                        "argmax_every_position": logits.argmax(1).tolist()})
        log(f"{dtype}: logits of {len(ids)} positions, rows {positions} written")
    write_json(os.path.join(OUT, "smollm2.json"), {
        "provenance": {
            "tool": "transformers LlamaForCausalLM (eager attention), torch CPU, 2 threads",
            "versions": versions(),
            "command": COMMAND,
            "model_file": os.path.basename(SURGERY_MODEL),
            "model_sha256": digest,
            "how": "AutoModelForCausalLM.from_pretrained(dir, gguf_file=name, dtype=torch.float32); every "
                   "parameter p replaced by p.to(dtype).float() (round to nearest, ties to even); prefill "
                   "of the prompt without cache; full logit rows at `positions`",
            "tolerance": "max|Δ| ≤ 1e-3 (float32 summation order over 30 layers, as the forward tests)",
        },
        "prompt": PROMPT,
        "ids": ids,
        "positions": positions,
        "exports": entries,
    })


if __name__ == "__main__":
    main()
