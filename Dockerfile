# Lanspread node image. Keep the steps in sync with scripts/image-steps.sh,
# which runs the same steps without a container engine.
FROM node:20-bookworm-slim

WORKDIR /app
COPY package.json package-lock.json ./
# npm install, not npm ci: see scripts/ensure-built.mjs (optional native packages of other platforms)
RUN npm install --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev && npm cache clean --force

# Games and node state live in volumes; the API listens on all addresses and
# therefore requires a token (generated into /state/api-token and printed at start).
ENV LANSPREAD_GAMES=/games \
    LANSPREAD_STATE=/state \
    LANSPREAD_HTTP=0.0.0.0:7420
VOLUME ["/games", "/state"]
# 7420/tcp dashboard and API, 7421/udp QUIC, 5353/udp mDNS (use --network host for discovery)
EXPOSE 7420/tcp 7421/udp 5353/udp

ENTRYPOINT ["node", "--max-semi-space-size=2", "dist/server/cli/main.js"]
CMD ["serve"]
