#!/usr/bin/env bash
# scripts/bench.sh: benchmark Ikigai against the original (seed) backend.
#
# Run from anywhere (it cd's to the repo root); `make bench` runs it after
# building build/release/ikigai. Loopback traffic only. Every process it starts
# (seed node server, MariaDB servers, our server) is recorded by pid and stopped
# by that pid on exit; scratch data lives in one `mktemp -d` dir under /tmp.
#
#   1. seed: copies $SEED_DIR (read-only) to the temp dir, starts a private
#      MariaDB with the seed's mariadb.sh (MDB_DIR in the temp dir, free port),
#      starts its server with start.sh (free PORT), measures idle RSS and the
#      sequential login time, runs the seed's bench.sh (register, login,
#      authed-read, login storm), then stops both.
#   2. ours, once per back end in $BENCH_BACKENDS:
#        sqlite: `ikigai serve --listen 127.0.0.1:0 --data-dir D --database-url sqlite://D/ikigai.db`
#        mysql:  same against a MariaDB this script starts itself from a fresh
#                temp datadir (not the seed's: the seed's is stopped before our
#                runs, so each system has the machine to itself), database
#                ikigai_bench, user ikigai_bench.
#      Scenarios: idle VmRSS, GET /healthz with wrk (-t2 -c64), and, when
#      POST /api/v1/auth/register is implemented (not 404), the sequential login
#      time and the seed's bench.sh against http://127.0.0.1:PORT/api/v1.
#      Then, unless BENCH_TASKS=0, the tasks scenarios, once per size in
#      $BENCH_TASK_SIZES (tasks in the table): a fresh database (new SQLite file;
#      DROP/CREATE DATABASE on MariaDB), `ikigai migrate`, one benchmark user made with
#      `ikigai user create`, then bench/gen_tasks.py: BENCH_TASK_USERS users and SIZE
#      tasks (with tags) spread across them, plus BENCH_TASK_OWNED tasks of the benchmark
#      user; then a fresh server, login as that user, and wrk (-t$TASKS_THREADS -c$CONNS,
#      bench/tasks.lua) on GET /api/v1/tasks?limit=20 (after a TASKS_WARMUP run) and
#      on POST /api/v1/tasks.
#      Then, unless BENCH_FLOOD=0, the body flood (issue 11, item 1) on a fresh server
#      and database: wrk (-t2 -c$CONNS, bench/tasks.lua) on authenticated GET /api/v1/me
#      alone for FLOOD_DURATION, then again while bench/body_flood.py keeps FLOOD_CONNS
#      connections each POSTing a FLOOD_BYTES body (Content-Length declared, the bytes
#      really sent, unauthenticated) to /api/v1/auth/register; VmRSS sampled every
#      50 ms: idle, peak during the flood, growth, and what is still held 2 s after.
#      Then, unless BENCH_NOTIFY=0, the notification scenarios (issue 12) on a fresh database:
#      an admin and NOTIFY_USERS users (one known password under a cheap Argon2 hash,
#      NOTIFY_ARGON2_KIB, which this phase's commands and servers also use) with NOTIFY_TASKS
#      tasks (remind_at filled, nothing due) made by bench/gen_tasks.py, a server A with
#      IKIGAI_JOBS_INTERVAL=1s, then bench/notify_bench.py: the reminder pass read from
#      /metrics; wrk GET /api/v1/me alone, NOTIFY_STREAMS streams opened and held (RSS with
#      them), wrk again while they stay open; a second server B on the same database and
#      NOTIFY_LATENCY_N announcements through A, each timed from its 202 to its event on a
#      stream on B; one announcement to every user: its 202 and until every inbox row exists.
#      Then, unless BENCH_DATA=0, the activity log and the export (issue 13): GET
#      /admin/activity?limit=50 with DATA_EVENTS_SMALL events (bench/gen_activity.py) and again
#      with DATA_EVENTS, and GET /me/export of a user with DATA_EXPORT_TASKS tasks
#      (bench/data_bench.py: time and the server's RSS growth).
#      Then, unless BENCH_PUSH=0, Web Push (issue 14): bench/push_bench.py runs a push service,
#      subscribes PUSH_COUNT/20 users 20 times each; one announcement sends PUSH_COUNT pushes
#      (pushes/s, server CPU per push), then a second one while wrk measures GET /me (reads alone
#      → during).
#      Then, unless BENCH_CLUSTER=0, the cluster comparison (issue 15): a single instance on one
#      MariaDB (our private one, a fresh database), then scripts/cluster.sh (three Galera nodes,
#      two instances each on its own node, HAProxy in front); on each, wrk -t2 -c$CONNS for
#      CLUSTER_DURATION: authed GET /api/v1/me, POST /api/v1/auth/login (the real Argon2id
#      cost), POST /api/v1/tasks; the cluster through HAProxy. Both on this one machine: the
#      cluster shows the cost of certification and wsrep_sync_wait, not more capacity.
#   3. prints one markdown table (seed vs ours on SQLite vs ours on MariaDB,
#      with ratios) and the targets with ✓/✗; saves it to
#      bench-results/<UTC timestamp>/summary.md next to all raw outputs.
#
# Exit status: 0 even when targets are missed; 1 only when something is broken
# (a server does not start, a tool is missing); the table is printed anyway.
#
# env: DURATION (10s) CONNS (32)                    passed to the seed's bench.sh
#      HEALTHZ_CONNS (64) HEALTHZ_THREADS (2)        wrk for /healthz
#      SEED_DIR (../shared/peers/express-seed)       the original backend
#      BENCH_SKIP_SEED (0; 1 = do not run the seed)
#      BENCH_BACKENDS ("sqlite mysql"; "" = do not run ours)
#      IKIGAI_BIN (build/release/ikigai)  HASH_LOGINS (20)  STARTUP_TIMEOUT (60 s)
#      FORGOT_N (150: forgot-password requests per kind, known and unknown address)
#      FORGOT_PAUSE (0.05 s between them)
#      BENCH_TASKS (1; 0 = skip the tasks scenarios)
#      BENCH_TASK_SIZES ("10000 1000000")  BENCH_TASK_USERS (10000)  BENCH_TASK_OWNED (100)
#      TASKS_WARMUP (2s; 0 = none)  TASKS_THREADS (2)
#      BENCH_KEEP_TMP (0; 1 = keep the temp dir, e.g. for the MariaDB logs)
#      BENCH_KEEP_LOGS (0; 1 = keep our server's full log; by default its access lines,
#        about 100 MB per run, are cut down to a count and the last 100)
#      BENCH_FLOOD (1; 0 = skip the body flood)  BENCH_FLOOD_ONLY (0; 1 = only the body
#        flood: no seed, no other scenario of ours, no tasks)  FLOOD_CONNS (200)
#        FLOOD_BYTES (4194304)  FLOOD_DURATION (DURATION)  FLOOD_PAUSE (0.5 s between a
#        connection's rounds)
#      BENCH_NOTIFY (1; 0 = skip the notification scenarios)  BENCH_NOTIFY_ONLY (0; 1 = only
#        them)  NOTIFY_STREAMS (5000)  NOTIFY_STREAMS_PER_USER (5)  NOTIFY_DURATION (DURATION)
#        NOTIFY_LATENCY_N (500)  NOTIFY_LATENCY_GAP (0.03 s)  NOTIFY_USERS (100000)
#        NOTIFY_TASKS (1000000)  NOTIFY_REMINDER_RUNS (5)  NOTIFY_ARGON2_KIB (8)
#      BENCH_DATA (1; 0 = skip the activity and export scenarios)  BENCH_DATA_ONLY (0; 1 = only
#        them)  DATA_EVENTS_SMALL (100000)  DATA_EVENTS (10000000)  DATA_EXPORT_TASKS (100000)
#      BENCH_PUSH (1; 0 = skip the Web Push scenario)  BENCH_PUSH_ONLY (0; 1 = only it)
#        PUSH_COUNT (10000)  PUSH_READS_DURATION (5s)
#      BENCH_CLUSTER (1; 0 = skip the cluster comparison)  BENCH_CLUSTER_ONLY (0; 1 = only it)
#        CLUSTER_DURATION (DURATION)
#      (several *_ONLY=1 together run those phases only)
#      IKIGAI_* settings in the environment reach our server (e.g. IKIGAI_LOG_LEVEL);
#      IKIGAI_RATE_LIMITS is always set to off.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

DURATION="${DURATION:-10s}"
CONNS="${CONNS:-32}"
HEALTHZ_CONNS="${HEALTHZ_CONNS:-64}"
HEALTHZ_THREADS="${HEALTHZ_THREADS:-2}"
SEED_DIR="${SEED_DIR:-../shared/peers/express-seed}"
BENCH_SKIP_SEED="${BENCH_SKIP_SEED:-0}"
BENCH_BACKENDS="${BENCH_BACKENDS-sqlite mysql}"
IKIGAI_BIN="${IKIGAI_BIN:-build/release/ikigai}"
HASH_LOGINS="${HASH_LOGINS:-20}"
FORGOT_N="${FORGOT_N:-150}"
FORGOT_PAUSE="${FORGOT_PAUSE:-0.05}"
STARTUP_TIMEOUT="${STARTUP_TIMEOUT:-60}"
BENCH_KEEP_TMP="${BENCH_KEEP_TMP:-0}"
BENCH_KEEP_LOGS="${BENCH_KEEP_LOGS:-0}"
BENCH_TASKS="${BENCH_TASKS:-1}"
BENCH_TASK_SIZES="${BENCH_TASK_SIZES:-10000 1000000}"
BENCH_TASK_USERS="${BENCH_TASK_USERS:-10000}"
BENCH_TASK_OWNED="${BENCH_TASK_OWNED:-100}"
TASKS_WARMUP="${TASKS_WARMUP:-2s}"
TASKS_THREADS="${TASKS_THREADS:-2}"
BENCH_FLOOD="${BENCH_FLOOD:-1}"
BENCH_FLOOD_ONLY="${BENCH_FLOOD_ONLY:-0}"
FLOOD_CONNS="${FLOOD_CONNS:-200}"
FLOOD_BYTES="${FLOOD_BYTES:-4194304}"
FLOOD_DURATION="${FLOOD_DURATION:-$DURATION}"
FLOOD_PAUSE="${FLOOD_PAUSE:-0.5}"
BENCH_NOTIFY="${BENCH_NOTIFY:-1}"
BENCH_NOTIFY_ONLY="${BENCH_NOTIFY_ONLY:-0}"
NOTIFY_STREAMS="${NOTIFY_STREAMS:-5000}"
NOTIFY_STREAMS_PER_USER="${NOTIFY_STREAMS_PER_USER:-5}"
NOTIFY_DURATION="${NOTIFY_DURATION:-$DURATION}"
NOTIFY_LATENCY_N="${NOTIFY_LATENCY_N:-500}"
NOTIFY_LATENCY_GAP="${NOTIFY_LATENCY_GAP:-0.03}"
NOTIFY_USERS="${NOTIFY_USERS:-100000}"
NOTIFY_TASKS="${NOTIFY_TASKS:-1000000}"
NOTIFY_REMINDER_RUNS="${NOTIFY_REMINDER_RUNS:-5}"
NOTIFY_ARGON2_KIB="${NOTIFY_ARGON2_KIB:-8}"
BENCH_DATA="${BENCH_DATA:-1}"
BENCH_DATA_ONLY="${BENCH_DATA_ONLY:-0}"
DATA_EVENTS_SMALL="${DATA_EVENTS_SMALL:-100000}"
DATA_EVENTS="${DATA_EVENTS:-10000000}"
DATA_EXPORT_TASKS="${DATA_EXPORT_TASKS:-100000}"
BENCH_PUSH="${BENCH_PUSH:-1}"
BENCH_PUSH_ONLY="${BENCH_PUSH_ONLY:-0}"
PUSH_COUNT="${PUSH_COUNT:-10000}"
PUSH_READS_DURATION="${PUSH_READS_DURATION:-5s}"
BENCH_CLUSTER="${BENCH_CLUSTER:-1}"
BENCH_CLUSTER_ONLY="${BENCH_CLUSTER_ONLY:-0}"
CLUSTER_DURATION="${CLUSTER_DURATION:-$DURATION}"
# BENCH_CORE: the seed comparison and our account scenarios (off when only one part is asked for)
BENCH_CORE=1
if [ "$BENCH_FLOOD_ONLY" = 1 ] || [ "$BENCH_NOTIFY_ONLY" = 1 ] || [ "$BENCH_DATA_ONLY" = 1 ] \
    || [ "$BENCH_PUSH_ONLY" = 1 ] || [ "$BENCH_CLUSTER_ONLY" = 1 ]; then
  BENCH_CORE=0; BENCH_SKIP_SEED=1; BENCH_TASKS=0
  if [ "$BENCH_FLOOD_ONLY" = 1 ]; then BENCH_FLOOD=1; else BENCH_FLOOD=0; fi
  if [ "$BENCH_NOTIFY_ONLY" = 1 ]; then BENCH_NOTIFY=1; else BENCH_NOTIFY=0; fi
  if [ "$BENCH_DATA_ONLY" = 1 ]; then BENCH_DATA=1; else BENCH_DATA=0; fi
  if [ "$BENCH_PUSH_ONLY" = 1 ]; then BENCH_PUSH=1; else BENCH_PUSH=0; fi
  if [ "$BENCH_CLUSTER_ONLY" = 1 ]; then BENCH_CLUSTER=1; else BENCH_CLUSTER=0; fi
fi
TASKS_BODY='{"title":"Benchmark task","notes":"Made by make bench.","priority":"high","due_at":"2027-03-01T09:00:00Z","tags":["bench","work"]}'
NPROC="$(nproc 2>/dev/null || echo 2)"
TS="$(date -u +%Y%m%dT%H%M%SZ)"
OUT="$ROOT/bench-results/$TS"
API_PREFIX="/api/v1"
BENCH_PASSWORD="Ikigai-bench-pw-42"

declare -A R=()      # results: R[<system>.<item>.<key>], system = seed|sqlite|mysql
declare -a STARTED=()  # pids this script started (stopped on exit, newest first)
BROKEN=0
TMP=""
LOADS=""   # "seed 2%, sqlite 51%, ...": CPU busy (1 s sample) when each part began
OUR_BIN=""   # a private copy of IKIGAI_BIN: a rebuild during the run cannot swap it
OUR_BIN_INFO="not found"
OUR_DB_PID=""
OUR_DB_URL=""
OUR_DB_SOCK=""
declare -A USED_PORTS=()
declare -A USER_IDS=()  # cheap_users: name -> id
DB_URL=""; DB_NOTE=""; USER_HASH=""; DB_ARGS=()

log() { printf '[bench %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
warn() { log "WARNING: $*"; }
PROBLEMS=()
broken() { log "ERROR: $*"; BROKEN=1; PROBLEMS+=("$*"); }

# --- processes ---------------------------------------------------------------
alive() { [ -n "${1:-}" ] && [ -d "/proc/$1" ] && ! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; }

stop_pid() {  # pid [seconds]: SIGTERM, wait, then SIGKILL; only pids we started
  local pid="$1" secs="${2:-20}" i
  alive "$pid" || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < secs * 10; i++)); do alive "$pid" || return 0; sleep 0.1; done
  warn "pid $pid still alive after ${secs}s, SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
}

forget_pid() {  # drop a pid from STARTED once it has been stopped
  local p keep=()
  for p in "${STARTED[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
  STARTED=("${keep[@]}")
}

