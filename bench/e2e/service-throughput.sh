#!/usr/bin/env bash
# Issue 13's end-to-end figures: ingest throughput of the SQuAD dev paragraphs through the real service (upload API,
# ingest worker, default encoder, SQLite + vector index + BM25) and /v1/search latency in the default hybrid mode
# (the per-key request limit is switched off: the upload loop sends 2,067 requests in well under a minute).
# Usage: bench/e2e/service-throughput.sh [RAG_DLL|RAG_EXECUTABLE ...]   (default: src/Api built in Release here). Pass
# several builds (e.g. one of an earlier commit) to measure them one after another in the same run; a published
# self-contained `rag` runs where there is no .NET (a lent GPU machine). RAG_ARGS adds settings to each service
# (e.g. "--Rag:Models:Device=cuda"); SQUAD names the dataset where ../shared/data is not beside the checkout.
set -euo pipefail
cd "$(dirname "$0")/../.."
squad=$(realpath "${SQUAD:-../shared/data/squad-v1.1/dev-v1.1.json}")
read -r -a extra <<< "${RAG_ARGS:-}"
if [ $# -eq 0 ]; then
  dotnet build src/Api -c Release --artifacts-path /tmp/art-e2e -v q -nologo >/dev/null
  set -- /tmp/art-e2e/bin/Rag.Api/release/rag.dll
fi
port=5392
for dll in "$@"; do
  data=$(mktemp -d)
  echo "== $dll"
  if [[ "$dll" == *.dll ]]; then host=(dotnet "$dll"); else host=("$dll"); fi
  "${host[@]}" serve "${extra[@]}" --urls "http://127.0.0.1:$port" --data "$data" --Rag:Limits:RequestsPerMinute=0 --Logging:LogLevel:Default=Warning >"$data/out.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 240); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.5; done
  key=$(grep -o 'rag_[A-Za-z0-9_-]*' "$data/out.log" | head -1)
  curl -s "http://127.0.0.1:$port/readyz"; echo
  python3 bench/e2e/service_throughput.py "http://127.0.0.1:$port" "$key" "$squad" || { kill "$pid"; exit 1; }
  kill "$pid"; wait "$pid" 2>/dev/null || true
  grep -m 2 -E "[Ee]ncoders run on" "$data/out.log" || true
  rm -rf "$data"
done
