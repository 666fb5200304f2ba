#!/usr/bin/env bash
# `npm test`: type-check, build, then every test file.
#
# tsc is single-threaded, so the server's type check runs beside the console's type check and
# the build; the build's tsc skips checking what the first tsc checks (--noCheck).
#
# Test files run three at a time (LATCHKEY_TEST_CONCURRENCY to change it): a browser test
# spends half its time waiting on Chromium and the server it started, and each file has
# databases of its own, so files do not share state. The browser tests, the package install
# and the process tests go first: the longest files started first finish with the others.
set -euo pipefail
cd "$(dirname "$0")/.."
shopt -s globstar nullglob

npx tsc -p tsconfig.json &
server_check=$!
(npx tsc -p tsconfig.web.json && npx tsc -p tsconfig.build.json --noCheck && npx vite build --logLevel warn) &
build=$!
status=0
wait "$server_check" || status=$?
wait "$build" || status=$?
[ "$status" -eq 0 ] || exit "$status"

first=(test/e2e/*.test.ts test/package.test.ts test/cli.test.ts test/cli-mail.test.ts test/backup.test.ts test/file-modes.test.ts)
files=("${first[@]}")
for file in test/**/*.test.ts; do
  case " ${first[*]} " in *" $file "*) ;; *) files+=("$file") ;; esac
done

exec node --import tsx --test --test-concurrency="${LATCHKEY_TEST_CONCURRENCY:-3}" --test-timeout=600000 --test-reporter=spec "${files[@]}"