CLUSTER_RUN_DIR=""  # the cluster of run_cluster while it runs (scripts/cluster.sh stops its own pids)
cleanup() {
  local i
  trap - EXIT INT TERM
  if [ -n "$CLUSTER_RUN_DIR" ] && [ -f "$CLUSTER_RUN_DIR/state" ]; then
    log "cleanup: stopping the cluster in $CLUSTER_RUN_DIR"
    CLUSTER_DIR="$CLUSTER_RUN_DIR" bash "$ROOT/scripts/cluster.sh" stop >/dev/null 2>&1 || true
  fi
  for ((i = ${#STARTED[@]} - 1; i >= 0; i--)); do
    alive "${STARTED[i]}" && log "cleanup: stopping pid ${STARTED[i]}"
    stop_pid "${STARTED[i]}" 30
  done
  if [ -n "$TMP" ] && [ -d "$TMP" ]; then
    if [ "$BENCH_KEEP_TMP" = 1 ]; then log "temp dir kept: $TMP"; else rm -rf -- "$TMP"; fi
  fi
}

# --- ports ---------------------------------------------------------------------
port_in_use() {  # any local socket (any state, v4 or v6) on this port
  local hex; hex="$(printf '%04X' "$1")"
  awk -v h=":$hex" 'FNR > 1 && toupper($2) ~ (h "$") { f = 1 } END { exit !f }' \
    /proc/net/tcp /proc/net/tcp6 2>/dev/null
}
FREE_PORT=""
free_port() {  # sets FREE_PORT; below the ephemeral range (32768+), so client ports cannot collide
  local p i
  for ((i = 0; i < 500; i++)); do
    p=$((20000 + (RANDOM * 32768 + RANDOM) % 12000))
    [ -z "${USED_PORTS[$p]:-}" ] || continue
    port_in_use "$p" && continue
    USED_PORTS[$p]=1
    FREE_PORT="$p"
    return 0
  done
  return 1
}

# --- measurements ----------------------------------------------------------------
status_mb() {  # pid field(VmRSS|VmHWM) -> MB with one decimal, "" if unreadable
  [ -n "${1:-}" ] && [ -r "/proc/$1/status" ] || return 0
  awk -v f="$2:" '$1 == f { printf "%.1f", $2 / 1024 }' "/proc/$1/status" 2>/dev/null || true
}

load_result() {  # system item file: parse the RESULT line of a wrk output into R[]
  local sys="$1" item="$2" file="$3" line kv
  line="$(grep -m1 '^RESULT ' "$file" 2>/dev/null || true)"
  if [ -z "$line" ]; then
    R[$sys.$item.note]="failed (no result, see ${file#"$ROOT"/})"
    return 0
  fi
  for kv in $line; do
    case "$kv" in *=*) R[$sys.$item.${kv%%=*}]="${kv#*=}" ;; esac
  done
}

login_time_ms() {  # base_url login_path email password -> median ms of HASH_LOGINS sequential logins
  local base="$1" path="$2" email="$3" pw="$4" i out code t times=()
  for ((i = 0; i < HASH_LOGINS; i++)); do
    out="$(curl -s -o /dev/null -w '%{http_code} %{time_total}' --max-time 30 \
      -H 'Content-Type: application/json' -d "{\"email\":\"$email\",\"password\":\"$pw\"}" \
      "$base$path" || true)"
    code="${out%% *}"; t="${out#* }"
    [ "$code" = 200 ] || { warn "sequential login #$i: HTTP $code"; return 1; }
    times+=("$t")
  done
  printf '%s\n' "${times[@]}" | sort -g | awk '{ a[NR] = $1 } END { printf "%.1f", (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2) * 1000 }'
}

median_ms() {  # seconds, one per line -> median in ms with two decimals
  sort -g | awk '{ a[NR] = $1 } END { if (NR) printf "%.2f", (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2) * 1000 }'
}

forgot_timing() {  # sys base_url(with API prefix) known_email data_dir out_dir: FORGOT_N forgot-password
                   # requests for the known address and FORGOT_N for unknown ones, interleaved, one
                   # connection each; sets R[sys.forgot_known_ms], R[sys.forgot_unknown_ms], R[sys.forgot_mails]
  local sys="$1" base="$2" known="$3" data="$4" dir="$5" i out code email kind before after
  local -a known_t=() unknown_t=()
  before="$(find "$data/mail" -name '*.eml' 2>/dev/null | wc -l)"
  for ((i = 0; i < 2 * FORGOT_N; i++)); do
    if ((i % 2 == 0)); then kind=known; email="$known"; else kind=unknown; email="nobody-$i-$(rand_hex 3)@example.com"; fi
    out="$(curl -s -o /dev/null -w '%{http_code} %{time_total}' --max-time 30 \
      -H 'Content-Type: application/json' -d "{\"email\":\"$email\"}" "$base/auth/password/forgot" || true)"
    code="${out%% *}"
    [ "$code" = 202 ] || { warn "$sys: forgot-password ($kind) #$i: HTTP ${code:-000}"; R[$sys.forgot.note]="failed (HTTP ${code:-000})"; return 1; }
    echo "$kind ${out#* }" >>"$dir/forgot-times.txt"
    # Each request is timed on a server that finished the previous one's background work (a known
    # address's mail is made after its answer): back to back, that work would land on whichever
    # request came next, i.e. always on an unknown one in this strict alternation.
    sleep "$FORGOT_PAUSE"
    if [ "$kind" = known ]; then known_t+=("${out#* }"); else unknown_t+=("${out#* }"); fi
  done
  R[$sys.forgot_known_ms]="$(printf '%s\n' "${known_t[@]}" | median_ms)"
  R[$sys.forgot_unknown_ms]="$(printf '%s\n' "${unknown_t[@]}" | median_ms)"
  # Rate limits are off in the bench, so every known request must still make its mail (written
  # as DATA_DIR/mail/*.eml, no SMTP here): check the known path really did its work.
  sleep 2
  after="$(find "$data/mail" -name '*.eml' 2>/dev/null | wc -l)"
  R[$sys.forgot_mails]="$((after - before))"
  log "$sys: forgot-password medians: known ${R[$sys.forgot_known_ms]} ms, unknown ${R[$sys.forgot_unknown_ms]} ms" \
    "($FORGOT_N each; $((after - before)) mails written for the known address)"
}

register_user() {  # base_url path username -> HTTP code, 000 if no answer (body in $TMP/last-register.json)
  local code
  rm -f "$TMP/last-register.json"
  code="$(curl -s -o "$TMP/last-register.json" -w '%{http_code}' --max-time 30 -H 'Content-Type: application/json' \
    -d "{\"username\":\"$3\",\"email\":\"$3@example.com\",\"password\":\"$BENCH_PASSWORD\"}" "$1$2")" || true
  echo "${code:-000}"
}

cpu_busy() {  # % of all cores busy over one second (called while none of our load runs)
  local a b
  a="$(head -n1 /proc/stat)"; sleep 1; b="$(head -n1 /proc/stat)"
  awk -v a="$a" -v b="$b" 'BEGIN {
    n = split(a, x); split(b, y); t = 0
    for (i = 2; i <= n; i++) t += y[i] - x[i]
    idle = (y[5] - x[5]) + (y[6] - x[6])
    printf "%.0f%%", (t > 0 ? 100 * (t - idle) / t : 0) }'
}
exit_text() {  # pid of a child that has exited -> "exit status N" / "killed by SIGSEGV"
  local st=0
  wait "$1" 2>/dev/null || st=$?
  if [ "$st" -gt 128 ]; then echo "killed by SIG$(kill -l "$((st - 128))" 2>/dev/null || echo "$((st - 128))")"; else echo "exit status $st"; fi
}

note_load() {
  local b; b="$(cpu_busy)"
  LOADS+="${LOADS:+, }$1 $b"
  if [ "${b%\%}" -gt 25 ]; then warn "$1: the machine is already $b busy with other work; its numbers will be low"; fi
}

rand_hex() { od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'; }

run_seed_bench() {  # system base_url outdir server_pid db_pid [paths...]: the seed's bench.sh
  local sys="$1" base="$2" dir="$3" spid="$4" dpid="$5" item
  shift 5
  mkdir -p "$dir"
  log "$sys: seed bench.sh against $base (DURATION=$DURATION CONNS=$CONNS; log ${dir#"$ROOT"/}/bench.log)"
  if env "$@" DURATION="$DURATION" CONNS="$CONNS" OUT_DIR="$dir" SERVER_PID="$spid" DB_PID="$dpid" \
    bash "$SEED_DIR/bench.sh" "$base" 2>&1 >"$dir/bench-table.txt" | tee "$dir/bench.log" | sed 's/^/    /' >&2; then
    :
  else
    warn "$sys: seed bench.sh failed (see ${dir#"$ROOT"/}/bench.log)"
  fi
  for item in register login authed storm-login storm-read; do load_result "$sys" "$item" "$dir/$item.txt"; done
}

# --- the original backend ----------------------------------------------------------
run_seed() {
  local dir="$OUT/seed" copy="$TMP/seed" mdb="$TMP/seed-mdb" mport sport spid dpid base i user hash
  mkdir -p "$dir"
  R[seed.ran]=1
  note_load seed
  if [ ! -f "$SEED_DIR/start.sh" ] || [ ! -f "$SEED_DIR/mariadb.sh" ]; then
    broken "seed: $SEED_DIR has no start.sh/mariadb.sh"; R[seed.ran]=""; return 0
  fi
  cp -R "$SEED_DIR/." "$copy"
  chmod -R u+w "$copy"
  rm -rf "${copy:?}/node_modules" "${copy:?}/run" "${copy:?}/bench-results"

  if ! free_port; then broken "seed: no free port"; return 0; fi
  mport="$FREE_PORT"
  if ! free_port; then broken "seed: no free port"; return 0; fi
  sport="$FREE_PORT"
  log "seed: private MariaDB via mariadb.sh (MDB_DIR=$mdb, port $mport)"
  if ! env MDB_DIR="$mdb" MDB_PORT="$mport" bash "$copy/mariadb.sh" start >"$dir/mariadb.log" 2>&1; then
    [ -f "$mdb/started.pid" ] && STARTED+=("$(cat "$mdb/started.pid")")
    cat "$dir/mariadb.log" >&2
    broken "seed: mariadb.sh start failed (see ${dir#"$ROOT"/}/mariadb.log)"
    return 0
  fi
  dpid="$(cat "$mdb/started.pid")"; STARTED+=("$dpid")
  log "seed: start.sh (npm ci, node server.js on 127.0.0.1:$sport)"
  if ! env PORT="$sport" HOST=127.0.0.1 DB_HOST=127.0.0.1 DB_PORT="$mport" \
    bash "$copy/start.sh" >"$dir/start.log" 2>&1; then
    [ -f "$copy/run/server.pid" ] && STARTED+=("$(cat "$copy/run/server.pid")")
    cat "$dir/start.log" >&2
    broken "seed: start.sh failed (see ${dir#"$ROOT"/}/start.log)"
    stop_seed "$copy" "$mdb" "$dir" "$dpid" ""
    return 0
  fi
  spid="$(cat "$copy/run/server.pid")"; STARTED+=("$spid")
  base="http://127.0.0.1:$sport"

  for ((i = 0; i < 10; i++)); do curl -s -o /dev/null --max-time 5 "$base/profile" || true; done
  sleep 1
  R[seed.idle_rss]="$(status_mb "$spid" VmRSS)"
  R[seed.healthz.note]="n/a (no /healthz)"
  user="hs$(rand_hex 4)"
  if [[ "$(register_user "$base" /register "$user")" == 2?? ]] \
    && hash="$(login_time_ms "$base" /login "$user@example.com" "$BENCH_PASSWORD")"; then
    R[seed.hash_ms]="$hash"
    log "seed: sequential login median ${hash} ms"
  else
    R[seed.hash.note]="failed"
  fi

  run_seed_bench seed "$base" "$dir" "$spid" "$dpid"
  R[seed.hwm]="$(status_mb "$spid" VmHWM)"
  R[seed.db_hwm]="$(status_mb "$dpid" VmHWM)"
  stop_seed "$copy" "$mdb" "$dir" "$dpid" "$spid"
}

stop_seed() {  # copy mdb dir dpid spid
  local copy="$1" mdb="$2" dir="$3" dpid="$4" spid="$5"
  log "seed: stopping (stop.sh, mariadb.sh stop)"
  bash "$copy/stop.sh" >>"$dir/stop.log" 2>&1 || true
  env MDB_DIR="$mdb" bash "$copy/mariadb.sh" stop >>"$dir/stop.log" 2>&1 || true
  [ -z "$spid" ] || { stop_pid "$spid"; forget_pid "$spid"; }
  [ -z "$dpid" ] || { stop_pid "$dpid" 60; forget_pid "$dpid"; }
  cp "$copy/run/server.log" "$dir/server.log" 2>/dev/null || true
  cp "$mdb/error.log" "$dir/mariadb-error.log" 2>/dev/null || true
}

# --- our MariaDB -------------------------------------------------------------------
start_our_mariadb() {
  local m="$TMP/ours-mdb" port pw i client
  [ -z "$OUR_DB_PID" ] || return 0
  mkdir -p "$m"
  client="$(command -v mariadb || command -v mysql || true)"
  if [ -z "$client" ] || ! command -v mariadbd >/dev/null || ! command -v mariadb-install-db >/dev/null; then
    broken "mysql: mariadbd / mariadb-install-db / mariadb client not found (apt-get install mariadb-server)"; return 1
  fi
  free_port || { broken "mysql: no free port"; return 1; }
  port="$FREE_PORT"
  log "mysql: private MariaDB for our server (datadir $m/data, 127.0.0.1:$port)"
  if ! mariadb-install-db --no-defaults --auth-root-authentication-method=normal --datadir="$m/data" \
    --user=root --skip-test-db >"$m/install.log" 2>&1; then
    cat "$m/install.log" >&2; broken "mysql: mariadb-install-db failed"; return 1
  fi
  OUR_DB_SOCK="$m/mysqld.sock"
  mariadbd --no-defaults --user=root --datadir="$m/data" --socket="$OUR_DB_SOCK" --port="$port" \
    --bind-address=127.0.0.1 --skip-name-resolve --innodb-buffer-pool-size=256M \
    --innodb-log-file-size=128M --max-connections=500 \
    --pid-file="$m/mariadbd.pid" --log-error="$m/error.log" >"$m/stdout.log" 2>&1 </dev/null &
  OUR_DB_PID=$!
  STARTED+=("$OUR_DB_PID")
  for ((i = 0; i < 120; i++)); do
    "$client" --no-defaults -uroot --socket="$OUR_DB_SOCK" -e 'SELECT 1' >/dev/null 2>&1 && break
    alive "$OUR_DB_PID" || break
    sleep 0.5
  done
  if ! "$client" --no-defaults -uroot --socket="$OUR_DB_SOCK" -e 'SELECT 1' >/dev/null 2>&1; then
    tail -n 20 "$m/error.log" >&2 || true
    broken "mysql: mariadbd did not come up"; return 1
  fi
  pw="$(rand_hex 12)"
  "$client" --no-defaults -uroot --socket="$OUR_DB_SOCK" <<SQL || { broken "mysql: creating database/user failed"; return 1; }
CREATE DATABASE ikigai_bench CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci;
CREATE USER 'ikigai_bench'@'127.0.0.1' IDENTIFIED BY '$pw';
CREATE USER 'ikigai_bench'@'localhost' IDENTIFIED BY '$pw';
GRANT ALL PRIVILEGES ON ikigai_bench.* TO 'ikigai_bench'@'127.0.0.1';
GRANT ALL PRIVILEGES ON ikigai_bench.* TO 'ikigai_bench'@'localhost';
FLUSH PRIVILEGES;
SQL
  OUR_DB_URL="mysql://ikigai_bench:$pw@127.0.0.1:$port/ikigai_bench"
  log "mysql: ready, pid $OUR_DB_PID, mysql://ikigai_bench:***@127.0.0.1:$port/ikigai_bench"
}

stop_our_mariadb() {
  [ -n "$OUR_DB_PID" ] || return 0
  log "mysql: stopping our MariaDB (pid $OUR_DB_PID)"
  stop_pid "$OUR_DB_PID" 60
  forget_pid "$OUR_DB_PID"
  cp "$TMP/ours-mdb/error.log" "$OUT/ours-mysql/mariadb-error.log" 2>/dev/null || true
  OUR_DB_PID=""
}

# --- our server ----------------------------------------------------------------------
SRV_PID=""
SRV_BASE=""
SRV_NOTE=""
start_server() {  # sys data_dir db_url out_dir: starts `ikigai serve` on a free port; sets SRV_PID,
                  # SRV_BASE (http://127.0.0.1:PORT); on failure sets SRV_NOTE, calls broken, returns 1
  local sys="$1" data="$2" url="$3" dir="$4" pid port="" i code
  SRV_PID=""; SRV_BASE=""; SRV_NOTE=""
  log "$sys: starting $IKIGAI_BIN serve (log ${dir#"$ROOT"/}/server.log)"
  IKIGAI_RATE_LIMITS=off "$OUR_BIN" serve --listen 127.0.0.1:0 --data-dir "$data" --database-url "$url" \
    >"$dir/server.stdout" 2>"$dir/server.log" </dev/null &
  pid=$!
  STARTED+=("$pid")
  for ((i = 0; i < STARTUP_TIMEOUT * 10; i++)); do
    port="$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$dir/server.stdout" | head -n1)"
    [ -z "$port" ] || break
    alive "$pid" || break
    sleep 0.1
  done
  if [ -z "$port" ]; then
    if alive "$pid"; then
      broken "$sys: no 'listening on 127.0.0.1:PORT' line on stdout within ${STARTUP_TIMEOUT}s (is stdout flushed?)"
      SRV_NOTE="did not start"
    else
      code="$(exit_text "$pid")"
      broken "$sys: server stopped before listening ($code; see ${dir#"$ROOT"/}/server.log)"
      SRV_NOTE="did not start ($code)"
    fi
    tail -n 20 "$dir/server.log" >&2 || true
    stop_pid "$pid"; forget_pid "$pid"; return 1
  fi
  SRV_PID="$pid"
  SRV_BASE="http://127.0.0.1:$port"
  log "$sys: listening on port $port (pid $pid)"
}

stop_server() {  # sys pid out_dir: stops our server; a server that died on its own is "broken"
  local sys="$1" pid="$2" dir="$3" code
  log "$sys: stopping server (pid $pid)"
  if alive "$pid"; then
    stop_pid "$pid"
  else
    code="$(exit_text "$pid")"
    broken "$sys: server died during the run, $code (see ${dir#"$ROOT"/}/server.log)"
  fi
  forget_pid "$pid"
  trim_log "$dir/server.log"
}

run_ours() {  # sqlite|mysql
  local sys="$1" dir="$OUT/ours-$1" data="$TMP/ours-$1" url pid i code base user hash dbpid=""
  local item
  mkdir -p "$dir" "$data"
  R[$sys.ran]=1
  note_load "$sys"
  if [ -z "$OUR_BIN" ]; then
    broken "$sys: $IKIGAI_BIN not found or not executable (build it: cmake --build --preset release --target ikigai)"
    R[$sys.server.note]="no binary"; return 0
  fi
  case "$sys" in
    sqlite) url="sqlite://$data/ikigai.db" ;;
    mysql)
      start_our_mariadb || { R[$sys.server.note]="no MariaDB"; return 0; }
      url="$OUR_DB_URL"; dbpid="$OUR_DB_PID" ;;
  esac

  if ! start_server "$sys" "$data" "$url" "$dir"; then R[$sys.server.note]="$SRV_NOTE"; return 0; fi
  pid="$SRV_PID"
  base="$SRV_BASE"

  # idle memory after start-up and a few requests
  code="$(curl -s -o "$dir/healthz.json" -w '%{http_code}' --max-time 10 "$base/healthz")" || true
  code="${code:-000}"
  for ((i = 0; i < 20; i++)); do curl -s -o /dev/null --max-time 5 "$base/healthz" || true; done
  sleep 1
  R[$sys.idle_rss]="$(status_mb "$pid" VmRSS)"

  if [ "$code" = 200 ]; then
    log "$sys: wrk GET /healthz -t$HEALTHZ_THREADS -c$HEALTHZ_CONNS -d$DURATION"
    SCENARIO=healthz wrk -t"$HEALTHZ_THREADS" -c"$HEALTHZ_CONNS" -d"$DURATION" --timeout 10s --latency \
      -s "$ROOT/bench/healthz.lua" "$base/healthz" >"$dir/healthz.txt" 2>&1 || warn "$sys: wrk failed"
    load_result "$sys" healthz "$dir/healthz.txt"
    R[$sys.hwm_healthz]="$(status_mb "$pid" VmHWM)"
    sleep 1
  else
    warn "$sys: GET /healthz -> HTTP $code"
    R[$sys.healthz.note]="failed (HTTP $code)"
  fi

  # the account API: probe, then the seed's scenarios
  user="hp$(rand_hex 4)"
  code="$(register_user "$base" "$API_PREFIX/auth/register" "$user")"
  cp "$TMP/last-register.json" "$dir/probe-register.json" 2>/dev/null || true
  if [ "$code" = 404 ]; then
    log "$sys: POST $API_PREFIX/auth/register -> 404: account scenarios not implemented yet"
    for item in register login authed storm-login storm-read hash; do R[$sys.$item.note]="not implemented yet"; done
  elif [[ "$code" == 2?? ]] && [ -z "$SEED_DIR" ]; then
    for item in register login authed storm-login storm-read; do R[$sys.$item.note]="n/a (no seed bench.sh)"; done
  elif [[ "$code" == 2?? ]]; then
    if hash="$(login_time_ms "$base$API_PREFIX" /auth/login "$user@example.com" "$BENCH_PASSWORD")"; then
      R[$sys.hash_ms]="$hash"
      log "$sys: sequential login median ${hash} ms"
    else
      R[$sys.hash.note]="failed"
    fi
    forgot_timing "$sys" "$base$API_PREFIX" "$user@example.com" "$data" "$dir" || true
    run_seed_bench "$sys" "$base$API_PREFIX" "$dir/api" "$pid" "$dbpid" \
      REGISTER_PATH=/auth/register LOGIN_PATH=/auth/login AUTH_PATH=/me
  elif ! alive "$pid"; then
    for item in register login authed storm-login storm-read hash; do R[$sys.$item.note]="server crashed"; done
  else
    warn "$sys: POST $API_PREFIX/auth/register -> HTTP $code: $(head -c 300 "$dir/probe-register.json" 2>/dev/null)"
    for item in register login authed storm-login storm-read hash; do R[$sys.$item.note]="failed (probe: HTTP $code)"; done
  fi

  R[$sys.hwm]="$(status_mb "$pid" VmHWM)"
  [ -z "$dbpid" ] || R[$sys.db_hwm]="$(status_mb "$dbpid" VmHWM)"
  stop_server "$sys" "$pid" "$dir"
}

