# Shared by the bench scripts (sourced, not run): the median of figures, a simulated link
# (bench/link) in front of a throwaway cluster, and counting what a client sends through it. The
# link functions need $work (a scratch folder).

# The median of the numbers on stdin, one per line.
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# Starts bench/link on a free loopback port below the ephemeral range, relaying to 127.0.0.1:PORT
# with RTT_MS of delay; prints "LISTEN_PORT PID".
start_link() {  # PORT RTT_MS STATS_FILE
  local p pid
  for _ in $(seq 1 20); do
    p=$((20000 + RANDOM % 12000))
    # Its output goes elsewhere: the caller reads this function's output to its end.
    bench/link "$p" "$1" "$2" "$3" >/dev/null 2>>"$work/link.log" &
    pid=$!
    for _ in $(seq 1 50); do
      if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p $pid"; return; fi
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill "$pid" 2>/dev/null || true
  done
  echo "no free port for bench/link" >&2
  return 1
}

# The superuser's DSN through a link's port.
dsn_via() { echo "host=127.0.0.1 port=$1 user=postgres dbname=postgres sslmode=disable"; }

# Runs COMMAND DSN once through a link of its own (no delay) and prints "connections/db round-trips/db"
# over N databases: counted by the relay, not inferred.
count_per_database() {  # PORT N COMMAND...
  local port=$1 n=$2 lp lpid stats="$work/count.$RANDOM.stats" started
  shift 2
  started=$(start_link "$port" 0 "$stats")
  read -r lp lpid <<<"$started"
  if ! "$@" "$(dsn_via "$lp")" >"$work/count.log" 2>&1; then
    echo "bench: failed: $*" >&2
    tail -20 "$work/count.log" >&2
    kill "$lpid"
    return 1
  fi
  sleep 0.3
  kill "$lpid"
  wait "$lpid" 2>/dev/null || true
  awk -v n="$n" '{v[$1]=$2} END {printf "%.1f %.1f", v["connections"]/n, v["round_trips"]/n}' "$stats"
}
