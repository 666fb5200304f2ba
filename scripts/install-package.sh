#!/bin/sh
# Installs a Latchkey package (the tarball `npm pack` makes) as a command: PREFIX/bin/latchkey.
# The Dockerfile's runtime stage and test/package.test.ts both run this file, so the image
# is installed by exactly the commands the package test runs.
#
#   scripts/install-package.sh TARBALL PREFIX
#
# The dependencies, native ones included (better-sqlite3, @node-rs/argon2), come from the
# package registry; --prefer-offline takes them from npm's cache when they are there. A
# tarball's `prepare` script is not run by npm, so nothing is rebuilt from sources.
set -eu
if [ "$#" -ne 2 ]; then
  echo "usage: $0 TARBALL PREFIX" >&2
  exit 2
fi
npm install --global --prefix "$2" --prefer-offline --no-audit --no-fund "$1"
