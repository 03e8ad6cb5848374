#!/usr/bin/env bash
# Issue 11's quality figures through `rag eval run` (the product's own eval path, not a bench of its parts): all
# SQuAD v1.1 dev questions over its paragraphs in bm25, dense and hybrid modes, for each built-in encoder, each on
# a fresh data folder (the corpus is indexed once per folder and reused by the three modes).
# Usage: bench/eval/squad-encoders.sh [LIMIT]   (builds src/Api in Release first; ../shared/data must hold SQuAD)
set -euo pipefail
cd "$(dirname "$0")/../.."
squad=$(realpath ../shared/data/squad-v1.1/dev-v1.1.json)
limit=${1:+--limit $1}
dotnet build src/Api -c Release -v q -nologo >/dev/null
rag() { dotnet src/Api/bin/Release/net10.0/rag.dll "$@"; }
for encoder in builtin:arctic-embed-xs builtin:all-MiniLM-L6-v2; do
  data=$(mktemp -d)
  for mode in bm25 dense hybrid; do
    echo "== $encoder, $mode"
    # shellcheck disable=SC2086
    rag eval run --dataset "squad:$squad" --mode "$mode" --k 1,5,20 $limit --data "$data" \
      "--Rag:Models:QuestionEncoder=$encoder" | grep -E "^(Recall|MRR)@" || true
  done
  rm -rf "$data"
done
