#!/usr/bin/env bash
# The standard load suite (make bench): builds the binaries, starts a fresh
# NameServer and broker on free loopback ports with a temporary store, runs
# bin/mqbench through the suite below and writes $RESULTS_DIR/latest.json
# (machine facts and one object per run) and latest.md (a table).
#
#   BENCH_DURATION=60s   length of each run (e.g. BENCH_DURATION=5s for a smoke run)
#   BIN=bin              where the binaries are built
#   RESULTS_DIR=benchmarks/results
#
# Besides the throughput runs, three runs check the scale and recovery
# targets (issue 4). Their sizes shrink for smoke runs (BENCH_DURATION under
# 30s), so that BENCH_DURATION=5s stays short; each can be set:
#   SCALE_TOPICS=1000    scale run: the 128 B async run over this many
#                        topics of SCALE_QUEUES=10 queues (10,000 queues)
#   MANY_TOPICS=100000   registration run: a broker whose topics.json holds
#                        this many topics starts, registers and serves
#   RECOVERY_MIB=4096    recovery run: CommitLog filled with batched 1 KiB
#                        sends, kill -9, restart, time until a send succeeds
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
BIN=${BIN:-$repo/bin}
RESULTS_DIR=${RESULTS_DIR:-$repo/benchmarks/results}
DURATION=${BENCH_DURATION:-60s}
GO=${GO:-go}

# seconds DURATION: whole seconds of a Go duration such as 5s, 90s or 2m.
seconds() {
	case $1 in
	*ms) echo 0 ;;
	*m) echo $((${1%m} * 60)) ;;
	*s) echo "${1%s}" ;;
	*) echo "$1" ;;
	esac
}
if (($(seconds "$DURATION") >= 30)); then
	SCALE_TOPICS=${SCALE_TOPICS:-1000} MANY_TOPICS=${MANY_TOPICS:-100000} RECOVERY_MIB=${RECOVERY_MIB:-4096}
else
	SCALE_TOPICS=${SCALE_TOPICS:-100} MANY_TOPICS=${MANY_TOPICS:-20000} RECOVERY_MIB=${RECOVERY_MIB:-256}
fi
SCALE_QUEUES=${SCALE_QUEUES:-10}

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
broker_port=
# start_broker NAME FLUSH_TYPE: a broker with a new store under $work.
start_broker() {
	write_properties "$1" "$2"
	exec_broker "$1"
	wait_port "$broker_port"
}

# write_properties NAME FLUSH_TYPE: the properties of broker NAME, with its
# store in $work/store-NAME, on a free port (broker_port).
write_properties() {
	broker_port=$(free_port)
	cat >"$work/broker-$1.properties" <<PROPS
brokerClusterName=BenchCluster
brokerName=bench-$1
brokerId=0
listenPort=$broker_port
bindAddress=127.0.0.1
brokerIP1=127.0.0.1
storePathRootDir=$work/store-$1
flushDiskType=$2
PROPS
}

# exec_broker NAME: start the broker of NAME's properties (again), without
# waiting for it to listen.
exec_broker() {
	"$BIN/mqbroker" -c "$work/broker-$1.properties" -n "$ns" >>"$work/broker-$1.log" 2>&1 &
	broker_pid=$!
	pids+=("$broker_pid")
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

start_broker async ASYNC_FLUSH
bench async-flush-128B produce -t Bench128 -s 128 -c 4 -w 64 --mode async
bench batch-64x128B produce -t BenchBatch -s 128 -c 4 -w 8 --mode async --batch 64
bench async-flush-1KiB produce -t Bench1K -s 1024 -c 4 -w 64 --mode async
bench consume-page-cache consume -t Bench128 -c 4 --from first --drain
bench e2e-50k e2e -t BenchE2E -s 128 -c 4 -w 64 --mode async --rate 50000
# Scale: the first run again over SCALE_TOPICS × SCALE_QUEUES queues, then
# drained. The topics are created and every queue gets its first messages
# (its consume-queue file) before the timed part: the target is the steady
# state of a broker with that many queues.
echo "== scale warm-up: creating $SCALE_TOPICS topics of $SCALE_QUEUES queues" >&2
"$BIN/mqbench" produce -n "$ns" -t BenchScale --topics "$SCALE_TOPICS" -q "$SCALE_QUEUES" -s 128 -c 4 -w 64 --mode async \
	--messages $((SCALE_TOPICS * SCALE_QUEUES * 2)) --duration 10m >/dev/null 2>&1 || failed=1
bench "scale-${SCALE_TOPICS}x${SCALE_QUEUES}-128B" produce -t BenchScale --topics "$SCALE_TOPICS" -q "$SCALE_QUEUES" \
	-s 128 -c 4 -w 64 --mode async
bench "scale-${SCALE_TOPICS}x${SCALE_QUEUES}-consume" consume -t BenchScale --topics "$SCALE_TOPICS" -c 4 --from first --drain
stop_broker
start_broker sync SYNC_FLUSH
bench sync-flush-128B produce -t BenchSync -s 128 -c 4 -w 64 --mode async
stop_broker

# Registration: a broker whose topics.json holds MANY_TOPICS topics starts;
# ready_ms is the time from its start until a send to the last topic,
# routed by the NameServer, succeeds (mqbench ready starts right after the
# broker process). The body size is the registrar's.
mkdir -p "$work/store-many/config"
awk -v n="$MANY_TOPICS" 'BEGIN {
	printf "{\"topicConfigTable\":{"
	for (i = 0; i < n; i++)
		printf "%s\"BenchMany-%d\":{\"topicName\":\"BenchMany-%d\",\"readQueueNums\":8,\"writeQueueNums\":8,\"perm\":6,\"topicFilterType\":\"SINGLE_TAG\"}", (i ? "," : ""), i, i
	printf "},\"dataVersion\":{\"stateVersion\":0,\"timestamp\":1,\"counter\":1}}"
}' >"$work/store-many/config/topics.json"
name=register-$MANY_TOPICS-topics
write_properties many ASYNC_FLUSH
exec_broker many
bench "$name" ready -t "BenchMany-$((MANY_TOPICS - 1))" --duration 120s
if [[ -s $work/$name.json ]]; then
	body=$(sed -n 's/.*"bodyBytes":\([0-9]*\).*"registration body built".*/\1/p' "$work/broker-many.log" | tail -1)
	sed -i "1s/^{/{\n  \"register_body_bytes\": ${body:-0},/" "$work/$name.json"