# --- tasks scenarios ---------------------------------------------------------------------
size_label() {  # 10000 -> 10k, 1000000 -> 1M
  awk -v n="$1" 'BEGIN { if (n >= 1000000 && n % 1000000 == 0) printf "%dM", n / 1000000
    else if (n >= 1000 && n % 1000 == 0) printf "%dk", n / 1000; else printf "%d", n }'
}
task_sizes() {  # BENCH_TASK_SIZES, numbers only, ascending, unique
  local n
  for n in $BENCH_TASK_SIZES; do if [[ "$n" =~ ^[0-9]+$ ]]; then echo "$n"; fi; done | sort -n -u
}

mdb_root() {  # SQL as root over our MariaDB's socket
  "$(command -v mariadb || command -v mysql)" --no-defaults -uroot --socket="$OUR_DB_SOCK" "$@"
}

mariadb_settle() {  # let InnoDB write back the pages a bulk load dirtied (at most 60 s), so the
                    # scenarios do not run beside that write-back; the settings are restored after
  local old i dirty=""
  old="$(mdb_root -N -e 'SELECT CONCAT_WS(" ", @@GLOBAL.innodb_max_dirty_pages_pct,
    @@GLOBAL.innodb_io_capacity, @@GLOBAL.innodb_io_capacity_max)' 2>/dev/null)" || return 0
  set -- $old
  [ $# = 3 ] || return 0
  mdb_root -e 'SET GLOBAL innodb_io_capacity_max = 20000; SET GLOBAL innodb_io_capacity = 10000;
    SET GLOBAL innodb_max_dirty_pages_pct = 0' 2>/dev/null || return 0
  for ((i = 0; i < 120; i++)); do
    dirty="$(mdb_root -N -e "SELECT variable_value FROM information_schema.global_status
      WHERE variable_name = 'INNODB_BUFFER_POOL_PAGES_DIRTY'" 2>/dev/null || echo 0)"
    [ "${dirty:-0}" -ge 100 ] || break
    sleep 0.5
  done
  mdb_root -e "SET GLOBAL innodb_max_dirty_pages_pct = $1; SET GLOBAL innodb_io_capacity = $2;
    SET GLOBAL innodb_io_capacity_max = $3" 2>/dev/null || true
  log "mysql: InnoDB write-back after the load: $dirty dirty pages left after $((i / 2)) s"
}

json_field() {  # file python-expression-on-j: prints its value, "" on any error
  python3 -c 'import json, sys
try:
    j = json.load(open(sys.argv[1]))
    v = eval(sys.argv[2], {"j": j})
    print("" if v is None else v)
except Exception:
    print("")' "$1" "$2" 2>/dev/null || true
}

fresh_db() {  # sys dir data what: an empty database for one phase (a new SQLite file in data; on
             # MariaDB, ikigai_bench dropped and made again); sets DB_URL and DB_ARGS (the
             # generators' --sqlite/--mysql-url); on failure DB_NOTE and status 1
  DB_NOTE=""; DB_URL=""; DB_ARGS=()
  case "$1" in
    sqlite)
      DB_URL="sqlite://$3/ikigai.db"; DB_ARGS=(--sqlite "$3/ikigai.db") ;;
    mysql)
      if ! start_our_mariadb; then DB_NOTE="no MariaDB"; return 1; fi
      if ! mdb_root -e 'DROP DATABASE IF EXISTS ikigai_bench;
          CREATE DATABASE ikigai_bench CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci;' 2>"$2/reset.log"; then
        broken "$1 $4: could not recreate database ikigai_bench (see ${2#"$ROOT"/}/reset.log)"
        DB_NOTE="failed (fresh database)"; return 1
      fi
      DB_URL="$OUR_DB_URL"; DB_ARGS=(--mysql-url "$OUR_DB_URL") ;;
  esac
}

cheap_users() {  # sys dir data what "name role"...: `ikigai migrate` on DB_URL, then these users
                 # (password BENCH_PASSWORD, hashed with the caller's IKIGAI_ARGON2_* settings);
                 # sets USER_IDS[name] and USER_HASH (the first one's hash, for bench/gen_tasks.py
                 # --password-hash); on failure DB_NOTE and status 1
  local sys="$1" dir="$2" data="$3" what="$4" u out
  shift 4
  USER_IDS=(); USER_HASH=""
  if ! "$OUR_BIN" migrate --data-dir "$data" --database-url "$DB_URL" >"$dir/migrate.log" 2>&1; then
    broken "$sys $what: ikigai migrate failed (see ${dir#"$ROOT"/}/migrate.log)"
    DB_NOTE="failed (migrate)"; return 1
  fi
  for u in "$@"; do
    set -- $u
    out="$(printf '%s\n' "$BENCH_PASSWORD" | "$OUR_BIN" user create --username "$1" --email "$1@example.com" \
      --role "$2" --password-stdin --data-dir "$data" --database-url "$DB_URL" 2>>"$dir/migrate.log")" || true
    USER_IDS[$1]="$(sed -n 's/^created .* id \([0-9a-f-]*\)$/\1/p' <<<"$out")"
    if [ -z "${USER_IDS[$1]}" ]; then
      broken "$sys $what: ikigai user create $1 failed: $out (see ${dir#"$ROOT"/}/migrate.log)"
      DB_NOTE="failed (user create)"; return 1
    fi
    [ -n "$USER_HASH" ] && continue
    case "$sys" in
      sqlite) USER_HASH="$(python3 -c 'import sqlite3, sys
print(sqlite3.connect(sys.argv[1]).execute("SELECT password_hash FROM users WHERE username_lower = ?", (sys.argv[2],)).fetchone()[0])' \
        "$data/ikigai.db" "$1" 2>>"$dir/migrate.log")" || true ;;
      mysql) USER_HASH="$(mdb_root -N -B -e "SELECT password_hash FROM ikigai_bench.users WHERE username_lower = '$1'" \
        2>>"$dir/migrate.log")" || true ;;
    esac
    if [[ "$USER_HASH" != '$argon2id$'* ]]; then
      broken "$sys $what: could not read the password hash of $1 back (see ${dir#"$ROOT"/}/migrate.log)"
      DB_NOTE="failed (password hash)"; return 1
    fi
  done
}

settle_db() {  # sys data: a bulk load's writes reach the disk before the clock starts
  case "$1" in
    sqlite) sync "$2"/ikigai.db* 2>/dev/null || true ;;
    mysql) mariadb_settle ;;
  esac
}

bearer() {  # base_url email out_json: logs in with BENCH_PASSWORD; prints the access token, "" on failure
  local code
  code="$(curl -s -o "$3" -w '%{http_code}' --max-time 30 -H 'Content-Type: application/json' \
    -d "{\"email\":\"$2\",\"password\":\"$BENCH_PASSWORD\"}" "$1$API_PREFIX/auth/login")" || true
  if [ "$code" = 200 ]; then json_field "$3" 'j["access_token"]'; else
    warn "login $2 -> HTTP ${code:-000}: $(head -c 300 "$3" 2>/dev/null)"; fi
}

tasks_fail() {  # sys size note: the note on all of this size's cells
  local item
  for item in tasks-list tasks-create; do R[$1.$item-$2.note]="$3"; done
}

run_tasks() {  # sqlite|mysql: GET /api/v1/tasks?limit=20 and POST /api/v1/tasks per table size
  local sys="$1" size
  have "$sys.ran" && [ -n "$OUR_BIN" ] || return 0
  if have "$sys.server.note"; then  # no binary, no MariaDB, or a server that did not start
    for size in $(task_sizes); do tasks_fail "$sys" "$size" "${R[$sys.server.note]}"; done
    return 0
  fi
  if ! command -v python3 >/dev/null; then
    broken "$sys: python3 not found (bench/gen_tasks.py fills the tasks tables)"; return 0
  fi
  for size in $(task_sizes); do run_tasks_size "$sys" "$size"; done
}

