#!/usr/bin/env bash
# Runs the Dockerfile's steps in a temporary folder without a container engine,
# then starts the result the way the image does (all addresses, token from the
# environment) and checks it: the token is required, the dashboard is served,
# the health check passes.
#   scripts/image-steps.sh             # what is committed (git archive HEAD)
#   scripts/image-steps.sh --worktree  # the working tree, uncommitted changes included
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT
build="$work/build"
app="$work/app"
mkdir -p "$build" "$app"

# --- build stage
# COPY package.json package-lock.json; RUN npm install; COPY . . (less .dockerignore)
if [ "${1:-}" = "--worktree" ]; then
  (cd "$repo" && git ls-files -co --exclude-standard -z | xargs -0 tar -c --ignore-failed-read 2>/dev/null) | tar -x -C "$build"
else
  git -C "$repo" archive HEAD | tar -x -C "$build"
fi
cd "$build"
npm install --no-audit --no-fund --loglevel=error
# RUN npm run build && npm prune --omit=dev
npm run build --silent
npm prune --omit=dev --loglevel=error

# --- run stage: COPY --from=build, only what a node needs
cp package.json "$app/"
cp -r node_modules dist server "$app/"
mkdir -p "$app/web" "$app/scripts"
cp -r web/dist "$app/web/dist"
cp scripts/healthcheck.mjs "$app/scripts/"
echo "image content: $(du -sh "$app" | cut -f1)"

# ENV + VOLUME + ENTRYPOINT/CMD, on a free port instead of 7420
mkdir -p "$work/games" "$work/state"
port=$(node -e 'const s=require("net").createServer().listen(0,()=>{console.log(s.address().port);s.close()})')
token="image-steps-token-$(node -e 'console.log(require("crypto").randomBytes(8).toString("hex"))')"
cd "$app"
LANSPREAD_GAMES="$work/games" LANSPREAD_STATE="$work/state" LANSPREAD_TOKEN="$token" LANSPREAD_NO_MDNS=1 NODE_ENV=production \
  node --max-semi-space-size=2 dist/server/cli/main.js serve --http "0.0.0.0:$port" --quic-port 0 >"$work/out.log" 2>"$work/err.log" &
pid=$!
url="http://127.0.0.1:$port/"
for _ in $(seq 1 100); do
  grep -q 'dashboard:' "$work/out.log" 2>/dev/null && break
  sleep 0.1
done
grep -q 'dashboard:' "$work/out.log" || { echo "node did not start:"; cat "$work/err.log"; exit 1; }

status=$(curl -s -o /dev/null -w '%{http_code}' "${url}api/health")
[ "$status" = 401 ] || { echo "expected 401 without the token, got $status"; exit 1; }
echo "without the token: 401"
curl -fsS -H "Authorization: Bearer $token" "${url}api/health"
echo
curl -fsS "$url" | grep -q '<div id="app"' && echo "dashboard served from the production build"
LANSPREAD_HEALTH_URL="$url" LANSPREAD_TOKEN="$token" node scripts/healthcheck.mjs && echo "health check passes"
