// The usage text: every command and flag, with its default and range.
import Surgery

private let thresholdsText = Selection.studyThresholds.map { "\($0)" }.joined(separator: ",")

let usage = """
usage: surgery COMMAND [MODEL] [OPTIONS]
       surgery --version   the version, the build flags and whether the fast kernels are on

MODEL is a Hugging Face folder (config.json + *.safetensors), a .safetensors file with a
config.json beside it, or a .gguf file. Where MODEL is optional it defaults to the model
`make model` caches: $SURGERY_MODEL, else ~/.cache/surgery/models/\(DefaultModel.fileName).
inspect, spectrum and compress (without calibration) need only config.json and the weights;
the commands that read or write text also need the folder's tokenizer.json.

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

  run [MODEL] [surgery options] [evaluation options] [--prompt TEXT] [--max-tokens 96] [--details] [--latent] [--json]
      The study's main job: the model, its evaluation, the surgery, the surgered model's
      evaluation (perplexity, KL(base ‖ surgered), top-1 agreement) and greedy chat replies of
      both models to --prompt (default "What is machine learning?") side by side.
      --details           also print one row per matrix (components, variance, error, size)
      --latent            run the surgered model from its latent: the cache holds r values per
                          token and layer instead of K and V (needs k and v sharing a basis)
      --json              print the same result as JSON instead (plan, surgery statistics with one
                          entry per matrix, evaluation, generations)

  sweep [MODEL] --out DIR [--variances LIST] [--ranks LIST] [--kv-budgets LIST] [--bases LIST]
        [--modes LIST] [--centrings LIST] [--targets LIST] [--layer-group N] [evaluation options]
      One surgery and evaluation per (basis, mode, centring, selection); each group is decomposed
      once. Writes sweep.md, sweep.csv, sweep.json and SVG plots (perplexity and KL against the
      threshold, the factored-parameter ratio and the KV-cache fraction) to DIR, rewritten after
      every row, and report.html: one page with all of it and a reading of the result.
      --variances LIST    default \(thresholdsText) (each in (0, 1])
      --modes LIST        default separate,shared-kv (also shared-kv-layers)
      --centrings LIST    default pca (also seed, none; the activation basis is always uncentred)
      --bases LIST        default weights (also activations, activations-balanced)
      --ranks LIST        also (or instead) one point per rank
      --kv-budgets LIST   also (or instead) one point per KV-cache fraction in (0, 1], ranks
                          allocated per layer (--uniform: the same share in every layer)
      calibration options as for run (--calibration, --calibration-tokens)
      --out DIR           a new or empty folder (required, or --resume)
      --resume DIR        go on with the interrupted sweep that wrote DIR: the same command with
                          --resume DIR instead of --out DIR computes only the rows not yet in
                          DIR/sweep.json (another model, text, calibration or grid is refused)

  spectrum [MODEL] --out DIR [--targets q,k,v] [--centring pca|none]
      Explained-variance curves per layer for each target and the stacked K/V (SVG), and
      spectrum.csv: components needed per (layer, matrix, threshold) for the thresholds
      \(Selection.studyThresholds.map { "\($0)" }.joined(separator: ", ")); report.html shows both.

  compress [MODEL] --out DIR [--dtype bf16] [--factored] [surgery options]
      Applies the surgery and writes the result as a Hugging Face folder (config.json,
      model.safetensors, generation_config.json, tokenizer files) that transformers loads.
      The folder is written whole (a temporary sibling renamed into place).
      --out DIR           a new or empty folder (required)
      --dtype D           f32, bf16 (default) or f16
      --factored          keep each layer's K/V factors (kv_a_proj, k_b_proj, v_b_proj and
                          latent_kv_ranks in config.json) instead of dense k_proj, v_proj: this
                          project loads it and runs it from a latent cache; transformers does not

surgery options:
  --targets LIST      matrices to replace, any of q,k,v,o,gate,up,down; default q,k,v
  --mode M            separate: each matrix its own PCA; shared-kv (default): q alone, k and v
                      stacked sharing one basis; shared-kv-layers: one K/V basis for groups of
                      --layer-group N consecutive layers (default: all layers)
  --variance T        keep the fewest components explaining a fraction T in (0, 1]; default \(Selection.studyVariance)
  --rank R            keep exactly R components instead (1 … the matrix's limit)
  --centring C        pca (default): true PCA, the mean added back; seed: exactly the original
                      study's transform(W)[:, :n] @ components[:n], the mean not added back;
                      none: uncentred truncated SVD, threshold on singular-value energy
  --kv-budget F       keep a fraction F in (0, 1] of the KV cache (targets k,v only): ranks
                      allocated per layer by each layer's measured KL on the calibration text
  --uniform           with --kv-budget: the same share in every layer instead (round(F · rows))
  --basis B           weights (default): PCA of the weight rows, the study's method;
                      activations: PCA of what the matrices compute on calibration text
                      (M = W C Wᵀ, C = Σ x xᵀ of the attention input; uncentred; q, k, v only)
  --kv-balance        with --basis activations and shared-kv: scale K to V's output energy first
  --calibration SRC   self (default): the base model's own text from other prompts than the
                      built-in evaluation text; or a UTF-8 FILE (if it is also --text FILE, the
                      tokens after the evaluated windows are used). Statistics are cached beside
                      the model.
  --calibration-tokens N  calibration tokens, default \(CalibrationRequest.defaultTokens) (windows of \(CalibrationRequest.window))
  PCA takes the rows of the [out, in] weight as samples when rows ≤ cols, else its transpose;
  stacks are always rows as samples.

options of every command:
  --threads N         threads the kernels run on, 1 … the processors; default all (or
                      $SURGERY_THREADS). Results are the same for any N.
  --quiet             no progress or status lines on stderr (errors and warnings stay). Otherwise a
                      terminal shows one live line per stage (i/n, rate, time left), a log a line
                      per quarter, and each stage ends with a line saying what it did in how long.

evaluation options:
  --text FILE         a UTF-8 corpus; default: the built-in text, the base model's own sampled
                      continuations of 16 fixed prompts (generated once, cached beside the model)
  --window N          tokens per window, default 512 (2 … the model's context)
  --windows K         use only the first K windows (default: all)

Exit status: 0 success, 2 bad input (arguments or files), 1 unexpected failure.
"""