run_tasks_size() {  # sys size
  local sys="$1" size="$2" label dir data url out user owner code tok t0 t1 gen_args=() pid base item check
  label="$(size_label "$size")"
  dir="$OUT/ours-$sys/tasks-$label"
  data="$TMP/tasks-$sys-$label"
  mkdir -p "$dir" "$data"
  note_load "$sys tasks $label"
  t0="$(date +%s.%N)"
  fresh_db "$sys" "$dir" "$data" "tasks $label" || { tasks_fail "$sys" "$size" "$DB_NOTE"; return 0; }
  url="$DB_URL"; gen_args=("${DB_ARGS[@]}")

  # fresh schema, the benchmark user (its password hashed by ikigai itself), then the rows
  log "$sys tasks $label: migrate, user create, bench/gen_tasks.py ($BENCH_TASK_USERS users, $size tasks + $BENCH_TASK_OWNED of the benchmark user)"
  if ! "$OUR_BIN" migrate --data-dir "$data" --database-url "$url" >"$dir/migrate.log" 2>&1; then
    broken "$sys tasks $label: ikigai migrate failed (see ${dir#"$ROOT"/}/migrate.log)"
    tasks_fail "$sys" "$size" "failed (migrate)"; return 0
  fi
  user="bt$(rand_hex 4)"
  out="$(printf '%s\n' "$BENCH_PASSWORD" | "$OUR_BIN" user create --username "$user" \
    --email "$user@example.com" --password-stdin --data-dir "$data" --database-url "$url" 2>>"$dir/migrate.log")" || true
  owner="$(sed -n 's/^created .* id \([0-9a-f-]*\)$/\1/p' <<<"$out")"
  if [ -z "$owner" ]; then
    broken "$sys tasks $label: ikigai user create failed: $out (see ${dir#"$ROOT"/}/migrate.log)"
    tasks_fail "$sys" "$size" "failed (user create)"; return 0
  fi
  if ! python3 "$ROOT/bench/gen_tasks.py" "${gen_args[@]}" --users "$BENCH_TASK_USERS" --tasks "$size" \
      --owner-id "$owner" --owner-tasks "$BENCH_TASK_OWNED" >"$dir/gen.txt" 2>"$dir/gen.log"; then
    tail -n 5 "$dir/gen.log" >&2 || true
    broken "$sys tasks $label: bench/gen_tasks.py failed (see ${dir#"$ROOT"/}/gen.log)"
    tasks_fail "$sys" "$size" "failed (generator)"; return 0
  fi
  t1="$(date +%s.%N)"
  R[$sys.gen-$size.seconds]="$(sed -n 's/.* seconds=\([0-9.]*\).*/\1/p' "$dir/gen.txt")"
  R[$sys.gen-$size.tasks]="$(sed -n 's/.* tasks=\([0-9]*\).*/\1/p' "$dir/gen.txt")"
  R[$sys.gen-$size.tags]="$(sed -n 's/.* tags=\([0-9]*\).*/\1/p' "$dir/gen.txt")"
  R[$sys.gen-$size.setup]="$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')"
  log "$sys tasks $label: $(cat "$dir/gen.txt") (migrate + user + generator: ${R[$sys.gen-$size.setup]} s)"
  settle_db "$sys" "$data"  # the load's writes reach the disk before the clock starts

  start_server "$sys" "$data" "$url" "$dir" || { tasks_fail "$sys" "$size" "$SRV_NOTE"; return 0; }
  pid="$SRV_PID"
  base="$SRV_BASE"
  code="$(curl -s -o "$dir/login.json" -w '%{http_code}' --max-time 30 -H 'Content-Type: application/json' \
    -d "{\"email\":\"$user@example.com\",\"password\":\"$BENCH_PASSWORD\"}" \
    "$base$API_PREFIX/auth/login")" || true
  tok="$(json_field "$dir/login.json" 'j["access_token"]')"
  if [ "$code" != 200 ] || [ -z "$tok" ]; then
    warn "$sys tasks $label: login -> HTTP ${code:-000}: $(head -c 300 "$dir/login.json" 2>/dev/null)"
    tasks_fail "$sys" "$size" "failed (login: HTTP ${code:-000})"
  else
    # one answer of each kind checked by hand: wrk itself only counts statuses
    code="$(curl -s -o "$dir/list.json" -w '%{http_code}' --max-time 10 -H "Authorization: Bearer $tok" \
      "$base$API_PREFIX/tasks?limit=20")" || true
    check="$(json_field "$dir/list.json" 'str(len(j["items"])) + ("+" if j["next_cursor"] else "")')"
    if [ "$code" = 404 ]; then
      tasks_fail "$sys" "$size" "not implemented yet"
    else
      [ "$code" = 200 ] && [ "$check" = "20+" ] \
        || R[$sys.tasks-list-$size.check]="GET answered HTTP ${code:-000} with ${check:-?} items (want 200, 20 and a next_cursor)"
      code="$(curl -s -o "$dir/create.json" -w '%{http_code}' --max-time 10 -H "Authorization: Bearer $tok" \
        -H 'Content-Type: application/json' -d "$TASKS_BODY" "$base$API_PREFIX/tasks")" || true
      [ "$code" = 201 ] || R[$sys.tasks-create-$size.check]="POST answered HTTP ${code:-000} (want 201)"
      for item in tasks-list tasks-create; do
        [ -z "${R[$sys.$item-$size.check]:-}" ] || warn "$sys tasks $label: ${R[$sys.$item-$size.check]}"
      done

      log "$sys tasks $label: wrk GET $API_PREFIX/tasks?limit=20 -t$TASKS_THREADS -c$CONNS (warm-up $TASKS_WARMUP, then $DURATION)"
      if [ "$TASKS_WARMUP" != 0 ]; then
        BENCH_TOKEN="$tok" SCENARIO=warmup wrk -t"$TASKS_THREADS" -c"$CONNS" -d"$TASKS_WARMUP" --timeout 10s \
          -s "$ROOT/bench/tasks.lua" "$base$API_PREFIX/tasks?limit=20" >"$dir/list-warmup.txt" 2>&1 || true
      fi
      BENCH_TOKEN="$tok" SCENARIO="tasks-list-$label" wrk -t"$TASKS_THREADS" -c"$CONNS" -d"$DURATION" --timeout 10s \
        --latency -s "$ROOT/bench/tasks.lua" "$base$API_PREFIX/tasks?limit=20" >"$dir/list.txt" 2>&1 \
        || warn "$sys tasks $label: wrk failed"
      load_result "$sys" "tasks-list-$size" "$dir/list.txt"
      sleep 1
      log "$sys tasks $label: wrk POST $API_PREFIX/tasks -t$TASKS_THREADS -c$CONNS -d$DURATION"
      BENCH_TOKEN="$tok" TASKS_BODY="$TASKS_BODY" SCENARIO="tasks-create-$label" wrk -t"$TASKS_THREADS" -c"$CONNS" \
        -d"$DURATION" --timeout 10s --latency -s "$ROOT/bench/tasks.lua" "$base$API_PREFIX/tasks" >"$dir/create.txt" 2>&1 \
        || warn "$sys tasks $label: wrk failed"
      load_result "$sys" "tasks-create-$size" "$dir/create.txt"
    fi
  fi
  R[$sys.tasks-$size.hwm]="$(status_mb "$pid" VmHWM)"
  stop_server "$sys" "$pid" "$dir"
  [ "$BENCH_KEEP_TMP" = 1 ] || rm -rf -- "$data"
}

trim_log() {  # the server logs every request (~100+ MB per run): keep all other lines, the
              # access lines of 4xx/5xx answers (up to 2000) and a count of answers by status
  local f="$1"
  [ "$BENCH_KEEP_LOGS" != 1 ] && [ -f "$f" ] || return 0
  [ "$(stat -c %s "$f")" -gt 5000000 ] || return 0
  awk '
    $2 != "access" { print; next }
    { n++; st[$5]++ }
    $5 !~ /^[23]/ && kept < 2000 { print; kept++ }
    END {
      printf "[bench.sh: %d access-log lines cut (BENCH_KEEP_LOGS=1 keeps them); answers by status:", n
      for (k in st) printf " %s=%d", k, st[k]
      print "]"
    }' "$f" >"$f.trimmed" && mv "$f.trimmed" "$f"
}

# --- body flood (issue 11, item 1) --------------------------------------------------------
secs() {  # "10s" / "1m" / "10" -> seconds
  case "$1" in *m) echo $(( ${1%m} * 60 )) ;; *s) echo "${1%s}" ;; *) echo "$1" ;; esac
}

run_flood() {  # sqlite|mysql: authed reads alone and during a flood of large bodies, and RSS
  local sys="$1" dir="$OUT/ours-$1/flood" data="$TMP/flood-$1" url pid base user code tok fsecs fpid line kv
  have "$sys.ran" || R[$sys.ran]=1
  [ -n "$OUR_BIN" ] || { R[$sys.flood.note]="no binary"; return 0; }
  mkdir -p "$dir" "$data"
  note_load "$sys flood"
  fresh_db "$sys" "$dir" "$data" flood || { R[$sys.flood.note]="$DB_NOTE"; return 0; }
  url="$DB_URL"
  start_server "$sys" "$data" "$url" "$dir" || { R[$sys.flood.note]="$SRV_NOTE"; return 0; }
  pid="$SRV_PID"
  base="$SRV_BASE"
  user="fl$(rand_hex 4)"
  code="$(register_user "$base" "$API_PREFIX/auth/register" "$user")"
  code="$(curl -s -o "$dir/login.json" -w '%{http_code}' --max-time 30 -H 'Content-Type: application/json' \
    -d "{\"email\":\"$user@example.com\",\"password\":\"$BENCH_PASSWORD\"}" "$base$API_PREFIX/auth/login")" || true
  tok="$(json_field "$dir/login.json" 'j["access_token"]')"
  if [ "$code" != 200 ] || [ -z "$tok" ]; then
    warn "$sys flood: login -> HTTP ${code:-000}: $(head -c 300 "$dir/login.json" 2>/dev/null)"
    R[$sys.flood.note]="failed (login: HTTP ${code:-000})"
    stop_server "$sys" "$pid" "$dir"; return 0
  fi
  # warm-up, then the idle figure and the authed read rate alone
  wrk_warmup "$base$API_PREFIX/me" "$tok" "$dir/warmup.txt"
  sleep 1
  R[$sys.flood.idle_rss]="$(status_mb "$pid" VmRSS)"
  log "$sys flood: wrk GET $API_PREFIX/me alone -t2 -c$CONNS -d$FLOOD_DURATION"
  wrk_get "$sys" flood-alone "$base$API_PREFIX/me" "$tok" "$dir/alone.txt" "$FLOOD_DURATION"
  sleep 1
  R[$sys.flood.before_rss]="$(status_mb "$pid" VmRSS)"
  fsecs="$(secs "$FLOOD_DURATION")"
  log "$sys flood: bench/body_flood.py $FLOOD_CONNS conns x $FLOOD_BYTES bytes to $API_PREFIX/auth/register, with wrk GET $API_PREFIX/me"
  python3 "$ROOT/bench/body_flood.py" --port "${base##*:}" --path "$API_PREFIX/auth/register" \
    --conns "$FLOOD_CONNS" --bytes "$FLOOD_BYTES" --duration "$((fsecs + 2))" --pause "$FLOOD_PAUSE" \
    --pid "$pid" --settle 2 >"$dir/flood.txt" 2>"$dir/flood.log" &
  fpid=$!
  STARTED+=("$fpid")
  sleep 1
  wrk_get "$sys" flood-during "$base$API_PREFIX/me" "$tok" "$dir/during.txt" "$FLOOD_DURATION"
  wait "$fpid" 2>/dev/null || warn "$sys flood: body_flood.py failed (see ${dir#"$ROOT"/}/flood.log)"
  forget_pid "$fpid"
  line="$(grep -m1 '^FLOOD ' "$dir/flood.txt" 2>/dev/null || true)"
  if [ -z "$line" ]; then
    R[$sys.flood.note]="failed (no FLOOD line, see ${dir#"$ROOT"/}/flood.log)"
  else
    for kv in $line; do case "$kv" in *=*) R[$sys.flood.${kv%%=*}]="${kv#*=}" ;; esac; done
    log "$sys flood: $line"
  fi
  if ! alive "$pid"; then R[$sys.flood.note]="server crashed during the flood"; fi
  R[$sys.flood.hwm]="$(status_mb "$pid" VmHWM)"
  stop_server "$sys" "$pid" "$dir"
  [ "$BENCH_KEEP_TMP" = 1 ] || rm -rf -- "$data"
}

# --- the cluster comparison (issue 15) --------------------------------------------------
cluster_scenarios() {  # sys(single|cluster) base_url dir: authed read, login and task create with wrk
  local sys="$1" base="$2" dir="$3" user code tok login_body
  user="cl$(rand_hex 4)"
  code="$(register_user "$base" "$API_PREFIX/auth/register" "$user")"
  login_body="{\"email\":\"$user@example.com\",\"password\":\"$BENCH_PASSWORD\"}"
  code="$(curl -s -o "$dir/login.json" -w '%{http_code}' --max-time 30 -H 'Content-Type: application/json' \
    -d "$login_body" "$base$API_PREFIX/auth/login")" || true
  tok="$(json_field "$dir/login.json" 'j["access_token"]')"
  if [ "$code" != 200 ] || [ -z "$tok" ]; then
    warn "$sys: login -> HTTP ${code:-000}: $(head -c 300 "$dir/login.json" 2>/dev/null)"
    R[$sys.server.note]="failed (login: HTTP ${code:-000})"; return 0
  fi
  wrk_warmup "$base$API_PREFIX/me" "$tok" "$dir/warmup.txt"
  log "$sys: wrk GET $API_PREFIX/me -t2 -c$CONNS -d$CLUSTER_DURATION"
  wrk_get "$sys" cl-read "$base$API_PREFIX/me" "$tok" "$dir/read.txt" "$CLUSTER_DURATION"
  log "$sys: wrk POST $API_PREFIX/auth/login -t2 -c$CONNS -d$CLUSTER_DURATION"
  BENCH_TOKEN="" TASKS_BODY="$login_body" SCENARIO=cl-login wrk -t2 -c"$CONNS" -d"$CLUSTER_DURATION" --timeout 10s \
    --latency -s "$ROOT/bench/tasks.lua" "$base$API_PREFIX/auth/login" >"$dir/login.txt" 2>&1 || warn "$sys: wrk failed"
  load_result "$sys" cl-login "$dir/login.txt"
  sleep 1
  log "$sys: wrk POST $API_PREFIX/tasks -t2 -c$CONNS -d$CLUSTER_DURATION"
  BENCH_TOKEN="$tok" TASKS_BODY="$TASKS_BODY" SCENARIO=cl-create wrk -t2 -c"$CONNS" -d"$CLUSTER_DURATION" --timeout 10s \
    --latency -s "$ROOT/bench/tasks.lua" "$base$API_PREFIX/tasks" >"$dir/create.txt" 2>&1 || warn "$sys: wrk failed"
  load_result "$sys" cl-create "$dir/create.txt"
}

run_cluster() {  # one instance on one MariaDB, then two instances on three Galera nodes behind HAProxy
  local dir="$OUT/cluster" data="$TMP/cluster-single" pid out
  mkdir -p "$dir/single" "$dir/cluster" "$data"
  R[single.ran]=1; R[cluster.ran]=1
  [ -n "$OUR_BIN" ] || { R[single.server.note]="no binary"; R[cluster.server.note]="no binary"; return 0; }
  note_load "cluster: single"
  if ! start_our_mariadb; then
    R[single.server.note]="no MariaDB"
  elif ! mdb_root -e 'DROP DATABASE IF EXISTS ikigai_bench;
      CREATE DATABASE ikigai_bench CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci;' 2>"$dir/reset.log"; then
    broken "cluster: could not recreate database ikigai_bench (see ${dir#"$ROOT"/}/reset.log)"
    R[single.server.note]="failed (fresh database)"
  elif start_server single "$data" "$OUR_DB_URL" "$dir/single"; then
    pid="$SRV_PID"
    cluster_scenarios single "$SRV_BASE" "$dir/single"
    stop_server single "$pid" "$dir/single"
  else
    R[single.server.note]="$SRV_NOTE"
  fi
  stop_our_mariadb
  note_load "cluster"
  # Not under $TMP: the Galera nodes run as the mysql user, which cannot enter a private folder.
  CLUSTER_RUN_DIR="$(mktemp -d /tmp/ikigai-bench-cluster.XXXXXX)"
  log "cluster: scripts/cluster.sh start (3 Galera nodes, 2 instances, HAProxy; folder $CLUSTER_RUN_DIR)"
  if ! out="$(CLUSTER_DIR="$CLUSTER_RUN_DIR" IKIGAI_BIN="$OUR_BIN" IKIGAI_RATE_LIMITS=off \
      bash "$ROOT/scripts/cluster.sh" start 2>"$dir/cluster/start.log")"; then
    broken "cluster: scripts/cluster.sh start failed (see ${dir#"$ROOT"/}/cluster/start.log)"
    R[cluster.server.note]="did not start"
  else
    echo "$out" >"$dir/cluster/start.txt"
    R[cluster.startup]="$(sed -n 's/^Galera cluster synced in \([0-9]*\)s.*/\1/p' <<<"$out")"
    cluster_scenarios cluster "$(sed -n 's/^URL //p' <<<"$out")" "$dir/cluster"
    R[cluster.retries]="$(for p in $(grep -E '^INSTANCE[12]_PORT=' "$CLUSTER_RUN_DIR/state" | cut -d= -f2); do
      metric_value "http://127.0.0.1:$p" ikigai_db_retries_total; done | awk '{ s += $1 } END { print s + 0 }')"
    cp "$CLUSTER_RUN_DIR"/instance*.log "$dir/cluster/" 2>/dev/null || true
  fi
  CLUSTER_DIR="$CLUSTER_RUN_DIR" bash "$ROOT/scripts/cluster.sh" stop >/dev/null 2>&1 || true
  CLUSTER_RUN_DIR=""
}

cluster_cell() {  # item: "1 instance: A · cluster: B"
  echo "1 instance, 1 MariaDB: $(scn_cell single "$1") · 2 instances, 3 Galera nodes, HAProxy: $(scn_cell cluster "$1")"
}
cluster_ratio() {  # item: cluster req/s ÷ single req/s
  if have "single.$1.rps" && have "cluster.$1.rps"; then ratio "${R[cluster.$1.rps]}" "${R[single.$1.rps]}"; else echo "—"; fi
}

