#!/bin/sh
# The eval harness over all 10,570 SQuAD v1.1 dev questions in BM25 mode (k up to 100), as `rag eval run`
# does it: SQLite store, ingest pipeline, BM25 index, the chat's retriever. Prints questions per second and
# total seconds, then the same questions through a naive single-threaded Python BM25 for a ratio.
#   bench/eval/run.sh [SQUAD_JSON] [extra Eval.Bench args, e.g. --limit 2000 --k 1,5,20]
# SKIP_PYTHON=1 skips the Python reference (it takes a minute or more).
set -eu
cd "$(dirname "$0")/../.."
SQUAD="${1:-${RAG_SHARED_DATA:-../shared/data}/squad-v1.1/dev-v1.1.json}"
[ $# -gt 0 ] && shift
ART="${ARTIFACTS:-/tmp/art-eval-bench}"
dotnet build bench/Eval.Bench -c Release --artifacts-path "$ART" -v quiet -nologo >/dev/null
start=$(date +%s.%N)
dotnet "$ART/bin/Rag.Eval.Bench/release/Rag.Eval.Bench.dll" --squad "$SQUAD" "$@"
end=$(date +%s.%N)
dotnet_s=$(echo "$end - $start" | bc)
echo "harness process: $dotnet_s s wall"
if [ "${SKIP_PYTHON:-0}" != 1 ]; then
  start=$(date +%s.%N)
  python3 bench/eval/reference_bm25.py "$SQUAD"
  end=$(date +%s.%N)
  python_s=$(echo "$end - $start" | bc)
  echo "python process: $python_s s wall; python / harness: $(echo "scale=2; $python_s / $dotnet_s" | bc)x"
fi
