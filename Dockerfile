# Latchkey in a container: the npm package, built here and installed into a slim runtime
# image by scripts/install-package.sh, the same file test/package.test.ts runs.
#
#   docker build -t latchkey .
#   docker run -p 127.0.0.1:3000:3000 -v latchkey-data:/data latchkey
#   docker exec -it <container> latchkey first-admin-link
#
# Set LATCHKEY_PUBLIC_URL to the address people use (https://latchkey.example.org behind a
# TLS proxy; see docs/reverse-proxy.md): links in emails, the passkeys' relying party and the
# Host check all follow it. docker-compose.yml runs it on PostgreSQL.

# --- build: compile the server and the console, and pack them ---------------------------
FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
# Only the build's tools are needed here: no install scripts (the native modules are
# installed in the runtime stage, and `prepare` would build before the sources are copied).
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.web.json vite.config.ts ./
COPY scripts/build-server.mjs ./scripts/
COPY bin ./bin
COPY src ./src
COPY README.md LICENSE CHANGELOG.md ./
RUN npm run build
# --ignore-scripts: npm pack would run `prepare`, building a second time.
RUN mkdir /package \
 && npm pack --ignore-scripts --pack-destination /package \
 && mv /package/latchkey-*.tgz /package/latchkey.tgz

# --- runtime: the package installed as a command, run as the node user -----------------
FROM node:20-bookworm-slim
ENV NODE_ENV=production
COPY --from=build /package/latchkey.tgz /tmp/latchkey.tgz
COPY scripts/install-package.sh /tmp/install-package.sh
# better-sqlite3 fetches its prebuilt binary while installing; this image has no compiler
# to build it from source.
RUN sh /tmp/install-package.sh /tmp/latchkey.tgz /usr/local \
 && rm -rf /tmp/latchkey.tgz /tmp/install-package.sh /root/.npm

# The data folder: the SQLite database, secret.key and the mailbox (0700, the node user's).
RUN mkdir -p /data && chown node:node /data && chmod 0700 /data
ENV LATCHKEY_DATA_DIR=/data \
    LATCHKEY_HOST=0.0.0.0 \
    LATCHKEY_PORT=3000 \
    LATCHKEY_PUBLIC_URL=http://localhost:3000
VOLUME /data
WORKDIR /home/node
USER node
EXPOSE 3000

# Readiness, by IP address (the Host check always lets addresses through); slim has no curl.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.LATCHKEY_PORT || 3000) + '/readyz').then((r) => process.exit(r.status === 200 ? 0 : 1), () => process.exit(1))"]

CMD ["latchkey", "serve"]