flood_rss_cell() {  # sys: "idle A MB, peak B MB (+C MB); D MB held after"
  local s="$1" b p
  if ! have "$s.ran"; then echo "not run"; return; fi
  if have "$s.flood.note"; then echo "${R[$s.flood.note]}"; return; fi
  b="${R[$s.flood.before_rss]:-}"; p="${R[$s.flood.peak_rss_mb]:-}"
  if [ -z "$b" ] || [ -z "$p" ] || [ "$p" = na ]; then echo "—"; return; fi
  printf 'idle %s MB, peak %s MB (+%s MB); %s MB 2 s after (%s rounds: %s bodies sent whole, %s answered 413, %s unanswered at the end)\n' \
    "$b" "$p" "$(awk -v a="$p" -v b="$b" 'BEGIN { printf "%.1f", a - b }')" "${R[$s.flood.rss_after_mb]:-?}" \
    "${R[$s.flood.rounds]:-?}" "${R[$s.flood.bodies_sent]:-?}" "${R[$s.flood.status_413]:-?}" "${R[$s.flood.unanswered]:-?}"
}
flood_reads_cell() {  # sys: "A req/s alone → B req/s during (P%)"
  local s="$1" a d
  if ! have "$s.ran"; then echo "not run"; return; fi
  a="${R[$s.flood-alone.rps]:-}"; d="${R[$s.flood-during.rps]:-}"
  if [ -z "$a" ] || [ -z "$d" ]; then echo "${R[$s.flood.note]:-—}"; return; fi
  printf '%s req/s alone → %s req/s during (%s%%; p99 %s → %s ms)\n' "$(fmt_rps "$a")" "$(fmt_rps "$d")" \
    "$(awk -v a="$a" -v d="$d" 'BEGIN { printf "%.0f", (a > 0 ? 100 * d / a : 0) }')" \
    "$(fmt_ms "${R[$s.flood-alone.p99_ms]:-0}")" "$(fmt_ms "${R[$s.flood-during.p99_ms]:-0}")"
}
t_flood_rss() {
  local b="${R[$1.flood.before_rss]:-}" p="${R[$1.flood.peak_rss_mb]:-}"
  if [ -z "$b" ] || [ -z "$p" ] || [ "$p" = na ]; then echo "n/a"; return; fi
  mark '<' "$(awk -v a="$p" -v b="$b" 'BEGIN { print a - b }')" 16 \
    "+$(awk -v a="$p" -v b="$b" 'BEGIN { printf "%.1f", a - b }') MB"
}
t_flood_reads() {
  local a="${R[$1.flood-alone.rps]:-}" d="${R[$1.flood-during.rps]:-}"
  if [ -z "$a" ] || [ -z "$d" ]; then echo "n/a"; return; fi
  mark '>=' "$(awk -v a="$a" -v d="$d" 'BEGIN { print (a > 0 ? d / a : 0) }')" 0.8 \
    "$(awk -v a="$a" -v d="$d" 'BEGIN { printf "%.0f%%", (a > 0 ? 100 * d / a : 0) }')"
}

# --- notifications (issue 12) ---------------------------------------------------------------
# One database per back end: an admin, NOTIFY_USERS users and NOTIFY_TASKS tasks made before the
# server starts (bench/gen_tasks.py; every user's password is BENCH_PASSWORD under a cheap Argon2
# hash, so a thousand logins take a second), then one server A (jobs every second) for:
#   (4) the reminder pass over the tasks with nothing due, from /metrics;
#   (1) authed GET /me alone, then NOTIFY_STREAMS streams opened and held (bench/notify_bench.py
#       streams), RSS with them open, and GET /me again while they stay open;
#   (2) a second server B on the same database: NOTIFY_LATENCY_N announcements through A to one
#       user, each timed from A's 202 to its event on that user's stream on B;
#   (3) one announcement to every user through A: its 202, then until every inbox row exists.
notify_keys="notify-reminders notify-streams notify-alone notify-during notify-latency notify-broadcast"
notify_fail() { phase_fail "$1" "$notify_keys" "$2"; }  # sys note

metric_value() {  # base_url name [factor]: the value of an unlabelled series in /metrics (× factor), "" if none
  # awk reads to the end (an early exit would fail curl's write, and the pipeline with it)
  { curl -s --max-time 10 "$1/metrics" 2>/dev/null || true; } \
    | awk -v n="$2" -v f="${3:-1}" '$1 == n && !done { v = $2 * f; printf (f == 1 ? "%s" : "%.2f"), (f == 1 ? $2 : v); done = 1 }'
}

