#!/usr/bin/env bash
# Reproduce models/specter-tiny end to end (Debian 12, 2 cores, ~2.5 hours):
#
#   tools/model/setup.sh                 # all stages
#   tools/model/setup.sh train export    # only some stages (deps corpus tokenizer train export drafttable verify eval)
#
# Stages:
#   deps       apt-get the Python toolchain (Debian's own interpreter /usr/bin/python3; no pip) and
#              OpenBLAS (switches the libblas.so.3 alternative; ~25x faster matmuls than reference BLAS),
#              then npm-install the pinned corpus packages into tools/model/work/npm-corpus (gitignored).
#   corpus     collect Python stdlib + npm JS/TS sources, hold out sha1(path)%20==0 documents.
#   tokenizer  train the 4096-token byte-level BPE -> models/specter-tiny/tokenizer{,_config}.json,
#              check parity/round-trip against @huggingface/tokenizers (node).
#   train      train the model: first phase (wall-clock budget TRAIN_MINUTES, default 100) -> work/ckpt.pt,
#              then the FIM-dense phase from it (FIM_MINUTES, default 30) -> work/ckpt_fim.pt;
#              resumable: rerun to resume either phase.
#   export     work/ckpt_fim.pt -> config.json, generation_config.json, model.safetensors, onnx/*.
#   drafttable the model's own greedy next token after 1-4-token contexts over 1M training tokens
#              -> specter/draft-table.bin (the `table` drafter of speculative decoding; ~7 min).
#   verify     ONNX vs PyTorch parity (onnxruntime-node), transformers.js load + greedy generation.
#   eval       bench/tasks/*.jsonl, 4-gram baseline, held-out perplexity + exact match, loss.png.
# The node checks use the repo's own node_modules (run `npm ci` in the repo root first).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
MODEL="$ROOT/models/specter-tiny"
WORK="$HERE/work"
PY=/usr/bin/python3
TRAIN_MINUTES="${TRAIN_MINUTES:-100}"
FIM_MINUTES="${FIM_MINUTES:-30}"
STAGES=("$@")
[ ${#STAGES[@]} -eq 0 ] && STAGES=(deps corpus tokenizer train export drafttable verify eval)
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
mkdir -p "$WORK" "$MODEL"

NPM_CORPUS=(typescript@5.9.3 @types/node@26.6.6 @types/vscode@1.140.0 vscode-languageserver-protocol@3.18.5
            vscode-languageclient@11.0.0 vscode-languageserver@10.1.2 esbuild@0.28.2 onnxruntime-common@1.30.0)

for stage in "${STAGES[@]}"; do
  echo "=== $stage ($(date -u +%H:%M:%S))"
  case "$stage" in
    deps)
      $SUDO apt-get update
      $SUDO apt-get install -y python3 python3-torch python3-numpy python3-onnx python3-regex \
        python3-matplotlib libopenblas0-pthread python3.11 libpython3.11-stdlib
      update-alternatives --display libblas.so.3-x86_64-linux-gnu | head -3 || true
      $PY -c 'import torch,time;torch.set_num_threads(2);a=torch.randn(1024,1024);a@a;t=time.time();[a@a for _ in range(10)];print("matmul GFLOP/s: %.0f"%(10*2*1024**3/(time.time()-t)/1e9))'
      mkdir -p "$WORK/npm-corpus"
      [ -f "$WORK/npm-corpus/package.json" ] || echo '{"name":"specter-corpus","private":true}' > "$WORK/npm-corpus/package.json"
      npm install --prefix "$WORK/npm-corpus" --ignore-scripts --no-audit --no-fund --omit=optional "${NPM_CORPUS[@]}"
      ;;
    corpus)
      $PY "$HERE/corpus.py" > "$WORK/corpus.log"; tail -5 "$WORK/corpus.log"
      ;;
    tokenizer)
      $PY "$HERE/train_tokenizer.py" "$MODEL"
      $PY "$HERE/tok_cases.py" "$MODEL"
      node "$HERE/check_tokenizer.js" "$MODEL" | tee "$WORK/check_tokenizer.log"
      ;;
    train)
      $PY "$HERE/train.py" --minutes "$TRAIN_MINUTES" --tokens-per-step 2048 --lr 2e-3 --warmup-steps 50 \
        --short-frac 0.4 2>&1 | tee -a "$WORK/train.log"
      $PY "$HERE/train.py" --fim-phase --init "$WORK/ckpt.pt" --minutes "$FIM_MINUTES" --tokens-per-step 2048 --lr 1e-3 \
        --warmup-steps 20 --ckpt-minutes 5 --seed 2 --ckpt "$WORK/ckpt_fim.pt" --log "$WORK/loss_fim.csv" 2>&1 | tee -a "$WORK/train_fim.log"
      ;;
    export)
      $PY "$HERE/export.py" "$WORK/ckpt_fim.pt" "$MODEL"
      ;;
    drafttable)
      $PY "$HERE/draft_table.py" "$MODEL" | tee "$WORK/draft_table.log"
      ;;
    verify)
      $PY "$HERE/verify_onnx.py" "$MODEL" && node "$HERE/verify_onnx.js" "$MODEL" | tee "$WORK/verify_onnx.log"
      node "$HERE/check_transformersjs.mjs" "$MODEL" > "$WORK/greedy_js.jsonl"
      $PY "$HERE/greedy_ref.py" "$MODEL" > "$WORK/greedy_py.jsonl"
      $PY -c 'import json,sys;a=[(json.loads(l)["prompt_ids"],json.loads(l)["new_ids"]) for l in open(sys.argv[1])];b=[(json.loads(l)["prompt_ids"],json.loads(l)["new_ids"]) for l in open(sys.argv[2])];print("transformers.js greedy == PyTorch greedy:",a==b);sys.exit(a!=b)' "$WORK/greedy_js.jsonl" "$WORK/greedy_py.jsonl" | tee "$WORK/greedy_compare.log"
      ;;
    eval)
      $PY "$HERE/make_tasks.py"
      $PY "$HERE/ngram_baseline.py"
      $PY "$HERE/evaluate.py" "$MODEL"
      $PY "$HERE/evaluate.py" "$MODEL" --heal --skip-ppl
      $PY "$HERE/evaluate.py" "$MODEL" --psm --skip-ppl
      $PY "$HERE/evaluate.py" "$MODEL" --plain --skip-ppl
      $PY "$HERE/copy_probe.py" "$MODEL" | tee "$WORK/copy_probe.log"
      $PY "$HERE/plot_loss.py" "$WORK/loss.csv" "$MODEL/loss.png" "$WORK/loss_fim.csv"
      $PY "$HERE/make_card.py" "$MODEL"
      ;;
    *) echo "unknown stage $stage" >&2; exit 2 ;;
  esac
done
