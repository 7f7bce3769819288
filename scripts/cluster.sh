#!/usr/bin/env bash
# The reference scale-out deployment on one machine (DESIGN.md "Scaling out"): three MariaDB
# Galera nodes, two `ikigai serve` instances (each on its own node) and HAProxy in front, all on
# free loopback ports, from one temporary folder. `make cluster` / `make cluster-stop` use it; so
# does the cluster integration test (tests/integration/cluster_test.cpp), which also uses the
# node and instance commands to kill and restart parts.
#
# Usage: scripts/cluster.sh start|stop|status|env
#        scripts/cluster.sh kill-node N|start-node N|kill-instance N|start-instance N
#
# Environment:
#   CLUSTER_DIR        the folder to use (created; must not hold a running cluster). Default: a new
#                      mktemp folder, remembered in build/cluster.dir for stop and status.
#   IKIGAI_BIN         the binary (default build/release/ikigai).
#   CLUSTER_OWNER_PID  when set, the cluster stops itself once that process is gone (tests).
#   IKIGAI_*           passed on to both instances (e.g. IKIGAI_SMTP_URL, IKIGAI_RATE_LIMITS).
#
# Only the processes this script started are ever signalled: their pids are in $CLUSTER_DIR/state
# and a pid is signalled only while its command line still names $CLUSTER_DIR.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
pointer="$repo/build/cluster.dir"
nodes=(1 2 3)
instances=(1 2)

die() { echo "cluster.sh: $*" >&2; exit 1; }

cluster_dir() {
  if [ -n "${CLUSTER_DIR:-}" ]; then echo "$CLUSTER_DIR"; return; fi
  [ -f "$pointer" ] && cat "$pointer" && return
  return 1
}

# N free loopback ports, all held open until every one is chosen (so none repeats).
free_ports() {
  python3 - "$1" <<'EOF'
import socket, sys
held = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    held.append(s)
print(" ".join(str(s.getsockname()[1]) for s in held))
EOF
}

load_state() {
  dir=$(cluster_dir) || die "no cluster (no CLUSTER_DIR and no $pointer)"
  [ -f "$dir/state" ] || die "no state file in $dir"
  # shellcheck disable=SC1091
  . "$dir/state"
}

set_state() {  # KEY VALUE: replaces or appends KEY=VALUE in the state file
  local key=$1 value=$2
  if grep -q "^$key=" "$dir/state" 2>/dev/null; then
    sed -i "s|^$key=.*|$key=$value|" "$dir/state"
  else
    echo "$key=$value" >>"$dir/state"
  fi
  printf -v "$key" '%s' "$value"
}

# True while pid runs and its command line names the cluster folder (so a reused pid is left alone).
ours() {
  local pid=$1
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF "$dir"
}

stop_pid() {  # PID SIGNAL TIMEOUT_S
  local pid=$1 sig=$2 timeout=$3
  ours "$pid" || return 0
  kill "-$sig" "$pid" 2>/dev/null || return 0
  local waited=0
  while ours "$pid"; do
    # A child of this shell must be reaped; others (started by an earlier call) just vanish.
    wait "$pid" 2>/dev/null || true
    sleep 0.1
    waited=$((waited + 1))
    if [ $waited -ge $((timeout * 10)) ]; then
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
  done
}

sql() {  # NODE SQL...: runs as root over the node's socket
  local n=$1; shift
  mariadb --no-defaults -S "$dir/node$n/sock" -u root -N -B -e "$*"
}

node_state() { sql "$1" "SHOW STATUS LIKE 'wsrep_local_state_comment'" 2>/dev/null | awk '{print $2}'; }

wait_synced() {  # NODE TIMEOUT_S
  local n=$1 timeout=$2 i
  for ((i = 0; i < timeout * 5; i++)); do
    [ "$(node_state "$n")" = "Synced" ] && return 0
    local pid_var="NODE${n}_PID"
    ours "${!pid_var:-}" || { tail -30 "$dir/node$n/error.log" >&2; die "node $n exited"; }
    sleep 0.2
  done
  tail -30 "$dir/node$n/error.log" >&2
  die "node $n not synced after ${timeout}s"
}

