#!/bin/bash
# Builds .gpucheck/: what a GPU node with no Node.js and no package registry needs to run
# bench/inference.ts there (gpu-runners/README.md, "Check a GPU node"). Run from the repo root.
# The folder is ~40 MB: Node's binary and onnxruntime-node's linux-x64 files (xz), the bench
# bundled into one file (esbuild), the session worker, and Debian's Vulkan/GL loader packages.
set -euo pipefail
out=.gpucheck
mkdir -p "$out/debs" /tmp/roster-gpucheck/stage/bin /tmp/roster-gpucheck/stage/node_modules /tmp/amd64/partial
grep -qx '/.gpucheck/' .git/info/exclude 2>/dev/null || { mkdir -p .git/info; echo '/.gpucheck/' >>.git/info/exclude; }

echo "bundling bench/inference.ts"
npx esbuild bench/inference.ts --bundle --platform=node --format=esm --target=node20 \
  --external:onnxruntime-node \
  --alias:@roster/gpu-runners=./gpu-runners/src/model-server.ts \
  --alias:embedded-postgres=./bench/gpu-check/no-embedded-postgres.mjs \
  --banner:js="import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" \
  --log-level=error --outfile=/tmp/roster-gpucheck/inference.mjs
xz -T0 -6 -c /tmp/roster-gpucheck/inference.mjs >"$out/inference.mjs.xz"
cp gpu-runners/src/session-worker.js bench/gpu-check/run.sh "$out/"

echo "packing node and onnxruntime-node (linux x64 only; about a minute)"
stage=/tmp/roster-gpucheck/stage
cp "$(command -v node)" "$stage/bin/node"
rm -rf "$stage/node_modules/onnxruntime-node" && mkdir -p "$stage/node_modules/onnxruntime-node"
cp -r node_modules/onnxruntime-common "$stage/node_modules/"
(cd node_modules/onnxruntime-node && tar cf - --exclude='bin/napi-v6/win32' \
  --exclude='bin/napi-v6/darwin' --exclude='bin/napi-v6/linux/arm64' .) |
  tar xf - -C "$stage/node_modules/onnxruntime-node"
tar cJf "$out/payload.tar.xz" -C "$stage" .

echo "downloading the Vulkan and GL loaders (Debian, amd64)"
o=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64)
apt-get "${o[@]}" update >/dev/null
(cd "$out/debs" && apt-get "${o[@]}" download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
du -sh "$out"
