#!/usr/bin/env bash
# The standard load suite (make bench): builds the binaries, starts a fresh
# NameServer and broker on free loopback ports with a temporary store, runs
# bin/mqbench through the suite below and writes $RESULTS_DIR/latest.json
# (machine facts and one object per run) and latest.md (a table).
#
#   BENCH_DURATION=60s   length of each run (e.g. BENCH_DURATION=5s for a smoke run)
#   BIN=bin              where the binaries are built
#   RESULTS_DIR=benchmarks/results
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
BIN=${BIN:-$repo/bin}
RESULTS_DIR=${RESULTS_DIR:-$repo/benchmarks/results}
DURATION=${BENCH_DURATION:-60s}
GO=${GO:-go}

(cd "$repo" && $GO build -o "$BIN/" ./cmd/mqnamesrv ./cmd/mqbroker ./benchmarks/mqbench)
mkdir -p "$RESULTS_DIR"
work=$(mktemp -d)
pids=()
cleanup() {
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT INT TERM

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# free_port prints a port that is free together with port-2 (the broker's
# fast channel) and port+1 (its HA port).
free_port() {
	local p
	for _ in $(seq 100); do
		p=$((20000 + RANDOM % 30000))
		if port_free "$p" && port_free $((p - 2)) && port_free $((p + 1)); then
			echo "$p"
			return
		fi
	done
	echo "no free port" >&2
	return 1
}

# wait_port waits (10 s at most) until something listens on port $1.
wait_port() {
	for _ in $(seq 100); do
		port_free "$1" || return 0
		sleep 0.1
	done
	echo "nothing listens on port $1" >&2
	return 1
}

ns_port=$(free_port)
cat >"$work/namesrv.properties" <<PROPS
listenPort=$ns_port
bindAddress=127.0.0.1
kvConfigPath=$work/namesrv/kvConfig.json
PROPS
"$BIN/mqnamesrv" -c "$work/namesrv.properties" >"$work/namesrv.log" 2>&1 &
pids+=($!)
wait_port "$ns_port"
ns=127.0.0.1:$ns_port

broker_pid=
# start_broker FLUSH_TYPE: a broker with a new store under $work.
start_broker() {
	local port store
	port=$(free_port)
	store="$work/store-$1"
	cat >"$work/broker-$1.properties" <<PROPS
brokerClusterName=BenchCluster
brokerName=bench-$1
brokerId=0
listenPort=$port
bindAddress=127.0.0.1
brokerIP1=127.0.0.1
storePathRootDir=$store
flushDiskType=$1
PROPS
	"$BIN/mqbroker" -c "$work/broker-$1.properties" -n "$ns" >"$work/broker-$1.log" 2>&1 &
	broker_pid=$!
	pids+=("$broker_pid")
	wait_port "$port"
}

stop_broker() {
	kill "$broker_pid"
	wait "$broker_pid" 2>/dev/null || true
}

runs=()
failed=0
# bench NAME COMMAND FLAGS...: one mqbench run; its JSON gets a "name" key.
bench() {
	local name=$1 command=$2
	shift 2
	echo "== $name: mqbench $command $*" >&2
	if ! "$BIN/mqbench" "$command" -n "$ns" --duration "$DURATION" --broker-pid "$broker_pid" --json "$work/$name.json" "$@"; then
		failed=1
	fi
	if [[ -s $work/$name.json ]]; then
		sed -i "1s/^{/{\n  \"name\": \"$name\",/" "$work/$name.json"
		runs+=("$name")
	fi
}

start_broker ASYNC_FLUSH
bench async-flush-128B produce -t Bench128 -s 128 -c 4 -w 64 --mode async
bench batch-64x128B produce -t BenchBatch -s 128 -c 4 -w 8 --mode async --batch 64
bench async-flush-1KiB produce -t Bench1K -s 1024 -c 4 -w 64 --mode async
bench consume-page-cache consume -t Bench128 -c 4 --from first --drain
bench e2e-50k e2e -t BenchE2E -s 128 -c 4 -w 64 --mode async --rate 50000
stop_broker
start_broker SYNC_FLUSH
bench sync-flush-128B produce -t BenchSync -s 128 -c 4 -w 64 --mode async
stop_broker

# field FILE KEY: one value of an mqbench JSON file (one key per line).
field() { sed -n "s/^  \"$2\": \"\{0,1\}\([^\",]*\)\"\{0,1\},\{0,1\}$/\1/p" "$1"; }

commit=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)
gover=$($GO env GOVERSION)
date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
{
	printf '{\n"machine": {"nproc": %s, "go_version": "%s", "git_commit": "%s", "date": "%s", "duration": "%s"},\n"runs": [\n' \
		"$(nproc)" "$gover" "$commit" "$date" "$DURATION"
	sep=
	for name in "${runs[@]}"; do
		printf '%s' "$sep"
		cat "$work/$name.json"
		sep=,
	done
	printf ']\n}\n'
} >"$RESULTS_DIR/latest.json"
{
	echo "# mqbench results"
	echo
	echo "$date, commit $commit, $(nproc) cores, $gover, $DURATION per run. Latencies in µs (produce: send round trip; consume: receipt − store time; e2e: publish to deliver)."
	echo
	echo "| run | msgs/s | MB/s | p50 | p99 | p999 | sent | received | errors | broker RSS MiB | GC pause p99 µs |"
	echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
	for name in "${runs[@]}"; do
		f=$work/$name.json
		rss=$(field "$f" broker_rss_bytes)
		printf '| %s | %.0f | %.2f | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$name" \
			"$(field "$f" msgs_per_s)" "$(field "$f" mb_per_s)" "$(field "$f" p50_us)" "$(field "$f" p99_us)" \
			"$(field "$f" p999_us)" "$(field "$f" sent)" "$(field "$f" received)" "$(field "$f" errors)" \
			"$(( ${rss:-0} / 1048576 ))" "$(field "$f" broker_gc_pause_p99_us)"
	done
} >"$RESULTS_DIR/latest.md"
echo "wrote $RESULTS_DIR/latest.json and $RESULTS_DIR/latest.md" >&2
exit "$failed"