write_node_config() {
  local n=$1
  local port_var="NODE${n}_PORT" gport_var="NODE${n}_GALERA_PORT" ist_var="NODE${n}_IST_PORT" sst_var="NODE${n}_SST_PORT"
  local members="" m g
  for m in "${nodes[@]}"; do
    g="NODE${m}_GALERA_PORT"
    members+="${members:+,}127.0.0.1:${!g}"
  done
  cat >"$dir/node$n/my.cnf" <<EOF
# Galera node $n of the ikigai test cluster (see docs/deploy.md for the production form).
[mariadbd]
datadir=$dir/node$n/data
socket=$dir/node$n/sock
pid-file=$dir/node$n/mariadbd.pid
log-error=$dir/node$n/error.log
port=${!port_var}
bind-address=127.0.0.1
skip-name-resolve
character-set-server=utf8mb4
collation-server=utf8mb4_general_ci
max-connections=300
innodb-buffer-pool-size=64M
innodb-log-file-size=32M
performance-schema=OFF
# Galera needs row-based replication, InnoDB and interleaved auto-increment locks.
binlog-format=ROW
default-storage-engine=InnoDB
innodb-autoinc-lock-mode=2
# A commit is durable once certified by the cluster; each node flushes its log once a second.
innodb-flush-log-at-trx-commit=2
wsrep-on=ON
wsrep-provider=/usr/lib/galera/libgalera_smm.so
wsrep-cluster-name=ikigai
wsrep-cluster-address=gcomm://$members
wsrep-node-name=node$n
wsrep-node-address=127.0.0.1:${!gport_var}
wsrep-sst-method=rsync
wsrep-sst-receive-address=127.0.0.1:${!sst_var}
# A node that stops answering is evicted after 1 to 1.5 s (the defaults wait 5 to 15 s), so the
# others commit again quickly; the gcache keeps enough writes for a restarted node to catch up by
# IST instead of a full state transfer.
wsrep-provider-options="gmcast.listen_addr=tcp://127.0.0.1:${!gport_var};ist.recv_addr=127.0.0.1:${!ist_var};gcache.size=128M;evs.keepalive_period=PT0.25S;evs.inactive_check_period=PT0.25S;evs.join_retrans_period=PT0.3S;evs.suspect_timeout=PT1S;evs.inactive_timeout=PT1.5S;evs.install_timeout=PT1.5S"
EOF
}

run_as_mysql() { [ "$(id -u)" -eq 0 ] && echo "--user=mysql"; return 0; }

start_node() {  # NODE [bootstrap]
  local n=$1 bootstrap=${2:-}
  local args=("--defaults-file=$dir/node$n/my.cnf")
  local user_arg; user_arg=$(run_as_mysql)
  [ -n "$user_arg" ] && args+=("$user_arg")
  if [ -n "$bootstrap" ]; then
    args+=(--wsrep-new-cluster)
  elif [ -f "$dir/node$n/data/grastate.dat" ] && grep -q '^seqno: *-1' "$dir/node$n/data/grastate.dat"; then
    # Killed (not shut down): recover the last committed position from InnoDB, so the node asks
    # for the writes it missed (IST) rather than a whole copy (SST).
    mariadbd "${args[@]}" --wsrep-recover --log-error="$dir/node$n/recover.log" >/dev/null 2>&1 || true
    local position
    position=$(grep -o 'Recovered position: [^ ]*' "$dir/node$n/recover.log" | tail -1 | awk '{print $3}')
    [ -n "$position" ] && args+=("--wsrep-start-position=$position")
  fi
  mariadbd "${args[@]}" >>"$dir/node$n/stdout.log" 2>&1 &
  set_state "NODE${n}_PID" $!
}