fi
stop_broker

# Recovery: fill RECOVERY_MIB of CommitLog with batched 1 KiB sends, kill -9,
# restart on the same store; ready_ms is the time from the restart until a
# send succeeds. A 1 KiB message takes about 1,200 bytes of CommitLog.
start_broker recovery ASYNC_FLUSH
name=recovery-$RECOVERY_MIB-MiB
echo "== $name: filling $RECOVERY_MIB MiB" >&2
if ! "$BIN/mqbench" produce -n "$ns" -t BenchRecovery -s 1024 -c 2 -w 8 --mode async --batch 64 \
	--messages $((RECOVERY_MIB * 1048576 / 1200)) --duration 30m --json "$work/recovery-fill.json" >/dev/null; then
	failed=1
fi
kill -9 "$broker_pid"
wait "$broker_pid" 2>/dev/null || true
exec_broker recovery
bench "$name" ready -t BenchRecovery --duration 120s
if [[ -s $work/$name.json ]]; then
	end=$(sed -n 's/.*"processOffset":\([0-9]*\).*"commitlog recovered".*/\1/p' "$work/broker-recovery.log" | tail -1)
	sed -i "1s/^{/{\n  \"commitlog_bytes\": ${end:-0},/" "$work/$name.json"
fi
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
		[[ $name == register-* || $name == recovery-* ]] && continue
		f=$work/$name.json
		rss=$(field "$f" broker_rss_bytes)
		printf '| %s | %.0f | %.2f | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$name" \
			"$(field "$f" msgs_per_s)" "$(field "$f" mb_per_s)" "$(field "$f" p50_us)" "$(field "$f" p99_us)" \
			"$(field "$f" p999_us)" "$(field "$f" sent)" "$(field "$f" received)" "$(field "$f" errors)" \
			"$(( ${rss:-0} / 1048576 ))" "$(field "$f" broker_gc_pause_p99_us)"
	done
	echo
	scale=$work/scale-${SCALE_TOPICS}x${SCALE_QUEUES}-128B.json
	if [[ -s $scale && -s $work/async-flush-128B.json ]]; then
		ratio=$(awk -v a="$(field "$scale" msgs_per_s)" -v b="$(field "$work/async-flush-128B.json" msgs_per_s)" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
		echo "Scale: sending as async-flush-128B does, over $SCALE_TOPICS topics × $SCALE_QUEUES queues, reached $ratio of its msgs/s (target: at least 0.80)."
	fi
	echo "Start and recovery (ms from the broker's exec until a send, routed by the NameServer, succeeds):"
	echo
	echo "| run | ready ms | details |"
	echo "|---|---:|---|"
	for name in "${runs[@]}"; do
		f=$work/$name.json
		case $name in
		register-*) printf '| %s | %s | register body %s bytes |\n' "$name" "$(field "$f" ready_ms)" "$(field "$f" register_body_bytes)" ;;
		recovery-*) printf '| %s | %s | CommitLog %s bytes, restart after kill -9 |\n' "$name" "$(field "$f" ready_ms)" "$(field "$f" commitlog_bytes)" ;;
		esac
	done
} >"$RESULTS_DIR/latest.md"
echo "wrote $RESULTS_DIR/latest.json and $RESULTS_DIR/latest.md" >&2
exit "$failed"
