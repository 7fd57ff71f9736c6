#!/usr/bin/env bash
# Telemetry on (default) vs off (--Telemetry:Enabled=false) on one Release build, alternated ROUNDS times; the "on"
# arm's /metrics is scraped once a second. See ab-arms.sh for the build, the settings and what is printed:
#   ROOT=<clone> ROUNDS=3 bash bench/scripts/ab-telemetry.sh
ARM_A="on" ARM_B="off --Telemetry:Enabled=false" SCRAPE=on exec bash "$(dirname "$0")/ab-arms.sh"
