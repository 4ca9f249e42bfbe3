#!/usr/bin/env bash
# Runs the Dockerfile's steps in a temporary folder without a container engine,
# then starts the result the way the image does and checks it answers:
#   scripts/image-steps.sh
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
pid=""

# COPY . . (what is committed, as a clean checkout would have it)
git -C "$repo" archive HEAD | tar -x -C "$work/"
cd "$work"
# RUN npm install; RUN npm run build && npm prune --omit=dev
npm install --no-audit --no-fund --loglevel=error
npm run build --silent
npm prune --omit=dev --loglevel=error

# ENV + ENTRYPOINT/CMD, on a free port
mkdir -p "$work/games" "$work/state"
LANSPREAD_GAMES="$work/games" LANSPREAD_STATE="$work/state" LANSPREAD_HTTP=127.0.0.1:0 LANSPREAD_NO_MDNS=1 \
  node dist/server/cli/main.js serve >"$work/out.log" 2>"$work/err.log" &
pid=$!
for _ in $(seq 1 100); do
  url=$(grep -o 'http://[^ #]*' "$work/out.log" | head -1 || true)
  [ -n "$url" ] && break
  sleep 0.1
done
[ -n "${url:-}" ] || { echo "node did not start:"; cat "$work/err.log"; exit 1; }
curl -fsS "${url}api/health"
echo
curl -fsS "$url" | grep -q '<div id="app"' && echo "dashboard served from the production build"