start_instance() {  # N [repick]: with repick, a port taken meanwhile by someone else is replaced
  local n=$1 repick=${2:-} attempt
  for attempt in 1 2 3; do
    try_instance "$n" && return 0
    if [ -n "$repick" ] && grep -q "Address already in use" "$dir/instance$n.log"; then
      set_state "INSTANCE${n}_PORT" "$(free_ports 1)"
      continue
    fi
    break
  done
  tail -20 "$dir/instance$n.log" >&2
  die "instance $n did not start listening"
}

try_instance() {
  local n=$1
  local node=$n  # instance N talks to node N
  local port_var="INSTANCE${n}_PORT" db_port_var="NODE${node}_PORT"
  local env_args=()
  while IFS='=' read -r name value; do
    case "$name" in IKIGAI_*) env_args+=("$name=$value") ;; esac
  done < <(env)
  env "${env_args[@]}" \
    IKIGAI_JWT_SECRET="$JWT_SECRET" \
    IKIGAI_TRUSTED_PROXIES=127.0.0.1/32 \
    IKIGAI_DATABASE_URL="mysql://ikigai:$DB_PASSWORD@127.0.0.1:${!db_port_var}/ikigai" \
    "$IKIGAI_BIN" serve --listen "127.0.0.1:${!port_var}" --data-dir "$dir/ikigai-data" \
    >"$dir/instance$n.stdout" 2>>"$dir/instance$n.log" &
  set_state "INSTANCE${n}_PID" $!
  local i pid_var="INSTANCE${n}_PID"
  for ((i = 0; i < 300; i++)); do
    grep -q "listening on" "$dir/instance$n.stdout" 2>/dev/null && return 0
    ours "${!pid_var}" || return 1
    sleep 0.1
  done
  return 1
}

write_haproxy_config() {
  local body='{"type":"urn:ikigai:problem:unavailable","title":"Service unavailable","status":503,"detail":"No instance could answer. Try again shortly.","code":"unavailable"}'
  local code
  for code in 502 503 504; do
    # Whatever HAProxy itself answers (no instance up, one that died mid-request) is a 503 with
    # Retry-After in the API's problem format, like an instance's own "try again".
    printf 'HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/problem+json\r\nCache-Control: no-store\r\nRetry-After: 1\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s' \
      "${#body}" "$body" >"$dir/haproxy-$code.http"
  done
  cat >"$dir/haproxy.cfg" <<EOF
# HAProxy in front of the ikigai instances (see docs/deploy.md).
global
  maxconn 4000
  log stderr format raw local0 notice

defaults
  mode http
  log global
  timeout connect 2s
  timeout client 65s
  timeout server 65s
  timeout tunnel 1h         # notification streams (SSE)
  timeout http-keep-alive 10s
  # A connection that fails goes to another instance; a request an instance has started on is
  # never sent twice (it may have written), so only connection failures are retried.
  retries 3
  option redispatch 1
  retry-on conn-failure
  errorfile 502 $dir/haproxy-502.http
  errorfile 503 $dir/haproxy-503.http
  errorfile 504 $dir/haproxy-504.http

frontend ikigai
  bind 127.0.0.1:$PROXY_PORT
  option forwardfor         # X-Forwarded-For: the instances trust 127.0.0.1 (IKIGAI_TRUSTED_PROXIES)
  default_backend instances

backend instances
  balance roundrobin
  # /readyz answers 200 only while the instance reaches its database node and the schema is
  # current; 503 while draining or when the node is gone. Two failed checks 500 ms apart take an
  # instance out; two good ones bring it back.
  option httpchk GET /readyz
  http-check expect status 200
  default-server inter 500ms fastinter 250ms downinter 500ms fall 2 rise 2 on-marked-down shutdown-sessions
EOF
  local n port_var
  for n in "${instances[@]}"; do
    port_var="INSTANCE${n}_PORT"
    echo "  server instance$n 127.0.0.1:${!port_var} check" >>"$dir/haproxy.cfg"
  done
}

