#!/usr/bin/env bash
# `npm test`: type-check, build, then every test file.
#
# tsc is single-threaded, so the server's type check runs beside the console's type check and
# the build (esbuild bundles the server, vite the console).
#
# Three test processes run at a time (LATCHKEY_TEST_CONCURRENCY to change it): a browser test
# spends part of its time waiting on Chromium and the server it started, and each process has
# databases of its own, so processes do not share state. On 2 cores, 3 at a time took 344 s,
# 2 took 372 s and 4 took 396 s: beyond 3, the processes only slow each other down.
set -euo pipefail
cd "$(dirname "$0")/.."
shopt -s globstar nullglob

npx tsc -p tsconfig.json &
server_check=$!
(npx tsc -p tsconfig.web.json && node scripts/build-server.mjs && npx vite build --logLevel warn) &
build=$!
status=0
wait "$server_check" || status=$?
wait "$build" || status=$?
[ "$status" -eq 0 ] || exit "$status"

# Files that start servers, command lines or Chromium keep a process each. The rest share a
# few processes (scripts/test-groups.mjs), which go first: the longest started first finish
# with the others.
own=(test/e2e/*.test.ts test/package.test.ts test/cli.test.ts test/cli-mail.test.ts test/backup.test.ts
  test/file-modes.test.ts test/server-process.test.ts test/instances.test.ts test/migrate.test.ts test/key-rotation.test.ts)
shared=()
for file in test/**/*.test.ts; do
  case " ${own[*]} " in *" $file "*) ;; *) shared+=("$file") ;; esac
done
listed=$(node scripts/test-groups.mjs "${LATCHKEY_TEST_GROUPS:-2}" .test-groups "${shared[@]}")
mapfile -t groups <<<"$listed"

exec node --import tsx --test --test-concurrency="${LATCHKEY_TEST_CONCURRENCY:-3}" --test-timeout=600000 --test-reporter=spec \
  "${groups[@]}" "${own[@]}"