run_notify() {  # sqlite|mysql
  local sys="$1" dir="$OUT/ours-$1/notify" data="$TMP/notify-$1" url out hash width pw="$BENCH_PASSWORD"
  local apid a bpid b code tok spid i stream_users wrk_user latency_user gen_args=() count_args=()
  have "$sys.ran" || R[$sys.ran]=1
  [ -n "$OUR_BIN" ] || { notify_fail "$sys" "no binary"; return 0; }
  if ! command -v python3 >/dev/null; then
    broken "$sys notify: python3 not found (bench/notify_bench.py)"; notify_fail "$sys" "no python3"; return 0
  fi
  stream_users=$(( (NOTIFY_STREAMS + NOTIFY_STREAMS_PER_USER - 1) / NOTIFY_STREAMS_PER_USER ))
  if [ "$NOTIFY_USERS" -lt $((stream_users + 2)) ]; then
    broken "$sys notify: NOTIFY_USERS=$NOTIFY_USERS must be at least $((stream_users + 2)) (stream users + 2)"
    notify_fail "$sys" "bad NOTIFY_USERS"; return 0
  fi
  width=$(( ${#NOTIFY_USERS} > 5 ? ${#NOTIFY_USERS} : 5 ))  # gen_tasks.py's username digits
  wrk_user="$(printf "gen%0${width}d" $((stream_users + 1)))"
  latency_user="$(printf "gen%0${width}d" "$NOTIFY_USERS")"
  mkdir -p "$dir/b" "$data"
  note_load "$sys notify"
  fresh_db "$sys" "$dir" "$data" notify || { notify_fail "$sys" "$DB_NOTE"; return 0; }
  url="$DB_URL"; gen_args=("${DB_ARGS[@]}"); count_args=("${DB_ARGS[@]}")
  # Every command and server of this phase: cheap Argon2 (the generated users' hash is made with
  # these settings, and a server with other settings would rehash each one at its first login),
  # and periodic jobs every second (the reminder pass is read from their metrics).
  local -x IKIGAI_ARGON2_MEMORY_KIB="$NOTIFY_ARGON2_KIB" IKIGAI_ARGON2_OPS=1 IKIGAI_JOBS_INTERVAL=1s

  log "$sys notify: migrate, an admin, bench/gen_tasks.py ($NOTIFY_USERS users, $NOTIFY_TASKS tasks)"
  cheap_users "$sys" "$dir" "$data" notify "nbhash user" "nbadmin admin" || { notify_fail "$sys" "$DB_NOTE"; return 0; }
  hash="$USER_HASH"
  if ! python3 "$ROOT/bench/gen_tasks.py" "${gen_args[@]}" --users "$NOTIFY_USERS" --tasks "$NOTIFY_TASKS" \
      --password-hash "$hash" --users-recent --remind-lead-minutes 60 >"$dir/gen.txt" 2>"$dir/gen.log"; then
    tail -n 5 "$dir/gen.log" >&2 || true
    broken "$sys notify: bench/gen_tasks.py failed (see ${dir#"$ROOT"/}/gen.log)"
    notify_fail "$sys" "failed (generator)"; return 0
  fi
  log "$sys notify: $(cat "$dir/gen.txt")"
  settle_db "$sys" "$data"

  start_server "$sys" "$data" "$url" "$dir" || { notify_fail "$sys" "$SRV_NOTE"; return 0; }
  apid="$SRV_PID"; a="$SRV_BASE"

  # (4) the reminder pass: a few runs of the job loop, the first two left out
  log "$sys notify: reminder pass over $(size_label "$NOTIFY_TASKS") tasks, $NOTIFY_REMINDER_RUNS runs of the job"
  python3 "$ROOT/bench/notify_bench.py" reminders --base "$a" --samples "$NOTIFY_REMINDER_RUNS" \
    >"$dir/reminders.txt" 2>"$dir/reminders.log" || true
  bench_line "$sys" notify-reminders "$dir/reminders.txt" REMINDERS \
    || R[$sys.notify-reminders.note]="$(script_why "$dir/reminders.log")"

  # (1) authed reads without streams, then with NOTIFY_STREAMS open
  code="$(curl -s -o "$dir/login.json" -w '%{http_code}' --max-time 30 -H 'Content-Type: application/json' \
    -d "{\"email\":\"$wrk_user@example.com\",\"password\":\"$pw\"}" "$a$API_PREFIX/auth/login")" || true
  tok="$(json_field "$dir/login.json" 'j["access_token"]')"
  if [ "$code" != 200 ] || [ -z "$tok" ]; then
    warn "$sys notify: login -> HTTP ${code:-000}: $(head -c 300 "$dir/login.json" 2>/dev/null)"
    R[$sys.notify-alone.note]="failed (login: HTTP ${code:-000})"; R[$sys.notify-streams.note]="${R[$sys.notify-alone.note]}"
  else
    wrk_warmup "$a$API_PREFIX/me" "$tok" "$dir/warmup.txt"
    sleep 1
    log "$sys notify: wrk GET $API_PREFIX/me without streams -t2 -c$CONNS -d$NOTIFY_DURATION"
    wrk_get "$sys" notify-alone "$a$API_PREFIX/me" "$tok" "$dir/alone.txt" "$NOTIFY_DURATION"
    sleep 1
    R[$sys.notify-streams.rss_before]="$(status_mb "$apid" VmRSS)"
    log "$sys notify: opening $((stream_users * NOTIFY_STREAMS_PER_USER)) streams ($stream_users users x $NOTIFY_STREAMS_PER_USER)"
    python3 "$ROOT/bench/notify_bench.py" streams --base "$a" --width "$width" --users "$stream_users" \
      --per-user "$NOTIFY_STREAMS_PER_USER" --password "$pw" >"$dir/streams.txt" 2>"$dir/streams.log" &
    spid=$!
    STARTED+=("$spid")
    wait_line "$dir/streams.txt" READY "$spid" 1200 || true
    if bench_line "$sys" notify-streams "$dir/streams.txt" READY; then
      sleep 2  # the streams' first bytes are out; let the allocator settle
      R[$sys.notify-streams.rss_open]="$(status_mb "$apid" VmRSS)"
      R[$sys.notify-streams.gauge]="$(metric_value "$a" ikigai_notification_streams_open)"
      R[$sys.notify-streams.poll_ms]="$(metric_value "$a" ikigai_notification_poll_duration_seconds 1000)"
      log "$sys notify: wrk GET $API_PREFIX/me with the streams open -t2 -c$CONNS -d$NOTIFY_DURATION"
      wrk_get "$sys" notify-during "$a$API_PREFIX/me" "$tok" "$dir/during.txt" "$NOTIFY_DURATION"
      R[$sys.notify-streams.rss_after]="$(status_mb "$apid" VmRSS)"
      R[$sys.notify-streams.poll_ms_after]="$(metric_value "$a" ikigai_notification_poll_duration_seconds 1000)"
    else
      R[$sys.notify-streams.note]="$(script_why "$dir/streams.log")"
    fi
    stop_pid "$spid" 20
    wait "$spid" 2>/dev/null || true
    forget_pid "$spid"
    bench_line "$sys" notify-streams "$dir/streams.txt" STREAMS || true
  fi

  # (2) delivery latency to a stream on a second instance on the same database
  if start_server "$sys" "$data" "$url" "$dir/b"; then
    bpid="$SRV_PID"; b="$SRV_BASE"
    log "$sys notify: $NOTIFY_LATENCY_N announcements through A ($a) to a stream on B ($b), ${NOTIFY_LATENCY_GAP}s apart"
    python3 "$ROOT/bench/notify_bench.py" latency --a "$a" --b "$b" --admin-email nbadmin@example.com \
      --user-email "$latency_user@example.com" --password "$pw" --count "$NOTIFY_LATENCY_N" \
      --gap "$NOTIFY_LATENCY_GAP" >"$dir/latency.txt" 2>"$dir/latency.log" || true
    bench_line "$sys" notify-latency "$dir/latency.txt" LATENCY \
      || R[$sys.notify-latency.note]="$(script_why "$dir/latency.log")"
    stop_server "$sys" "$bpid" "$dir/b"
  else
    R[$sys.notify-latency.note]="second server: $SRV_NOTE"
  fi

  # (3) an announcement to every user
  log "$sys notify: announcement to every user ($NOTIFY_USERS + 2)"
  python3 "$ROOT/bench/notify_bench.py" broadcast --base "$a" --admin-email nbadmin@example.com --password "$pw" \
    "${count_args[@]}" >"$dir/broadcast.txt" 2>"$dir/broadcast.log" || true
  bench_line "$sys" notify-broadcast "$dir/broadcast.txt" BROADCAST \
    || R[$sys.notify-broadcast.note]="$(script_why "$dir/broadcast.log")"

  alive "$apid" || notify_fail "$sys" "server crashed"
  R[$sys.notify.hwm]="$(status_mb "$apid" VmHWM)"
  stop_server "$sys" "$apid" "$dir"
  [ "$BENCH_KEEP_TMP" = 1 ] || rm -rf -- "$data"
}

notify_streams_cell() {  # sys: RSS before → with the streams open
  local s="$1" k="$1.notify-streams"
  if ! have "$s.ran"; then echo "not run"; return; fi
  if ! have "$k.rss_open"; then echo "${R[$k.note]:-—}"; return; fi
  printf '%s MB (%s MB before them, +%s MB; %s opened, %s failed, %s still open after the reads; gauge %s; last poll %s ms, %s ms after the reads)\n' \
    "${R[$k.rss_open]}" "${R[$k.rss_before]:-?}" \
    "$(awk -v a="${R[$k.rss_open]}" -v b="${R[$k.rss_before]:-0}" 'BEGIN { printf "%.1f", a - b }')" \
    "$(fmt_num "${R[$k.opened]:-0}")" "${R[$k.failed]:-?}" "$(fmt_num "${R[$k.still_open]:-0}")" "${R[$k.gauge]:-?}" \
    "${R[$k.poll_ms]:-?}" "${R[$k.poll_ms_after]:-?}"
}
notify_reads_cell() {  # sys: GET /me without → with the streams
  local s="$1" a d
  if ! have "$s.ran"; then echo "not run"; return; fi
  a="${R[$s.notify-alone.rps]:-}"; d="${R[$s.notify-during.rps]:-}"
  if [ -z "$a" ] || [ -z "$d" ]; then echo "${R[$s.notify-streams.note]:-${R[$s.notify-alone.note]:-—}}"; return; fi
  printf '%s req/s → %s req/s (%s%%; p99 %s → %s ms)\n' "$(fmt_rps "$a")" "$(fmt_rps "$d")" \
    "$(awk -v a="$a" -v d="$d" 'BEGIN { printf "%.0f", (a > 0 ? 100 * d / a : 0) }')" \
    "$(fmt_ms "${R[$s.notify-alone.p99_ms]:-0}")" "$(fmt_ms "${R[$s.notify-during.p99_ms]:-0}")"
}
notify_latency_cell() {
  local s="$1" k="$1.notify-latency"
  if ! have "$s.ran"; then echo "not run"; return; fi
  if ! have "$k.p99_ms"; then echo "${R[$k.note]:-—}"; return; fi
  printf 'p50 %s ms, p99 %s ms, max %s ms (%s/%s received; POST p50 %s ms)\n' "$(fmt_ms "${R[$k.p50_ms]}")" \
    "$(fmt_ms "${R[$k.p99_ms]}")" "$(fmt_ms "${R[$k.max_ms]}")" "${R[$k.received]:-?}" "${R[$k.sent]:-?}" \
    "$(fmt_ms "${R[$k.post_p50_ms]:-0}")"
}
notify_broadcast_cell() {
  local s="$1" k="$1.notify-broadcast" done
  if ! have "$s.ran"; then echo "not run"; return; fi
  if ! have "$k.accept_ms"; then echo "${R[$k.note]:-—}"; return; fi
  if [ "${R[$k.complete_ms]}" = timeout ]; then done="not all after 120 s (${R[$k.rows]:-?} rows)"
  else done="$(awk -v x="${R[$k.complete_ms]}" 'BEGIN { printf "%.2f", x / 1000 }') s"; fi
  printf '202 in %s ms; every inbox row (%s) in %s\n' "$(fmt_ms "${R[$k.accept_ms]}")" \
    "$(fmt_num "${R[$k.recipients]:-0}")" "$done"
}
notify_reminders_cell() {
  local s="$1" k="$1.notify-reminders"
  if ! have "$s.ran"; then echo "not run"; return; fi
  if ! have "$k.max_ms"; then echo "${R[$k.note]:-—}"; return; fi
  printf 'max %s ms, median %s ms (%s runs after 2 left out; the first run %s ms)' "$(fmt_ms "${R[$k.max_ms]}")" \
    "$(fmt_ms "${R[$k.median_ms]}")" "${R[$k.samples]:-?}" "$(fmt_ms "${R[$k.first_ms]:-0}")"
  [ "${R[$k.task_due]:-0}" = 0 ] || printf ' ⚠ %s reminder(s) sent: something was due' "${R[$k.task_due]}"
  echo
}
t_notify_rss() { t_value "$1.notify-streams.rss_open" '<=' 160 "${R[$1.notify-streams.rss_open]:-} MB"; }
t_notify_reads() {
  local a="${R[$1.notify-alone.rps]:-}" d="${R[$1.notify-during.rps]:-}"
  if [ -z "$a" ] || [ -z "$d" ]; then echo "n/a"; return; fi
  mark '>=' "$(awk -v a="$a" -v d="$d" 'BEGIN { print (a > 0 ? d / a : 0) }')" 0.8 \
    "$(awk -v a="$a" -v d="$d" 'BEGIN { printf "%.0f%%", (a > 0 ? 100 * d / a : 0) }')"
}
t_notify_latency() {
  local v="${R[$1.notify-latency.p99_ms]:-}" miss="${R[$1.notify-latency.missing]:-0}"
  if [ -z "$v" ]; then echo "n/a"; return; fi
  if [ "$miss" != 0 ]; then echo "✗ $miss of ${R[$1.notify-latency.sent]} never arrived (p99 of the rest $(fmt_ms "$v") ms)"; return; fi
  mark '<=' "$v" 1500 "p99 $(fmt_ms "$v") ms"
}
t_notify_accept() { t_value "$1.notify-broadcast.accept_ms" '<' 1000 "$(fmt_ms "${R[$1.notify-broadcast.accept_ms]:-0}") ms"; }
t_notify_complete() {
  local v="${R[$1.notify-broadcast.complete_ms]:-}"
  if [ -z "$v" ]; then echo "n/a"; elif [ "$v" = timeout ]; then echo "✗ not complete after 120 s"
  else mark '<' "$v" 5000 "$(awk -v x="$v" 'BEGIN { printf "%.2f", x / 1000 }') s"; fi
}
t_notify_reminders() { t_value "$1.notify-reminders.max_ms" '<' 20 "max $(fmt_ms "${R[$1.notify-reminders.max_ms]:-0}") ms"; }

# --- the activity log and the data export (issue 13) ------------------------------------------
# A fresh database: an admin, an owner with DATA_EXPORT_TASKS tasks and 1,000 other users
# (bench/gen_tasks.py), then DATA_EVENTS_SMALL activity events (bench/gen_activity.py); a server:
# wrk on GET /admin/activity?limit=50 (the admin's first page, no filter) and the owner's
# GET /me/export (bench/data_bench.py: time, the server's RSS growth); then the events up to
# DATA_EVENTS on the same timeline, a fresh server, and the same wrk again.
data_keys="data-activity-small data-activity-large data-export"
phase_fail() {  # sys "keys" note: the note on every cell of a phase that has none yet
  local k
  for k in $2; do have "$1.$k.note" || R[$1.$k.note]="$3"; done
}

wrk_warmup() {  # url token file: 2 s of wrk (bench/tasks.lua) so that caches and pools are warm
  BENCH_TOKEN="$2" SCENARIO=warmup wrk -t2 -c"$CONNS" -d2s --timeout 10s -s "$ROOT/bench/tasks.lua" "$1" >"$3" 2>&1 || true
}

wrk_get() {  # sys key url token file duration: wrk -t2 -c$CONNS --latency (bench/tasks.lua) into R[sys.key]
  BENCH_TOKEN="$4" SCENARIO="$2" wrk -t2 -c"$CONNS" -d"$6" --timeout 10s --latency -s "$ROOT/bench/tasks.lua" "$3" \
    >"$5" 2>&1 || warn "$1 $2: wrk failed"
  load_result "$1" "$2" "$5"
}

wait_line() {  # file TAG pid tenths: until a "TAG ..." line is in file, pid exits, or tenths × 0.1 s pass
  local i
  for ((i = 0; i < $4; i++)); do
    grep -q "^$2 " "$1" 2>/dev/null && return 0
    alive "$3" || return 1
    sleep 0.1
  done
  return 1
}

bench_line() {  # sys key file TAG: the "TAG k=v ..." line of a bench/*.py output into R[sys.key.k]
  local line kv
  line="$(grep -m1 "^$4 " "$3" 2>/dev/null || true)"
  [ -n "$line" ] || return 1
  for kv in $line; do case "$kv" in *=*) R[$1.$2.${kv%%=*}]="${kv#*=}" ;; esac; done
  log "$1: $line"
}

script_why() {  # file: the last line of a failed bench/*.py's stderr, for the table (and a warning)
  local w
  w="$(tail -n 1 "$1" 2>/dev/null | sed 's/^[a-z_]*: //' | cut -c1-120)"
  warn "a bench script gave no result: ${w:-see ${1#"$ROOT"/}}"
  echo "failed (${w:-see ${1#"$ROOT"/}})"
}

gen_events() {  # sys dir first last: bench/gen_activity.py into DB_ARGS, then settle
  log "$1 data: bench/gen_activity.py events $3..$4"
  if ! python3 "$ROOT/bench/gen_activity.py" "${DB_ARGS[@]}" --first "$3" --last "$4" --total "$DATA_EVENTS" \
      >>"$2/gen.txt" 2>>"$2/gen.log"; then
    tail -n 5 "$2/gen.log" >&2 || true
    broken "$1 data: bench/gen_activity.py failed (see ${2#"$ROOT"/}/gen.log)"
    return 1
  fi
  log "$1 data: $(tail -n 1 "$2/gen.txt")"
}

activity_wrk() {  # sys key base token dir: warm-up, then wrk on the admin's first activity page
  local code n
  code="$(curl -s -o "$5/$2.json" -w '%{http_code}' --max-time 30 -H "Authorization: Bearer $4" \
    "$3$API_PREFIX/admin/activity?limit=50")" || true
  n="$(json_field "$5/$2.json" 'len(j["items"])')"
  if [ "$code" != 200 ] || [ "$n" != 50 ]; then
    R[$1.$2.note]="failed (GET /admin/activity: HTTP ${code:-000}, ${n:-?} items)"; warn "$1 data: ${R[$1.$2.note]}"
    return 0
  fi
  wrk_warmup "$3$API_PREFIX/admin/activity?limit=50" "$4" "$5/$2-warmup.txt"
  log "$1 data: wrk GET $API_PREFIX/admin/activity?limit=50 -t2 -c$CONNS -d$DURATION ($2)"
  wrk_get "$1" "$2" "$3$API_PREFIX/admin/activity?limit=50" "$4" "$5/$2.txt" "$DURATION"
}

run_data() {  # sqlite|mysql
  local sys="$1" dir="$OUT/ours-$1/data" data="$TMP/data-$1" pid base tok
  have "$sys.ran" || R[$sys.ran]=1
  [ -n "$OUR_BIN" ] || { phase_fail "$sys" "$data_keys" "no binary"; return 0; }
  mkdir -p "$dir/large" "$data"
  note_load "$sys data"
  fresh_db "$sys" "$dir" "$data" data || { phase_fail "$sys" "$data_keys" "$DB_NOTE"; return 0; }
  local -x IKIGAI_ARGON2_MEMORY_KIB="$NOTIFY_ARGON2_KIB" IKIGAI_ARGON2_OPS=1
  log "$sys data: migrate, an admin and the export's owner, bench/gen_tasks.py (1,000 users, $(size_label "$DATA_EXPORT_TASKS") tasks of the owner)"
  cheap_users "$sys" "$dir" "$data" data "dbowner user" "dbadmin admin" \
    || { phase_fail "$sys" "$data_keys" "$DB_NOTE"; return 0; }
  if ! python3 "$ROOT/bench/gen_tasks.py" "${DB_ARGS[@]}" --users 1000 --tasks 0 --owner-id "${USER_IDS[dbowner]}" \
      --owner-tasks "$DATA_EXPORT_TASKS" --password-hash "$USER_HASH" >"$dir/gen.txt" 2>"$dir/gen.log"; then
    tail -n 5 "$dir/gen.log" >&2 || true
    broken "$sys data: bench/gen_tasks.py failed (see ${dir#"$ROOT"/}/gen.log)"
    phase_fail "$sys" "$data_keys" "failed (generator)"; return 0
  fi
  gen_events "$sys" "$dir" 1 "$DATA_EVENTS_SMALL" || { phase_fail "$sys" "$data_keys" "failed (generator)"; return 0; }
  settle_db "$sys" "$data"

  start_server "$sys" "$data" "$DB_URL" "$dir" || { phase_fail "$sys" "$data_keys" "$SRV_NOTE"; return 0; }
  pid="$SRV_PID"; base="$SRV_BASE"
  tok="$(bearer "$base" dbadmin@example.com "$dir/login.json")"
  if [ -z "$tok" ]; then R[$sys.data-activity-small.note]="failed (admin login)"
  else activity_wrk "$sys" data-activity-small "$base" "$tok" "$dir"; fi
  sleep 1
  log "$sys data: GET $API_PREFIX/me/export of the owner of $(size_label "$DATA_EXPORT_TASKS") tasks (bench/data_bench.py)"
  python3 "$ROOT/bench/data_bench.py" export --base "$base" --pid "$pid" --email dbowner@example.com \
    --password "$BENCH_PASSWORD" >"$dir/export.txt" 2>"$dir/export.log" || true
  bench_line "$sys" data-export "$dir/export.txt" EXPORT || R[$sys.data-export.note]="$(script_why "$dir/export.log")"
  alive "$pid" || phase_fail "$sys" "$data_keys" "server crashed"
  R[$sys.data.hwm]="$(status_mb "$pid" VmHWM)"
  stop_server "$sys" "$pid" "$dir"

  if [ "$DATA_EVENTS" -gt "$DATA_EVENTS_SMALL" ]; then
    gen_events "$sys" "$dir" $((DATA_EVENTS_SMALL + 1)) "$DATA_EVENTS" \
      || { phase_fail "$sys" "$data_keys" "failed (generator)"; return 0; }
    settle_db "$sys" "$data"
    start_server "$sys" "$data" "$DB_URL" "$dir/large" || { phase_fail "$sys" "$data_keys" "$SRV_NOTE"; return 0; }
    pid="$SRV_PID"; base="$SRV_BASE"
    tok="$(bearer "$base" dbadmin@example.com "$dir/large/login.json")"
    if [ -z "$tok" ]; then R[$sys.data-activity-large.note]="failed (admin login)"
    else activity_wrk "$sys" data-activity-large "$base" "$tok" "$dir/large"; fi
    alive "$pid" || phase_fail "$sys" "$data_keys" "server crashed"
    stop_server "$sys" "$pid" "$dir/large"
  fi
  [ "$BENCH_KEEP_TMP" = 1 ] || rm -rf -- "$data"
}

data_activity_cell() {  # sys key
  local s="$1" k="$1.$2"
  if ! have "$s.ran"; then echo "not run"; return; fi
  if ! have "$k.rps"; then echo "${R[$k.note]:-—}"; return; fi
  printf '%s req/s, p50 %s ms, p99 %s ms\n' "$(fmt_rps "${R[$k.rps]}")" "$(fmt_ms "${R[$k.p50_ms]}")" "$(fmt_ms "${R[$k.p99_ms]}")"
}
data_export_cell() {
  local s="$1" k="$1.data-export"
  if ! have "$s.ran"; then echo "not run"; return; fi
  if ! have "$k.seconds"; then echo "${R[$k.note]:-—}"; return; fi
  printf '%s s, %s MB, %s tasks; server RSS %s → peak %s MB (+%s MB)\n' "${R[$k.seconds]}" \
    "$(awk -v b="${R[$k.bytes]}" 'BEGIN { printf "%.1f", b / 1048576 }')" "$(fmt_num "${R[$k.tasks]}")" \
    "${R[$k.rss_before_mb]}" "${R[$k.rss_peak_mb]}" "${R[$k.growth_mb]}"
}
t_data_scale() {
  local a="${R[$1.data-activity-small.p50_ms]:-}" b="${R[$1.data-activity-large.p50_ms]:-}"
  if [ -z "$a" ] || [ -z "$b" ]; then echo "n/a"; return; fi
  mark '<=' "$b" "$(awk -v a="$a" 'BEGIN { print 2 * a }')" "$(fmt_ms "$b") ms vs $(fmt_ms "$a") ms"
}
t_data_export() { t_value "$1.data-export.growth_mb" '<' 32 "+${R[$1.data-export.growth_mb]:-} MB"; }

# --- Web Push throughput (issue 14) ----------------------------------------------------------
# A fresh database: an admin, a reader and PUSH_COUNT/20 users (bench/gen_tasks.py, no tasks); a
# server that accepts http:// push endpoints; bench/push_bench.py starts a push service in its own
# process, gives every generated user 20 subscriptions through the API, and waits. Then wrk on
# GET /me alone; one announcement to every user (PUSH_COUNT pushes, encrypted and signed) with
# nothing else running (pushes/s, the server's CPU per push); a second one while wrk runs again.
# The push service counts them, verifies every VAPID header and decrypts a sample.
push_keys="push push-alone push-during push-round2"
run_push() {  # sqlite|mysql
  local sys="$1" dir="$OUT/ours-$1/push" data="$TMP/push-$1" pid base tok users width ppid i go
  have "$sys.ran" || R[$sys.ran]=1
  [ -n "$OUR_BIN" ] || { phase_fail "$sys" "$push_keys" "no binary"; return 0; }
  if ! python3 -c 'import cryptography' 2>/dev/null; then
    broken "$sys push: python3-cryptography not installed (bench/push_bench.py)"
    phase_fail "$sys" "$push_keys" "no python3-cryptography"; return 0
  fi
  users=$(( (PUSH_COUNT + 19) / 20 ))
  width=$(( ${#users} > 5 ? ${#users} : 5 ))  # gen_tasks.py's username digits
  mkdir -p "$dir" "$data"
  note_load "$sys push"
  fresh_db "$sys" "$dir" "$data" push || { phase_fail "$sys" "$push_keys" "$DB_NOTE"; return 0; }
  local -x IKIGAI_ARGON2_MEMORY_KIB="$NOTIFY_ARGON2_KIB" IKIGAI_ARGON2_OPS=1 IKIGAI_PUSH_ALLOW_HTTP=true
  log "$sys push: migrate, an admin and a reader, bench/gen_tasks.py ($users users)"
  cheap_users "$sys" "$dir" "$data" push "pbreader user" "pbadmin admin" \
    || { phase_fail "$sys" "$push_keys" "$DB_NOTE"; return 0; }
  if ! python3 "$ROOT/bench/gen_tasks.py" "${DB_ARGS[@]}" --users "$users" --tasks 0 --password-hash "$USER_HASH" --users-recent \
      >"$dir/gen.txt" 2>"$dir/gen.log"; then
    tail -n 5 "$dir/gen.log" >&2 || true
    broken "$sys push: bench/gen_tasks.py failed (see ${dir#"$ROOT"/}/gen.log)"
    phase_fail "$sys" "$push_keys" "failed (generator)"; return 0
  fi
  settle_db "$sys" "$data"
  start_server "$sys" "$data" "$DB_URL" "$dir" || { phase_fail "$sys" "$push_keys" "$SRV_NOTE"; return 0; }
  pid="$SRV_PID"; base="$SRV_BASE"
  tok="$(bearer "$base" pbreader@example.com "$dir/login.json")"
  [ -n "$tok" ] || { phase_fail "$sys" "$push_keys" "failed (login)"; stop_server "$sys" "$pid" "$dir"; return 0; }

  go="$dir/go"
  log "$sys push: bench/push_bench.py: a push service, $users users × 20 subscriptions"
  python3 "$ROOT/bench/push_bench.py" run --base "$base" --pid "$pid" --width "$width" --users "$users" \
    --per-user 20 --password "$BENCH_PASSWORD" --admin-email pbadmin@example.com --go-file "$go" \
    >"$dir/push.txt" 2>"$dir/push.log" &
  ppid=$!
  STARTED+=("$ppid")
  wait_line "$dir/push.txt" READY "$ppid" 6000 || true
  if bench_line "$sys" push-setup "$dir/push.txt" READY; then
    wrk_warmup "$base$API_PREFIX/me" "$tok" "$dir/warmup.txt"
    log "$sys push: wrk GET $API_PREFIX/me alone -t2 -c$CONNS -d$PUSH_READS_DURATION"
    wrk_get "$sys" push-alone "$base$API_PREFIX/me" "$tok" "$dir/alone.txt" "$PUSH_READS_DURATION"
    sleep 1
    log "$sys push: one announcement to every user ($(fmt_num "$PUSH_COUNT") pushes), nothing else running"
    touch "$go.1"
    wait_line "$dir/push.txt" PUSH "$ppid" 6000 || true
    bench_line "$sys" push "$dir/push.txt" PUSH || R[$sys.push.note]="$(script_why "$dir/push.log")"
    sleep 1
    log "$sys push: another announcement ($(fmt_num "$PUSH_COUNT") pushes) with wrk GET $API_PREFIX/me"
    touch "$go.2"
    wrk_get "$sys" push-during "$base$API_PREFIX/me" "$tok" "$dir/during.txt" "$PUSH_READS_DURATION"
    wait "$ppid" 2>/dev/null || true
    bench_line "$sys" push-round2 "$dir/push.txt" PUSH_DURING || true
    R[$sys.push.sent_metric]="$(metric_value "$base" ikigai_push_sent_total)"
  else
    phase_fail "$sys" "$push_keys" "$(script_why "$dir/push.log")"
    stop_pid "$ppid" 5
  fi
  forget_pid "$ppid"
  alive "$pid" || phase_fail "$sys" "$push_keys" "server crashed"
  R[$sys.push.hwm]="$(status_mb "$pid" VmHWM)"
  stop_server "$sys" "$pid" "$dir"
  [ "$BENCH_KEEP_TMP" = 1 ] || rm -rf -- "$data"
}

push_cell() {
  local s="$1" k="$1.push"
  if ! have "$s.ran"; then echo "not run"; return; fi
  if ! have "$k.per_s"; then echo "${R[$k.note]:-—}"; return; fi
  printf '%s pushes/s (%s of %s in %s s; 202 in %s ms, first push after %s ms); server CPU %s ms per push (%s%% of one core); %s verified by decryption, %s rejected; %s connections\n' \
    "$(fmt_num "${R[$k.per_s]}")" "$(fmt_num "${R[$k.pushes]}")" "$(fmt_num "${R[$k.expected]}")" "${R[$k.seconds]}" \
    "$(fmt_ms "${R[$k.accept_ms]}")" "$(fmt_num "${R[$k.first_ms]}")" "${R[$k.cpu_ms_per_push]}" "${R[$k.server_cpu_pct]}" \
    "$(fmt_num "${R[$k.verified]}")" "${R[$k.bad]}" "${R[$k.connections]}"
}
push_reads_cell() {
  local s="$1" a d
  if ! have "$s.ran"; then echo "not run"; return; fi
  a="${R[$s.push-alone.rps]:-}"; d="${R[$s.push-during.rps]:-}"
  if [ -z "$a" ] || [ -z "$d" ]; then echo "${R[$s.push.note]:-${R[$s.push-alone.note]:-—}}"; return; fi
  printf '%s req/s → %s req/s (%s%%; p99 %s → %s ms); the pushes meanwhile: %s/s, all sent after %s s\n' \
    "$(fmt_rps "$a")" "$(fmt_rps "$d")" \
    "$(awk -v a="$a" -v d="$d" 'BEGIN { printf "%.0f", (a > 0 ? 100 * d / a : 0) }')" \
    "$(fmt_ms "${R[$s.push-alone.p99_ms]:-0}")" "$(fmt_ms "${R[$s.push-during.p99_ms]:-0}")" \
    "$(fmt_num "${R[$s.push-round2.per_s]:-0}")" "${R[$s.push-round2.seconds]:-?}"
}
t_push_rate() {
  local v="${R[$1.push.per_s]:-}"
  if [ -z "$v" ]; then echo "n/a"; return; fi
  if [ "${R[$1.push.pushes]}" != "${R[$1.push.expected]}" ]; then echo "✗ ${R[$1.push.pushes]} of ${R[$1.push.expected]} arrived"; return; fi
  mark '>=' "$v" 1000 "$(fmt_num "$v") pushes/s"
}
t_push_reads() {
  local a="${R[$1.push-alone.rps]:-}" d="${R[$1.push-during.rps]:-}"
  if [ -z "$a" ] || [ -z "$d" ]; then echo "n/a"; return; fi
  mark '>' "$(awk -v a="$a" -v d="$d" 'BEGIN { print (a > 0 ? d / a : 0) }')" 0.8 \
    "$(awk -v a="$a" -v d="$d" 'BEGIN { printf "%.0f%%", (a > 0 ? 100 * d / a : 0) }')"
}

# --- report --------------------------------------------------------------------------
fmt_num() {  # number [decimals]: thousands separators
  awk -v x="$1" -v d="${2:-0}" 'BEGIN {
    s = sprintf("%." d "f", x); neg = (s ~ /^-/); if (neg) s = substr(s, 2)
    i = index(s, "."); frac = (i ? substr(s, i) : ""); n = (i ? substr(s, 1, i - 1) : s)
    out = ""; while (length(n) > 3) { out = "," substr(n, length(n) - 2) out; n = substr(n, 1, length(n) - 3) }
    printf "%s%s%s%s", (neg ? "-" : ""), n, out, frac }'
}
fmt_rps() {
  if awk -v x="$1" 'BEGIN { exit !(x >= 100) }'; then fmt_num "$1" 0; else fmt_num "$1" 1; fi
}
fmt_ms() {
  if awk -v x="$1" 'BEGIN { exit !(x < 10) }'; then fmt_num "$1" 2
  elif awk -v x="$1" 'BEGIN { exit !(x < 100) }'; then fmt_num "$1" 1
  else fmt_num "$1" 0; fi
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) { r = a / b; printf (r >= 10 ? "×%.0f" : (r >= 1 ? "×%.1f" : "×%.2f")), r } }'; }

have() { [ -n "${R[$1]:-}" ]; }

scn_cell() {  # system item
  local s="$1" i="$2" errs
  if ! have "$s.ran"; then echo "not run"; return; fi
  if have "$s.server.note"; then echo "${R[$s.server.note]}"; return; fi
  if ! have "$s.$i.rps"; then echo "${R[$s.$i.note]:-—}"; return; fi
  if [ "${R[$s.$i.requests]:-1}" = 0 ]; then echo "no request completed in $DURATION"; return; fi
  errs=$(( ${R[$s.$i.non2xx]:-0} + ${R[$s.$i.bad_body]:-0} + ${R[$s.$i.connect_err]:-0} \
    + ${R[$s.$i.read_err]:-0} + ${R[$s.$i.write_err]:-0} + ${R[$s.$i.timeout]:-0} ))
  printf '%s req/s; p50 %s, p99 %s ms' "$(fmt_rps "${R[$s.$i.rps]}")" \
    "$(fmt_ms "${R[$s.$i.p50_ms]}")" "$(fmt_ms "${R[$s.$i.p99_ms]}")"
  [ "$errs" -eq 0 ] || printf ' ⚠ %s non-2xx/errors' "$errs"
  echo
}
p99_text() {  # system item: "N ms", or "> DURATION" when no request completed
  if [ "${R[$1.$2.requests]:-1}" = 0 ]; then echo "> $DURATION"; else echo "$(fmt_ms "${R[$1.$2.p99_ms]}") ms"; fi
}
scn_ratio() {  # system item: req/s ratio ours/seed and both p99s
  local s="$1" i="$2" r
  if have "seed.$i.rps" && have "$s.$i.rps"; then
    r="$(ratio "${R[$s.$i.rps]}" "${R[seed.$i.rps]}")"
    printf '%s; p99 %s → %s\n' "${r:-seed 0 req/s}" "$(p99_text seed "$i")" "$(p99_text "$s" "$i")"
  else
    echo "—"
  fi
}
val_cell() {  # system key unit [note-key]
  local s="$1" k="$2" unit="$3" nk="${4:-}"
  if ! have "$s.ran"; then echo "not run"; return; fi
  if have "$s.$k"; then echo "${R[$s.$k]} $unit"; return; fi
  if have "$s.server.note"; then echo "${R[$s.server.note]}"; return; fi
  if [ -n "$nk" ] && have "$s.$nk"; then echo "${R[$s.$nk]}"; return; fi
  echo "—"
}
val_ratio() {  # system key
  if have "seed.$2" && have "$1.$2"; then ratio "${R[$1.$2]}" "${R[seed.$2]}"; echo; else echo "—"; fi
}

mark() {  # op a b text: "✓ text" if a op b (numerically), else "✗ text"
  if awk -v a="$2" -v b="$3" "BEGIN { exit !(a $1 b) }"; then echo "✓ $4"; else echo "✗ $4"; fi
}

target_line() {  # label then, per backend, a "name result" string
  local label="$1" out="" p
  shift
  for p in "$@"; do out+="${out:+ · }$p"; done
  echo "- $label: ${out:-n/a (not run)}"
}

per_backend() {  # fn: calls fn sys for each of ours that ran, prints "Name result"
  local fn="$1" s name
  for s in sqlite mysql; do
    have "$s.ran" || continue
    case "$s" in sqlite) name=SQLite ;; mysql) name=MariaDB ;; esac
    echo "$name $("$fn" "$s")"
  done
}

t_authed_ratio() {  # sys min-ratio
  local s="$1" min="$2" r
  if have "seed.authed.rps" && have "$s.authed.rps"; then
    r="$(awk -v a="${R[$s.authed.rps]}" -v b="${R[seed.authed.rps]}" 'BEGIN { printf "%.1f", a / b }')"
    mark '>=' "$r" "$min" "×$r ($(fmt_rps "${R[$s.authed.rps]}") vs $(fmt_rps "${R[seed.authed.rps]}") req/s)"
  else
    echo "n/a"
  fi
}
t_storm() {
  local v="${R[$1.storm-read.p99_ms]:-}"
  if [ -z "$v" ]; then echo "n/a"
  elif [ "${R[$1.storm-read.requests]:-1}" = 0 ]; then echo "✗ no read completed"
  else mark '<' "$v" 10 "p99 $(fmt_ms "$v") ms"; fi
}
t_logins() {
  local rps="${R[$1.login.rps]:-}" h="${R[$1.hash_ms]:-}" need
  if [ -z "$rps" ] || [ -z "$h" ]; then echo "n/a"; return; fi
  need="$(awk -v n="$NPROC" -v h="$h" 'BEGIN { printf "%.1f", 0.9 * n * 1000 / h }')"
  mark '>=' "$rps" "$need" "$(fmt_rps "$rps") logins/s vs $need/s needed (hash ≈ $h ms)"
}
t_value() {  # key op limit unit-text
  local v="${R[$1]:-}"
  if [ -z "$v" ]; then echo "n/a"; else mark "$2" "$v" "$3" "$4"; fi
}
t_hwm() { t_value "$1.hwm" '<' 64 "${R[$1.hwm]:-} MB"; }
t_forgot() {  # known and unknown forgot-password medians within 1 ms of each other
  local k="${R[$1.forgot_known_ms]:-}" u="${R[$1.forgot_unknown_ms]:-}" d
  if [ -z "$k" ] || [ -z "$u" ]; then echo "n/a${R[$1.forgot.note]:+ (${R[$1.forgot.note]})}"; return; fi
  d="$(awk -v a="$k" -v b="$u" 'BEGIN { d = a - b; if (d < 0) d = -d; printf "%.2f", d }')"
  mark '<' "$d" 1 "known $k ms, unknown $u ms (Δ $d ms; $FORGOT_N each; ${R[$1.forgot_mails]:-?} reset mails made)"
}
t_idle() { t_value "$1.idle_rss" '<' 32 "${R[$1.idle_rss]:-} MB"; }
t_healthz() { t_value "$1.healthz.rps" '>=' 80000 "$(fmt_rps "${R[$1.healthz.rps]:-0}") req/s"; }

forgot_cell() {  # system: "known / unknown ms"
  if have "$1.forgot_known_ms"; then echo "${R[$1.forgot_known_ms]} / ${R[$1.forgot_unknown_ms]} ms"
  elif have "$1.ran"; then echo "${R[$1.forgot.note]:-n/a}"; else echo "—"; fi
}

task_cell() {  # system item: scn_cell plus the hand check of one answer
  local c
  c="$(scn_cell "$1" "$2")"
  if have "$1.$2.check"; then c+=" ⚠ ${R[$1.$2.check]}"; fi
  echo "$c"
}
gen_cell() {  # system: generator time per size
  local s="$1" n out=""
  if ! have "$s.ran"; then echo "not run"; return; fi
  for n in $(task_sizes); do
    if have "$s.gen-$n.seconds"; then
      out+="${out:+ · }$(size_label "$n"): ${R[$s.gen-$n.seconds]} s ($(fmt_num "${R[$s.gen-$n.tasks]}") tasks, $(fmt_num "${R[$s.gen-$n.tags]}") tags)"
    else
      out+="${out:+ · }$(size_label "$n"): ${R[$s.tasks-list-$n.note]:-—}"
    fi
  done
  echo "${out:-—}"
}
hwm_sizes_cell() {  # system: server VmHWM per tasks size
  local s="$1" n out=""
  if ! have "$s.ran"; then echo "not run"; return; fi
  for n in $(task_sizes); do
    have "$s.tasks-$n.hwm" && out+="${out:+ · }$(size_label "$n"): ${R[$s.tasks-$n.hwm]} MB"
  done
  echo "${out:-—}"
}
t_tasks_scale() {  # sys: list p50 at the largest size vs 2 × at the smallest
  local s="$1" small big a b
  small="$(task_sizes | head -n1)"; big="$(task_sizes | tail -n1)"
  a="${R[$s.tasks-list-$small.p50_ms]:-}"; b="${R[$s.tasks-list-$big.p50_ms]:-}"
  if [ -z "$a" ] || [ -z "$b" ]; then echo "n/a"; return; fi
  mark '<=' "$b" "$(awk -v a="$a" 'BEGIN { print 2 * a }')" \
    "p50 $(fmt_ms "$b") ms at $(size_label "$big") vs $(fmt_ms "$a") ms at $(size_label "$small") ($(ratio "$b" "$a"))"
}
t_tasks_rps() {  # sys: list req/s ≥ 10,000 at each size
  local s="$1" n out=""
  for n in $(task_sizes); do
    have "$s.tasks-list-$n.rps" || continue
    out+="${out:+, }$(mark '>=' "${R[$s.tasks-list-$n.rps]}" 10000 "$(fmt_rps "${R[$s.tasks-list-$n.rps]}") req/s at $(size_label "$n")")"
  done
  echo "${out:-n/a}"
}

tasks_header() {
  [ "$BENCH_TASKS" != 0 ] || return 0
  printf '%s ' "Tasks: per table size a fresh database filled by bench/gen_tasks.py ($BENCH_TASK_USERS users," \
    "the tasks spread across them at random), then wrk -t$TASKS_THREADS -c$CONNS as one user who owns" \
    "$BENCH_TASK_OWNED of them (list after a $TASKS_WARMUP warm-up; the create run follows the list run)."
}

report() {
  local rev label item n
  local -a lines=()
  rev="$(git rev-parse --short HEAD 2>/dev/null || echo '?')"
  [ -z "$(git status --porcelain -- src 2>/dev/null)" ] || rev+=" (+ uncommitted changes in src/)"
  row() { printf '| %s | %s | %s | %s | %s | %s |\n' "$@"; }
  {
    echo "## Ikigai benchmark, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo
    echo "Machine: $NPROC cores ($(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null)), server, database and wrk share them" \
      "(CPU busy with other work, 1 s sample when each part began: $LOADS; well above 0% means" \
      "something else competed for the cores and the numbers are low)." \
      "DURATION=$DURATION, CONNS=$CONNS (seed harness), /healthz: wrk -t$HEALTHZ_THREADS -c$HEALTHZ_CONNS." \
      "$(tasks_header)Ours: $IKIGAI_BIN ($OUR_BIN_INFO) at commit $rev;" \
      "ours on MariaDB uses its own MariaDB (fresh temp datadir, same flags as the seed's mariadb.sh). Raw output: bench-results/$TS/."
    echo
    row "scenario" "seed (Express + MariaDB)" "ours, SQLite" "ours, MariaDB" "SQLite ÷ seed" "MariaDB ÷ seed"
    row "---" "---" "---" "---" "---" "---"
    for item in healthz register login authed storm-login storm-read; do
      [ "$BENCH_CORE" = 1 ] || break
      case "$item" in
        healthz) label="GET /healthz (c$HEALTHZ_CONNS)" ;;
        authed) label="authed read (c$CONNS)" ;;
        storm-login) label="login storm: logins (c$CONNS)" ;;
        storm-read) label="login storm: authed reads (c$CONNS)" ;;
        *) label="$item (c$CONNS)" ;;
      esac
      row "$label" "$(scn_cell seed "$item")" "$(scn_cell sqlite "$item")" "$(scn_cell mysql "$item")" \
        "$(scn_ratio sqlite "$item")" "$(scn_ratio mysql "$item")"
    done
    if [ "$BENCH_TASKS" != 0 ]; then
      for n in $(task_sizes); do
        row "tasks list, $(size_label "$n") rows (GET ?limit=20, c$CONNS)" "n/a (no tasks API)" \
          "$(task_cell sqlite "tasks-list-$n")" "$(task_cell mysql "tasks-list-$n")" "—" "—"
      done
      for n in $(task_sizes); do
        row "tasks create, $(size_label "$n") rows (POST, c$CONNS)" "n/a (no tasks API)" \
          "$(task_cell sqlite "tasks-create-$n")" "$(task_cell mysql "tasks-create-$n")" "—" "—"
      done
      row "tasks: bench/gen_tasks.py ($BENCH_TASK_USERS users + tasks + tags)" "—" "$(gen_cell sqlite)" "$(gen_cell mysql)" "—" "—"
    fi
    if [ "$BENCH_FLOOD" != 0 ]; then
      row "body flood: server RSS ($FLOOD_CONNS conns × $FLOOD_BYTES B bodies to /auth/register, $FLOOD_DURATION)" "n/a" \
        "$(flood_rss_cell sqlite)" "$(flood_rss_cell mysql)" "—" "—"
      row "body flood: authed GET /me (c$CONNS) alone → during the flood" "n/a" \
        "$(flood_reads_cell sqlite)" "$(flood_reads_cell mysql)" "—" "—"
    fi
    if [ "$BENCH_NOTIFY" != 0 ]; then
      n="$(fmt_num "$NOTIFY_STREAMS")"
      row "notify: server RSS with $n streams open ($NOTIFY_STREAMS_PER_USER per user, GET $API_PREFIX/notifications/stream, bearer)" \
        "n/a (no notifications)" "$(notify_streams_cell sqlite)" "$(notify_streams_cell mysql)" "—" "—"
      row "notify: authed GET /me (c$CONNS, $NOTIFY_DURATION) without → with the $n streams open" "n/a (no notifications)" \
        "$(notify_reads_cell sqlite)" "$(notify_reads_cell mysql)" "—" "—"
      row "notify: delivery latency, A's 202 → event on a stream on B (2 instances, 1 database, $NOTIFY_LATENCY_N × 1 user, jobs every 1 s)" \
        "n/a (no notifications)" "$(notify_latency_cell sqlite)" "$(notify_latency_cell mysql)" "—" "—"
      row "notify: announcement to every user ($(fmt_num "$NOTIFY_USERS") + 2): 202, then all inbox rows" "n/a (no notifications)" \
        "$(notify_broadcast_cell sqlite)" "$(notify_broadcast_cell mysql)" "—" "—"
      row "notify: one reminder pass, $(size_label "$NOTIFY_TASKS") tasks, nothing due (ikigai_job_last_duration_seconds)" \
        "n/a (no notifications)" "$(notify_reminders_cell sqlite)" "$(notify_reminders_cell mysql)" "—" "—"
    fi
    if [ "$BENCH_DATA" != 0 ]; then
      row "activity: GET /admin/activity?limit=50 (c$CONNS), $(size_label "$DATA_EVENTS_SMALL") events" "n/a (no activity API)" \
        "$(data_activity_cell sqlite data-activity-small)" "$(data_activity_cell mysql data-activity-small)" "—" "—"
      row "activity: the same with $(size_label "$DATA_EVENTS") events" "n/a (no activity API)" \
        "$(data_activity_cell sqlite data-activity-large)" "$(data_activity_cell mysql data-activity-large)" "—" "—"
      row "export: GET /me/export of a user with $(size_label "$DATA_EXPORT_TASKS") tasks" "n/a (no export)" \
        "$(data_export_cell sqlite)" "$(data_export_cell mysql)" "—" "—"
    fi
    if [ "$BENCH_PUSH" != 0 ]; then
      row "push: one announcement → $(fmt_num "$PUSH_COUNT") Web Pushes (aes128gcm + VAPID) to a local push service, alone" "n/a (no push)" \
        "$(push_cell sqlite)" "$(push_cell mysql)" "—" "—"
      row "push: authed GET /me (c$CONNS, $PUSH_READS_DURATION) alone → while a second announcement's pushes go out" "n/a (no push)" \
        "$(push_reads_cell sqlite)" "$(push_reads_cell mysql)" "—" "—"
    fi
    if [ "$BENCH_CLUSTER" != 0 ]; then
      row "cluster: authed GET /me (c$CONNS, $CLUSTER_DURATION)" "n/a" "—" "$(cluster_cell cl-read)" "—" "cluster ÷ 1 instance $(cluster_ratio cl-read)"
      row "cluster: login, real Argon2id (c$CONNS, $CLUSTER_DURATION)" "n/a" "—" "$(cluster_cell cl-login)" "—" "cluster ÷ 1 instance $(cluster_ratio cl-login)"
      row "cluster: task create (POST, c$CONNS, $CLUSTER_DURATION)" "n/a" "—" "$(cluster_cell cl-create)" "—" "cluster ÷ 1 instance $(cluster_ratio cl-create)"
      row "cluster: Galera synced in / transactions retried (certification) during the run" "n/a" "—" \
        "${R[cluster.startup]:-—} s / ${R[cluster.retries]:-—}" "—" "—"
    fi
    if [ "$BENCH_CORE" = 1 ]; then
      row "login, sequential ($HASH_LOGINS × 1 conn, median ≈ hash time)" "$(val_cell seed hash_ms ms hash.note)" \
        "$(val_cell sqlite hash_ms ms hash.note)" "$(val_cell mysql hash_ms ms hash.note)" "$(val_ratio sqlite hash_ms)" "$(val_ratio mysql hash_ms)"
      row "forgot-password, known / unknown address ($FORGOT_N each, interleaved, median)" "—" \
        "$(forgot_cell sqlite)" "$(forgot_cell mysql)" "—" "—"
      row "server idle RSS (after start + a few requests)" "$(val_cell seed idle_rss MB)" "$(val_cell sqlite idle_rss MB)" \
        "$(val_cell mysql idle_rss MB)" "$(val_ratio sqlite idle_rss)" "$(val_ratio mysql idle_rss)"
      row "server VmHWM after /healthz load" "—" "$(val_cell sqlite hwm_healthz MB healthz.note)" "$(val_cell mysql hwm_healthz MB healthz.note)" "—" "—"
      row "server VmHWM, peak of the whole run" "$(val_cell seed hwm MB)" "$(val_cell sqlite hwm MB)" \
        "$(val_cell mysql hwm MB)" "$(val_ratio sqlite hwm)" "$(val_ratio mysql hwm)"
      if [ "$BENCH_TASKS" != 0 ]; then
        row "server VmHWM, tasks scenarios (per table size)" "—" "$(hwm_sizes_cell sqlite)" "$(hwm_sizes_cell mysql)" "—" "—"
      fi
      row "MariaDB VmHWM" "$(val_cell seed db_hwm MB)" "n/a" "$(val_cell mysql db_hwm MB)" "—" "$(val_ratio mysql db_hwm)"
    fi
    echo
    echo "Cells: req/s; p50 and p99 latency of completed requests only (wrk 4 ignores requests still in flight at the end," \
      "so a starved scenario looks better than it is). Ratios: req/s ours ÷ seed, then p99 seed → ours."
    echo "⚠ = non-2xx responses, socket errors/timeouts or logins without a token (see the raw outputs)."
    echo
    echo "Targets (informational; $NPROC cores):"
    echo
    if [ "$BENCH_CORE" = 1 ]; then
      mapfile -t lines < <(per_backend t_healthz)
      target_line "GET /healthz ≥ 80,000 req/s" "${lines[@]}"
      mapfile -t lines < <(per_backend t_idle)
      target_line "idle RSS < 32 MB" "${lines[@]}"
      mapfile -t lines < <(per_backend t_hwm)
      target_line "server VmHWM under load < 64 MB" "${lines[@]}"
      if have sqlite.ran; then target_line "authed read ≥ 15× seed on SQLite" "$(t_authed_ratio sqlite 15)"; fi
      if have mysql.ran; then target_line "authed read ≥ 8× seed on MariaDB" "$(t_authed_ratio mysql 8)"; fi
      mapfile -t lines < <(per_backend t_storm)
      target_line "login storm: authed-read p99 < 10 ms" "${lines[@]}"
      mapfile -t lines < <(per_backend t_logins)
      target_line "logins/s ≥ 90% × $NPROC cores ÷ hash time" "${lines[@]}"
      mapfile -t lines < <(per_backend t_forgot)
      target_line "forgot-password medians within 1 ms (known vs unknown address)" "${lines[@]}"
      if [ "$BENCH_TASKS" != 0 ] && [ "$(task_sizes | wc -l)" -ge 2 ]; then
        mapfile -t lines < <(per_backend t_tasks_scale)
        target_line "tasks list p50 with $(size_label "$(task_sizes | tail -n1)") rows ≤ 2 × p50 with $(size_label "$(task_sizes | head -n1)")" "${lines[@]}"
      fi
      if [ "$BENCH_TASKS" != 0 ] && have sqlite.ran; then
        target_line "tasks list ≥ 10,000 req/s on SQLite" "$(t_tasks_rps sqlite)"
      fi
    fi
    if [ "$BENCH_FLOOD" != 0 ]; then
      mapfile -t lines < <(per_backend t_flood_rss)
      target_line "RSS growth < 16 MB" "${lines[@]}"
      mapfile -t lines < <(per_backend t_flood_reads)
      target_line "authed reads during body flood >= 80%" "${lines[@]}"
    fi
    if [ "$BENCH_NOTIFY" != 0 ]; then
      mapfile -t lines < <(per_backend t_notify_rss)
      target_line "server RSS with $(fmt_num "$NOTIFY_STREAMS") streams open ≤ 160 MB" "${lines[@]}"
      mapfile -t lines < <(per_backend t_notify_reads)
      target_line "authed reads with the streams open ≥ 80% of without" "${lines[@]}"
      mapfile -t lines < <(per_backend t_notify_latency)
      target_line "delivery latency to a stream on another instance p99 ≤ 1.5 s" "${lines[@]}"
      mapfile -t lines < <(per_backend t_notify_accept)
      target_line "announcement to every user: 202 < 1 s" "${lines[@]}"
      if have sqlite.ran; then target_line "announcement: every inbox row < 5 s on SQLite" "$(t_notify_complete sqlite)"; fi
      if have mysql.ran; then target_line "announcement: every inbox row on MariaDB (no target)" "$(t_notify_complete mysql | sed 's/^[✓✗] //')"; fi
      mapfile -t lines < <(per_backend t_notify_reminders)
      target_line "reminder pass over $(size_label "$NOTIFY_TASKS") tasks, nothing due < 20 ms" "${lines[@]}"
    fi
    if [ "$BENCH_DATA" != 0 ]; then
      mapfile -t lines < <(per_backend t_data_scale)
      target_line "activity page p50 with $(size_label "$DATA_EVENTS") events ≤ 2 × p50 with $(size_label "$DATA_EVENTS_SMALL")" "${lines[@]}"
      mapfile -t lines < <(per_backend t_data_export)
      target_line "export of $(size_label "$DATA_EXPORT_TASKS") tasks: server RSS growth < 32 MB" "${lines[@]}"
    fi
    if [ "$BENCH_PUSH" != 0 ]; then
      mapfile -t lines < <(per_backend t_push_rate)
      target_line "Web Push ≥ 1,000 pushes/s" "${lines[@]}"
      mapfile -t lines < <(per_backend t_push_reads)
      target_line "authed reads while pushing > 80% of alone" "${lines[@]}"
    fi
    if [ "${#PROBLEMS[@]}" -gt 0 ]; then
      echo
      echo "Problems (the run is incomplete):"
      echo
      printf -- '- %s\n' "${PROBLEMS[@]}"
    fi
  } | tee "$OUT/summary.md"
}

