# Lanspread node image: a headless node (game server box, or a seed node
# administered remotely). Keep the steps in sync with scripts/image-steps.sh,
# which runs the same steps without a container engine.
#
#   docker build -t lanspread .
#   docker run -d --network host -e LANSPREAD_TOKEN=… \
#     -v /srv/games:/games -v lanspread-state:/state lanspread
#
# --- build: compile the node and the dashboard, then drop the dev dependencies
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# npm install, not npm ci: see scripts/ensure-built.mjs (optional native packages of other platforms)
RUN npm install --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev

# --- run: only what a node needs at run time
FROM node:24-bookworm-slim
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/web/dist ./web/dist
# server/paths.ts finds the project by package.json beside server/
COPY --from=build /app/server ./server
COPY --from=build /app/scripts/healthcheck.mjs ./scripts/healthcheck.mjs
RUN mkdir -p /games /state && chown node:node /games /state
USER node

# Games and node state live in volumes. The API listens on all addresses and
# therefore requires a token: LANSPREAD_TOKEN, or one generated into
# /state/api-token and printed at start (docker logs).
ENV LANSPREAD_GAMES=/games \
    LANSPREAD_STATE=/state \
    NODE_ENV=production
VOLUME ["/games", "/state"]
# 7420/tcp dashboard and API, 7421/udp QUIC, 5353/udp mDNS (use --network host for discovery)
EXPOSE 7420/tcp 7421/udp 5353/udp
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s CMD ["node", "scripts/healthcheck.mjs"]

ENTRYPOINT ["node", "--max-semi-space-size=2", "dist/server/cli/main.js"]
CMD ["serve", "--http", "0.0.0.0:7420"]
