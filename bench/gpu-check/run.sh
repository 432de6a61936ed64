#!/bin/bash
# Runs on the GPU node, from the repo root: bash .gpucheck/run.sh. Writes webgpu.txt and
# cpu.txt under $OUT (or .gpucheck/). The last line of each is the BENCH.md JSON report.
set -uo pipefail
cd "$(dirname "$0")"
out=${OUT:-.}
for f in debs/*.deb; do dpkg -x "$f" /; done
ldconfig
tar xJf payload.tar.xz && xz -dc inference.mjs.xz >inference.mjs
export VK_DRIVER_FILES=${VK_DRIVER_FILES:-/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json}
nvidia-smi -L || true
gpu=(--max-batch 512 --queue-delay-ms 5 --concurrency 2048 --work-scale 2 --rounds 2)
echo "== webgpu"
timeout 300 ./bin/node inference.mjs --providers webgpu "${gpu[@]}" 2>&1 | tee "$out/webgpu.txt" | tail -3
echo "== cpu, same settings"
timeout 300 ./bin/node inference.mjs --providers cpu "${gpu[@]}" 2>&1 | tee "$out/cpu.txt" | tail -3