cmd_start() {
  command -v mariadbd >/dev/null || die "mariadbd missing (bash scripts/deps.sh test)"
  [ -f /usr/lib/galera/libgalera_smm.so ] || die "galera-4 missing (bash scripts/deps.sh test)"
  command -v haproxy >/dev/null || die "haproxy missing (bash scripts/deps.sh test)"
  command -v rsync >/dev/null || die "rsync missing (bash scripts/deps.sh test)"
  IKIGAI_BIN=${IKIGAI_BIN:-$repo/build/release/ikigai}
  [ -x "$IKIGAI_BIN" ] || die "no ikigai binary at $IKIGAI_BIN (make build)"
  if [ -n "${CLUSTER_DIR:-}" ]; then
    dir=$CLUSTER_DIR
    mkdir -p "$dir"
  else
    if [ -f "$pointer" ] && [ -f "$(cat "$pointer")/state" ]; then
      die "a cluster is already running from $(cat "$pointer") (make cluster-stop)"
    fi
    dir=$(mktemp -d "${TMPDIR:-/tmp}/ikigai-cluster.XXXXXX")
    mkdir -p "$(dirname "$pointer")"
    echo "$dir" >"$pointer"
  fi
  [ -f "$dir/state" ] && die "$dir already holds a cluster"
  dir=$(cd "$dir" && pwd)
  chmod 755 "$dir"  # the mysql user walks into its node folders
  : >"$dir/state"
  set_state CLUSTER_DIR "$dir"
  set_state IKIGAI_BIN "$IKIGAI_BIN"
  set_state DB_PASSWORD "$(python3 -c 'import secrets; print(secrets.token_hex(16))')"
  set_state JWT_SECRET "$(python3 -c 'import secrets; print(secrets.token_hex(32))')"
  read -r -a ports <<<"$(free_ports 15)"
  local i=0 n
  for n in "${nodes[@]}"; do
    set_state "NODE${n}_PORT" "${ports[i]}"
    set_state "NODE${n}_GALERA_PORT" "${ports[i + 1]}"
    set_state "NODE${n}_IST_PORT" "${ports[i + 2]}"
    set_state "NODE${n}_SST_PORT" "${ports[i + 3]}"
    i=$((i + 4))
  done
  set_state INSTANCE1_PORT "${ports[12]}"
  set_state INSTANCE2_PORT "${ports[13]}"
  set_state PROXY_PORT "${ports[14]}"
  if [ -n "${CLUSTER_OWNER_PID:-}" ]; then
    # Nothing outlives its owner (a test that crashed): the watchdog stops the cluster.
    # Its command line names the folder, so `stop` may end it like the other pids.
    bash -c 'while kill -0 "$1" 2>/dev/null; do sleep 1; done; CLUSTER_DIR="$2" WATCHDOG=1 bash "$3" stop' \
      cluster-watchdog "$CLUSTER_OWNER_PID" "$dir" "$repo/scripts/cluster.sh" </dev/null >/dev/null 2>&1 &
    set_state WATCHDOG_PID $!
    disown || true
  fi

  local started=$SECONDS
  for n in "${nodes[@]}"; do
    mkdir -p "$dir/node$n/data"
    write_node_config "$n"
    [ "$(id -u)" -eq 0 ] && chown -R mysql:mysql "$dir/node$n"
  done
  if [ "$(id -u)" -eq 0 ] && ! runuser -u mysql -- test -w "$dir/node1/data"; then
    die "the mysql user cannot reach $dir (a parent folder is private): use a CLUSTER_DIR others may enter"
  fi
  # Only the first node gets a fresh data folder; the others receive a copy by state transfer.
  mariadb-install-db --defaults-file="$dir/node1/my.cnf" $(run_as_mysql) --auth-root-authentication-method=normal \
    --skip-test-db --wsrep-on=OFF >"$dir/node1/install.log" 2>&1 || { cat "$dir/node1/install.log" >&2; die "mariadb-install-db failed"; }
  start_node 1 bootstrap
  wait_synced 1 60
  sql 1 "CREATE DATABASE ikigai CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
         CREATE USER 'ikigai'@'127.0.0.1' IDENTIFIED BY '$DB_PASSWORD';
         GRANT ALL ON ikigai.* TO 'ikigai'@'127.0.0.1';"
  start_node 2
  wait_synced 2 120
  start_node 3
  wait_synced 3 120
  local galera_seconds=$((SECONDS - started))
  mkdir -p "$dir/ikigai-data"
  for n in "${instances[@]}"; do start_instance "$n" repick; done
  write_haproxy_config
  haproxy -db -f "$dir/haproxy.cfg" >"$dir/haproxy.log" 2>&1 &
  set_state PROXY_PID $!
  for ((i = 0; i < 100; i++)); do
    curl -fsS -o /dev/null "http://127.0.0.1:$PROXY_PORT/readyz" 2>/dev/null && break
    sleep 0.1
  done
  curl -fsS -o /dev/null "http://127.0.0.1:$PROXY_PORT/readyz" || die "HAProxy does not answer (see $dir/haproxy.log)"
  echo "Galera cluster synced in ${galera_seconds}s (3 nodes on ports $NODE1_PORT $NODE2_PORT $NODE3_PORT)"
  echo "instances on http://127.0.0.1:$INSTANCE1_PORT (node 1) and http://127.0.0.1:$INSTANCE2_PORT (node 2)"
  echo "folder $dir"
  echo "URL http://127.0.0.1:$PROXY_PORT"
}

