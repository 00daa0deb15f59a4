# Shared helpers for the services/* launchers (sourced, not executed).
# Layout: $VAR_DIR/services/<name>/ holds each service's data, log and pidfile.

SERVICES_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VAR_DIR="${VAR_DIR:-$SERVICES_DIR/../var}"
mkdir -p "$VAR_DIR/services"
VAR_DIR="$(cd "$VAR_DIR" && pwd)"   # absolute, normalised
VENV="${VENV:-$(cd "$SERVICES_DIR/.." && pwd)/.venv}"

# Ports (shared so that services/up writes the same values into the env file).
PG_PORT="${PG_PORT:-54329}"
REDIS_PORT="${REDIS_PORT:-63799}"
S3_PORT="${S3_PORT:-9555}"
OPENSEARCH_PORT="${OPENSEARCH_PORT:-9250}"
S3_BUCKET="${S3_BUCKET:-lighthouse-test}"

say() { echo "[$NAME] $*"; }
die() { echo "[$NAME] ERROR: $*" >&2; exit 1; }

# alive PID: the process exists and is not a zombie (exited but not yet reaped).
alive() { kill -0 "$1" 2>/dev/null && [[ "$(ps -o stat= -p "$1" 2>/dev/null)" != Z* ]]; }

# pid_alive PIDFILE: true if the pidfile names a live process.
pid_alive() {
  local pid
  [[ -s "$1" ]] || return 1
  pid="$(head -n1 "$1")"
  [[ "$pid" =~ ^[0-9]+$ ]] && alive "$pid"
}

# show_log LOGFILE: print the end of a log after a failure (a script may redefine it).
show_log() { echo "--- last lines of $1:" >&2; tail -n 40 "$1" >&2 || true; }

# wait_ready TIMEOUT LOGFILE CMD...: poll CMD every 0.5 s; on timeout print the
# log tail and fail. Also fails early if the pidfile in $PIDFILE dies.
wait_ready() {
  local timeout="$1" log="$2"; shift 2
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    if [[ -n "${PIDFILE:-}" ]] && ! pid_alive "$PIDFILE"; then
      echo "[$NAME] ERROR: process exited before it became ready" >&2
      show_log "$log"; exit 1
    fi
    if ((SECONDS >= deadline)); then
      echo "[$NAME] ERROR: not ready after ${timeout}s" >&2
      show_log "$log"; exit 1
    fi
    sleep 0.5
  done
}

# stop_pid PIDFILE [SIGNAL] [TIMEOUT]: send SIGNAL (default TERM), wait up to
# TIMEOUT seconds (default 30), then SIGKILL. Succeeds if nothing was running.
stop_pid() {
  local pidfile="$1" sig="${2:-TERM}" timeout="${3:-30}" pid i
  if ! pid_alive "$pidfile"; then
    say "not running"
    rm -f "$pidfile"
    return 0
  fi
  pid="$(head -n1 "$pidfile")"
  kill -"$sig" "$pid" 2>/dev/null || true
  for ((i = 0; i < timeout * 10; i++)); do
    alive "$pid" || { say "stopped (pid $pid)"; rm -f "$pidfile"; return 0; }
    sleep 0.1
  done
  say "still running after ${timeout}s, sending SIGKILL to $pid"
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$pidfile"
}
