#!/usr/bin/env bash
# Resident memory of the service with no encoder and with each built-in encoder, measured in the same run:
# VmRSS and VmHWM from /proc once /readyz answers, and again after one hybrid search (the encoder has run).
# Usage: bench/memory/encoder-rss.sh   (builds src/Api in Release first)
set -euo pipefail
cd "$(dirname "$0")/../.."
dotnet build src/Api -c Release -v q -nologo >/dev/null
dll=src/Api/bin/Release/net10.0/rag.dll
port=5391
for encoder in none builtin:arctic-embed-xs builtin:all-MiniLM-L6-v2; do
  data=$(mktemp -d)
  dotnet "$dll" serve --urls "http://127.0.0.1:$port" --data "$data" "--Rag:Models:QuestionEncoder=$encoder" \
    --Logging:LogLevel:Default=Warning >"$data/out.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 120); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.5; done
  key=$(grep -o 'rag_[A-Za-z0-9_-]*' "$data/out.log" | head -1)
  ready=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)
  curl -sf -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
    -d '{"title":"Note","text":"The office opens at nine every weekday morning."}' "http://127.0.0.1:$port/v1/documents" >/dev/null
  sleep 3
  curl -sf -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
    -d '{"query":"When does the office open?","k":5}' "http://127.0.0.1:$port/v1/search" >/dev/null
  used=$(awk '/VmRSS/ {print $2}' /proc/$pid/status); peak=$(awk '/VmHWM/ {print $2}' /proc/$pid/status)
  printf '%-28s RSS ready %6d MiB, after ingest+search %6d MiB, peak %6d MiB\n' "$encoder" $((ready / 1024)) $((used / 1024)) $((peak / 1024))
  kill "$pid"; wait "$pid" 2>/dev/null || true
  rm -rf "$data"
done
echo "weight file (model.onnx inside the package DLL): about 90 MB for each built-in encoder"