cmd_stop() {
  load_state
  if [ -z "${WATCHDOG:-}" ]; then stop_pid "${WATCHDOG_PID:-}" TERM 5; fi
  stop_pid "${PROXY_PID:-}" TERM 10
  local n pid_var
  for n in "${instances[@]}"; do pid_var="INSTANCE${n}_PID"; stop_pid "${!pid_var:-}" TERM 20; done
  for n in 3 2 1; do pid_var="NODE${n}_PID"; stop_pid "${!pid_var:-}" TERM 60; done
  rm -rf "$dir"
  if [ -z "${CLUSTER_DIR_GIVEN:-}" ] && [ -f "$pointer" ] && [ "$(cat "$pointer")" = "$dir" ]; then rm -f "$pointer"; fi
  echo "cluster stopped"
}

cmd_status() {
  load_state
  local n pid_var up=0
  for n in "${nodes[@]}"; do
    pid_var="NODE${n}_PID"
    if ours "${!pid_var:-}"; then
      echo "node$n port $(eval echo \$NODE${n}_PORT): $(sql "$n" "SHOW STATUS WHERE Variable_name IN ('wsrep_local_state_comment','wsrep_cluster_size','wsrep_cluster_status')" 2>/dev/null | awk '{printf "%s=%s ", $1, $2}')"
      up=$((up + 1))
    else
      echo "node$n: down"
    fi
  done
  for n in "${instances[@]}"; do
    pid_var="INSTANCE${n}_PID"
    local port_var="INSTANCE${n}_PORT"
    if ours "${!pid_var:-}"; then
      echo "instance$n http://127.0.0.1:${!port_var}: readyz $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:${!port_var}/readyz")"
    else
      echo "instance$n: down"
    fi
  done
  if ours "${PROXY_PID:-}"; then echo "haproxy http://127.0.0.1:$PROXY_PORT"; else echo "haproxy: down"; fi
}

[ -n "${CLUSTER_DIR:-}" ] && CLUSTER_DIR_GIVEN=1
case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  env) load_state; cat "$dir/state" ;;
  kill-node) load_state; pid_var="NODE${2:?node}_PID"; stop_pid "${!pid_var:-}" KILL 10 ;;
  start-node) load_state; start_node "${2:?node}"; wait_synced "$2" 120 ;;
  kill-instance) load_state; pid_var="INSTANCE${2:?instance}_PID"; stop_pid "${!pid_var:-}" KILL 10 ;;
  start-instance) load_state; start_instance "${2:?instance}" ;;
  *) die "usage: cluster.sh start|stop|status|env|kill-node N|start-node N|kill-instance N|start-instance N" ;;
esac
