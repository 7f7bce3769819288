#!/bin/sh
# Builds a copy of this package in DEST (ctest's fixture), so that `make test` writes nothing into
# the source tree: copies the sources, `npm ci` from the lockfile, generates the types from the
# repository's OpenAPI document and compiles.  Usage: build-copy.sh DEST
set -eu
src=$(cd "$(dirname "$0")" && pwd)
dest=$1
rm -rf "$dest"
mkdir -p "$dest/src"
cp "$src/package.json" "$src/package-lock.json" "$src/README.md" "$src"/tsconfig*.json "$dest/"
cp "$src"/src/*.ts "$dest/src/"
cp -R "$src/examples" "$src/test" "$dest/"
cd "$dest"
npm ci --no-audit --no-fund --loglevel=error
IKIGAI_OPENAPI="${IKIGAI_OPENAPI:-$src/../../src/http/openapi.json}" npm run --silent build
