# guide-board: serve a runs directory mounted read-only.
# Not built in this repository's CI (its machines have no Docker engine); see docs/container.md.
#
#   docker build -t guide-board .
#   docker run --rm -p 4417:4417 -e GUIDE_BOARD_TOKEN="$(openssl rand -hex 24)" \
#     -v /srv/ci/runs:/runs:ro guide-board
FROM node:20-alpine
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund
COPY dist ./dist
COPY bin ./bin
USER node
EXPOSE 4417
# Listening on 0.0.0.0 requires GUIDE_BOARD_TOKEN: the server refuses to start without it.
ENTRYPOINT ["node", "bin/guide-board.mjs", "serve", "--host", "0.0.0.0", "--port", "4417", "--runs-dir", "/runs"]
