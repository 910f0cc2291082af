# One image for every Keeper role: `docker run keeper server` (the default), or with the command
# `node dist/cli/main.cjs projector | imaging | agent | bot`. See README, "Docker".
# Builds with BuildKit and with the classic builder alike (docker-compose v1 uses the latter).

# Build: every dependency, then the compiled CLI (dist/cli) and the web page (dist/web).
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# No install scripts: the native modules (bcrypt, sharp) ship prebuilt binaries that load without.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY bin ./bin
COPY scripts ./scripts
COPY proto ./proto
COPY src ./src
RUN npm run build \
 && node -e "require('bcrypt'); require('sharp')" \
 && npm prune --omit=dev --ignore-scripts --no-audit --no-fund

# Run: the compiled code with production dependencies only, as the unprivileged user node.
FROM node:20-bookworm-slim
# tini as PID 1 hands SIGTERM to Node (which then drains) and reaps zombies.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /var/lib/keeper/blobs /home/node/.keeper \
 && chown -R node:node /var/lib/keeper /home/node/.keeper \
 && printf '#!/bin/sh\nexec node /app/dist/cli/main.cjs "$@"\n' >/usr/local/bin/keeper \
 && chmod 755 /usr/local/bin/keeper
WORKDIR /app
ENV NODE_ENV=production \
    KEEPER_DATA_DIR=/var/lib/keeper \
    KEEPER_BLOB_DIR=/var/lib/keeper/blobs \
    KEEPER_HOME=/home/node/.keeper \
    KEEPER_LISTEN=0.0.0.0:7070
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
# proto/ for server reflection; dist/web is the page the agent serves.
COPY --from=build /app/proto ./proto
COPY --from=build /app/dist ./dist
COPY docker/healthcheck.mjs ./docker/healthcheck.mjs
USER node
EXPOSE 7070 7071
# Asks the running process itself: the gRPC health service of a server, the agent's HTTP API,
# the projector's or imaging worker's heartbeat (see docker/healthcheck.mjs).
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 CMD ["node", "/app/docker/healthcheck.mjs"]
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "dist/cli/main.cjs", "server"]