# --- main ------------------------------------------------------------------------------
main() {
  local tool b
  for tool in wrk curl awk; do command -v "$tool" >/dev/null || { echo "bench.sh: $tool is required" >&2; exit 1; }; done
  trap cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  mkdir -p "$OUT"
  TMP="$(mktemp -d /tmp/ikigai-bench.XXXXXX)"
  log "raw output in bench-results/$TS, temp dir $TMP"

  if [ -f "$SEED_DIR/bench.sh" ]; then
    SEED_DIR="$(cd "$SEED_DIR" && pwd)"
  else
    broken "seed: $SEED_DIR/bench.sh not found (set SEED_DIR); the seed and the account scenarios cannot run"
    SEED_DIR=""
  fi
  if [ "$BENCH_SKIP_SEED" = 1 ]; then
    log "seed: skipped (BENCH_SKIP_SEED=1)"
  elif [ -z "$SEED_DIR" ]; then
    :
  elif ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    broken "seed: node/npm not found"
  else
    run_seed
  fi

  if [ -n "$BENCH_BACKENDS" ] && [ -x "$IKIGAI_BIN" ]; then
    OUR_BIN="$TMP/ikigai"
    cp "$IKIGAI_BIN" "$OUR_BIN"
    OUR_BIN_INFO="built $(date -u -r "$IKIGAI_BIN" +%Y-%m-%dT%H:%M:%SZ), sha256 $(sha256sum "$OUR_BIN" | cut -c1-12)"
  fi
  for b in $BENCH_BACKENDS; do
    case "$b" in
      sqlite)
        [ "$BENCH_CORE" = 0 ] || run_ours sqlite
        [ "$BENCH_TASKS" = 0 ] || run_tasks sqlite
        [ "$BENCH_FLOOD" = 0 ] || run_flood sqlite
        [ "$BENCH_NOTIFY" = 0 ] || run_notify sqlite
        [ "$BENCH_DATA" = 0 ] || run_data sqlite
        [ "$BENCH_PUSH" = 0 ] || run_push sqlite ;;
      mysql | mariadb)
        [ "$BENCH_CORE" = 0 ] || run_ours mysql
        [ "$BENCH_TASKS" = 0 ] || run_tasks mysql
        [ "$BENCH_FLOOD" = 0 ] || run_flood mysql
        [ "$BENCH_NOTIFY" = 0 ] || run_notify mysql
        [ "$BENCH_DATA" = 0 ] || run_data mysql
        [ "$BENCH_PUSH" = 0 ] || run_push mysql
        stop_our_mariadb ;;
      *) broken "unknown back end '$b' in BENCH_BACKENDS (sqlite, mysql)" ;;
    esac
  done
  [ "$BENCH_CLUSTER" = 0 ] || run_cluster

  echo >&2
  report
  [ "$BROKEN" = 0 ] || { log "something was broken (see the ERROR lines above); exit 1"; exit 1; }
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then main "$@"; fi
