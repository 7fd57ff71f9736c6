#!/usr/bin/env bash
# mmserve-tiny's two decoder forms on one Release build, alternated ROUNDS times: "gqa" (GroupQueryAttention, one
# shared KV buffer; what CPU workers run by default) vs "concat" (the manifest's decoder, past ++ new KV). See ab-arms.sh
# for the build, the settings and what is printed:
#   ROOT=<clone> ROUNDS=3 SWEEP=1,16 bash bench/scripts/ab-decoder.sh
ARM_A="gqa --Model:DecoderVariant=gqa" ARM_B="concat --Model:DecoderVariant=decoder" exec bash "$(dirname "$0")/ab-arms.sh"
