#!/usr/bin/env bash
# The standard load suite (make bench): builds the binaries, starts a fresh
# NameServer and broker on free loopback ports with a temporary store, runs
# bin/mqbench through the suite below and writes $RESULTS_DIR/latest.json
# (machine facts and one object per run) and latest.md (a table).
#
#   BENCH_DURATION=60s   length of each run (e.g. BENCH_DURATION=5s for a smoke run)
#   BIN=bin              where the binaries are built
#   RESULTS_DIR=benchmarks/results
#   BENCH_RUNS=REGEX     run only the runs whose names match this bash
#                        regex, e.g. 'recovery' or 'async-flush-128B|consume'
#                        (consume-page-cache reads what async-flush-128B
#                        stored: select both)
#
# A run that fails is named in latest.md and latest.json ("failed") and the
# script exits 1; if the script itself stops early, the report still lists
# the runs done and the step it stopped in.
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
runs=()     # runs with a JSON result, in order
failures=() # "run: why", one per failed run
step=setup  # what the script is doing, named in the report if it stops
reported=0
cleanup() {
	local rc=$?
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
	if ((!reported)); then
		failures+=("$step: run.sh stopped here (exit $rc); the runs after it did not run")
		report || true
		rc=1
	fi
	rm -rf "$work"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# want NAME: whether BENCH_RUNS selects run NAME.
want() { [[ -z ${BENCH_RUNS:-} || $1 =~ $BENCH_RUNS ]]; }

# fail NAME WHY: run NAME failed.
fail() {
	failures+=("$1: $2")
	echo "== FAILED $1: $2" >&2
}

# Ports come from below the kernel's ephemeral range. A port inside it can
# be handed to any connect() on the machine while the broker is down between
# its kill -9 and its restart (mqbench ready alone connects to the
# NameServer every 10 ms then), and a client socket on it, even one in
# TIME_WAIT, makes the restarted broker's bind fail with "address already in
# use" although it listens with SO_REUSEADDR: a listener may share a port
# only with sockets that set SO_REUSEADDR too, and clients do not. This is
# how one recovery run failed; operators run brokers on fixed low ports
# (10911) for the same reason.
read -r eph_low eph_high </proc/sys/net/ipv4/ip_local_port_range
if ((eph_low - 10000 >= 2000)); then
	port_lo=10000 port_hi=$((eph_low - 1))
elif ((65000 - eph_high >= 2000)); then
	port_lo=$((eph_high + 1)) port_hi=65000
else
	echo "no room for broker ports outside the ephemeral range $eph_low-$eph_high" >&2
	exit 1
fi

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# port_free PORT: no socket at all uses PORT locally (a TIME_WAIT client
# socket on it would fail the bind, though nothing listens).
port_free() {
	if command -v ss >/dev/null; then
		[[ -z $(ss -tanH "( sport = :$1 )") ]]
	else
		! listening "$1"
	fi
}

# free_port prints a port that is free together with port-2 (the broker's
# fast channel) and port+1 (the HA port it advertises).
free_port() {
	local p
	for _ in $(seq 100); do
		p=$((port_lo + 2 + RANDOM % (port_hi - port_lo - 3)))
		if port_free "$p" && port_free $((p - 2)) && port_free $((p + 1)); then
			echo "$p"
			return
		fi
	done
	echo "no free port in $port_lo-$port_hi" >&2
	return 1
}

# wait_port PORT PID: waits (10 s at most) until something listens on PORT;
# fails at once if process PID exited.
wait_port() {
	for _ in $(seq 100); do
		listening "$1" && return 0
		kill -0 "$2" 2>/dev/null || break
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
wait_port "$ns_port" "$!"
ns=127.0.0.1:$ns_port

broker_pid=
broker_port=
# start_broker NAME FLUSH_TYPE: a broker with a new store under $work.
start_broker() {
	step="starting broker $1"
	write_properties "$1" "$2"
	exec_broker "$1"
	if ! wait_port "$broker_port" "$broker_pid"; then
		tail -3 "$work/broker-$1.log" >&2
		return 1
	fi
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
	kill "$broker_pid" 2>/dev/null || true
	reap "$broker_pid"
}

# reap PID: waits for child PID and drops it from pids, so that cleanup
# never signals a PID the kernel may since have given to another process
# (pid_max may be as low as 32768 on a machine shared with other work).
reap() {
	wait "$1" 2>/dev/null || true
	local keep=() pid
	for pid in "${pids[@]}"; do [[ $pid == "$1" ]] || keep+=("$pid"); done
	pids=("${keep[@]}")
}

# quiesce: write back the dirty pages of the runs before, so that the next
# run neither pays for their writeback nor reads while it goes on.
quiesce() { sync -f "$work"; }

# major_faults: the broker's major page faults so far (pages it read from
# disk, not from the page cache).
major_faults() { awk '{print $12}' "/proc/$broker_pid/stat" 2>/dev/null || echo 0; }

# add_key FILE KEY VALUE: a key at the top of an mqbench JSON file.
add_key() { sed -i "1s/^{/{\n  \"$2\": $3,/" "$1"; }

# bench NAME COMMAND FLAGS...: one mqbench run, when BENCH_RUNS selects it;
# its JSON gets a "name" key and the broker's major page faults during it.
bench() {
	local name=$1 command=$2 faults
	shift 2
	want "$name" || return 0
	step=$name
	echo "== $name: mqbench $command $*" >&2
	quiesce
	faults=$(major_faults)
	if ! "$BIN/mqbench" "$command" -n "$ns" --duration "$DURATION" --broker-pid "$broker_pid" --json "$work/$name.json" "$@"; then
		fail "$name" "mqbench $command exited non-zero"
	fi
	if [[ -s $work/$name.json ]]; then
		add_key "$work/$name.json" broker_major_faults $(($(major_faults) - faults))
		add_key "$work/$name.json" name "\"$name\""
		runs+=("$name")
	fi
}

# field FILE KEY: one value of an mqbench JSON file (one key per line, at
# any depth).
field() { sed -n "s/^ *\"$2\": \"\{0,1\}\([^\",]*\)\"\{0,1\},\{0,1\}$/\1/p" "$1" | head -1; }

# table TITLE HEADER ALIGN ROWS: a titled markdown table of ROWS, or
# nothing when no run made a row.
table() {
	[[ $4 ]] || return 0
	printf '%s\n\n%s\n%s\n%s\n\n' "$1" "$2" "$3" "$4"
}

# command_rows COMMAND FORMAT KEY...: a row for each run of mqbench
# COMMAND, FORMAT filled with the run's name and its values of KEY...
command_rows() {
	local command=$1 format=$2 name f key values
	shift 2
	for name in "${runs[@]}"; do
		f=$work/$name.json
		[[ $(field "$f" command) == "$command" ]] || continue
		values=()
		for key; do values+=("$(field "$f" "$key")"); done
		# shellcheck disable=SC2059 # FORMAT is the caller's row format
		printf "$format" "$name" "${values[@]}"
	done
}

# report writes latest.json and latest.md from the runs done so far.
report() {
	local commit gover date name f sep rss ratio rows lat command
	commit=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)
	gover=$($GO env GOVERSION)
	date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
	{
		printf '{\n"machine": {"nproc": %s, "go_version": "%s", "git_commit": "%s", "date": "%s", "duration": "%s"},\n"failed": [' \
			"$(nproc)" "$gover" "$commit" "$date" "$DURATION"
		sep=
		for f in "${failures[@]}"; do
			printf '%s"%s"' "$sep" "$(printf '%s' "$f" | tr -d '"\\')"
			sep=", "
		done
		printf '],\n"runs": [\n'
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
		echo "$date, commit $commit, $(nproc) cores, $gover, $DURATION per run${BENCH_RUNS:+, runs matching '$BENCH_RUNS' only}. Latencies in µs (produce: send round trip; consume: receipt − store time; e2e and mixed: publish to deliver)."
		echo
		if ((${#failures[@]})); then
			echo "**Failed** (see make bench's output):"
			echo
			for f in "${failures[@]}"; do echo "- $f"; done
		else
			echo "Every run passed."
		fi
		echo
		# steal %: CPU time the hypervisor gave other guests during the run
		# (the machine's /proc/stat); when it is high, both processes stop
		# at moments neither chose and the latency tails are the host's.
		# Whole-machine freezes are not in it: the stalls table below has
		# them for the latency runs.
		echo "| run | msgs/s | MB/s | p50 | p99 | p999 | sent | received | errors | broker RSS MiB | GC pause p99 µs | steal % |"
		echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
		for name in "${runs[@]}"; do
			[[ $name == register-* || $name == recovery-* ]] && continue
			f=$work/$name.json
			rss=$(field "$f" broker_rss_bytes)
			steal=$(field "$f" host_steal_pct)
			[[ $steal ]] && steal=$(printf %.1f "$steal")
			lat=("$(field "$f" p50_us)" "$(field "$f" p99_us)" "$(field "$f" p999_us)")
			# consume --repeat re-reads old messages: no latency to show.
			[[ $(field "$f" repeat) == true ]] && lat=(— — —)
			printf '| %s | %.0f | %.2f | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$name" \
				"$(field "$f" msgs_per_s)" "$(field "$f" mb_per_s)" "${lat[@]}" \
				"$(field "$f" sent)" "$(field "$f" received)" "$(field "$f" errors)" \
				"$((${rss:-0} / 1048576))" "$(field "$f" broker_gc_pause_p99_us)" "${steal:-—}"
		done
		echo
		for name in "${runs[@]}"; do
			f=$work/$name.json
			case $name in
			batch-*x1KiB) echo "$name: $(printf %.0f "$(field "$f" mb_per_s)") MB/s of bodies in through the broker (target: at least 400)." ;;
			consume-page-cache) echo "$name: read the $(field "$f" backlog) messages async-flush-128B stored again and again for $DURATION, $(field "$f" conns) connections, $(field "$f" batch) messages a pull; the broker read $(field "$f" broker_major_faults) pages from disk (major faults) meanwhile." ;;
			esac
		done
		echo
		scale=$work/scale-${SCALE_TOPICS}x${SCALE_QUEUES}-128B.json
		if [[ -s $scale && -s $work/async-flush-128B.json ]]; then
			ratio=$(awk -v a="$(field "$scale" msgs_per_s)" -v b="$(field "$work/async-flush-128B.json" msgs_per_s)" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
			echo "Scale: sending as async-flush-128B does, over $SCALE_TOPICS topics × $SCALE_QUEUES queues, reached $ratio of its msgs/s (target: at least 0.80). Its warm-up, $((SCALE_TOPICS * SCALE_QUEUES * 2)) sends, the wait until every queue's consume-queue file existed and the wait until the broker went idle, took $(field "$scale" warmup_ms) ms."
			echo
		fi
		rows=$(command_rows e2e '| %s | %s | %.0f | %s | %s | %s |\n' rate send_msgs_per_s send_p50_us send_p99_us send_p999_us)
		table "Send round trip at a fixed offered rate (target at 50,000 msgs/s: p99 at most 2,000 µs, p999 at most 10,000 µs):" \
			"| run | offered msgs/s | sent msgs/s | send p50 µs | send p99 µs | send p999 µs |" "|---|---:|---:|---:|---:|---:|" "$rows"
		rows=$(command_rows mixed '| %s | %.0f | %.0f | %s | %s | %s |\n' send_msgs_per_s consumer_msgs_per_s lag_end_msgs catch_up_ms kept_up)
		table "Tailing consumer against producers sending as fast as they can (kept up: all received, and at most one second of sends behind when they stopped):" \
			"| run | sent msgs/s | consumed msgs/s | behind at the end (msgs) | caught up after ms | kept up |" "|---|---:|---:|---:|---:|---|" "$rows"
		# The stall probe's figures (mqbench stallprobe): a real-time thread's
		# 5 ms sleeps, how late they woke, and the stalls over 5 and 10 ms
		# with their summed lateness; last, its normal-priority twin's. A run whose tails are near its
		# stalls' lengths waited for the machine, not for the broker.
		rows=$(for command in e2e mixed; do
			command_rows "$command" '| %s | %s | %s | %s | %s | %s | %s | %s | %s / %.0f | %s / %.0f | %s | %s / %s |\n' \
				send_p99_us send_p999_us p99_us p999_us probe_late_p99_us probe_late_p999_us probe_late_max_us \
				stalls_over_5ms stall_ms_over_5ms stalls_over_10ms stall_ms_over_10ms probe_realtime \
				probe_normal_late_p99_us probe_normal_late_max_us
		done)
		table "Machine stalls during the latency runs (a SCHED_FIFO thread per CPU, in a process of its own, sleeping 5 ms: how late it woke (a freeze of F ms shows as F−5 to F); stalls: wakes later than 5 or 10 ms, count / their ms, summed over the CPUs; steal does not show these. The same sleeper at normal priority is also late while the guest's CPUs are busy: late there but not at real time means CPU contention, not a frozen machine):" \
			"| run | send p99 µs | send p999 µs | deliver p99 µs | deliver p999 µs | probe late p99 µs | probe late p999 µs | probe late max µs | stalls > 5 ms | stalls > 10 ms | real-time | normal-priority probe late p99 / max µs |" \
			"|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|" "$rows"
		rows=$(for name in "${runs[@]}"; do
			f=$work/$name.json
			case $name in
			register-*) printf '| %s | %s | register body %s bytes |\n' "$name" "$(field "$f" ready_ms)" "$(field "$f" register_body_bytes)" ;;
			recovery-*) printf '| %s | %s | CommitLog %s bytes, restart after kill -9 |\n' "$name" "$(field "$f" ready_ms)" "$(field "$f" commitlog_bytes)" ;;
			esac
		done)
		table "Start and recovery (ms from the broker's exec until a send, routed by the NameServer, succeeds):" \
			"| run | ready ms | details |" "|---|---:|---|" "$rows"
	} >"$RESULTS_DIR/latest.md"
	echo "wrote $RESULTS_DIR/latest.json and $RESULTS_DIR/latest.md" >&2
}

# The runs go to five brokers, each on a store of its own that is removed
# when the broker stops. The disk matters: the broker's cleaner deletes the
# oldest CommitLog segments at once when the disk is more than 85% used
# (used / (used + available), as df and RocketMQ count it), and refuses
# sends above 90% until a round finds it below. The batched runs write
# ~47 GB in three minutes, so they get brokers of their own, after the
# runs that read back what they stored (consume-page-cache reads
# async-flush-128B's messages; the scale runs drain theirs).
start_broker async ASYNC_FLUSH
bench async-flush-128B produce -t Bench128 -s 128 -c 4 -w 64 --mode async
# Reading from the page cache: the messages async-flush-128B stored, read
# again and again for the whole run (--repeat), 4 connections, 32 messages
# a pull (the Go client's default pullBatchSize), one pull in flight per
# queue as clients do. A single drain of them lasts only a few seconds, so
# its figure was mostly start and tail (the last queues alone) and varied
# run to run; broker_major_faults says whether any page came from disk.
bench consume-page-cache consume -t Bench128 -c 4 --from first --repeat
# A tailing consumer (one connection) while producers send as fast as they
# can: the JSON's tail object says whether it kept up.
# Both latency runs start mqbench stallprobe beside them (--stall-probe): a
# process of its own with one thread per CPU, pinned there at SCHED_FIFO
# priority 50, that sleeps 5 ms at a time and records how late it wakes (a
# twin thread at normal priority does the same, late also while the CPUs
# are busy). Its stalls are the machine's, not the broker's: on this VM the
# guest freezes for 12–37 ms at times (no CPU runs, not even the timer
# tick; sometimes one vCPU alone), which /proc/stat's steal does not
# count, and such freezes make most of the e2e tails. The JSON's
# stall_probe object and the stalls table of latest.md give them beside
# the run's p99/p999.
bench mixed-tail-128B mixed -t BenchMixed -s 128 -c 4 -w 64 --mode async --stall-probe
bench e2e-50k e2e -t BenchE2E -s 128 -c 4 -w 64 --mode async --rate 50000 --stall-probe
stop_broker
rm -rf "$work/store-async"
# Scale: the first run again over SCALE_TOPICS × SCALE_QUEUES queues, then
# drained, on a broker of its own started as the first run's was: its ratio
# compares queue counts, not page-cache histories. On the first run's
# broker it came after ~6 GB of earlier runs, and the commit log's copy
# into new page-cache pages was 4.4% of broker samples against 0.7% on a
# fresh broker; in one pair that order alone moved the ratio from 0.65 to
# 0.73 (session 12). The topics are created and every queue gets its first messages
# and its consume-queue file before the timed part: the target is the steady
# state of a broker with that many queues. A send is answered before its
# queue's file exists (dispatch is asynchronous), so the warm-up also waits
# for the files, and then for the broker to go idle (their directory
# entries' fsyncs); without that wait the timed run began while thousands
# of queues were still being created (3–14 s of mkdir and create on this VM).
# How long the warm-up took is reported beside the ratio.
name=scale-${SCALE_TOPICS}x${SCALE_QUEUES}
scale_wanted=
want "$name-128B" || want "$name-consume" && scale_wanted=1
if [[ $scale_wanted ]]; then
	start_broker scale ASYNC_FLUSH
	step="$name warm-up"
	echo "== scale warm-up: creating $SCALE_TOPICS topics of $SCALE_QUEUES queues" >&2
	warm_start=$(date +%s%N)
	"$BIN/mqbench" produce -n "$ns" -t BenchScale --topics "$SCALE_TOPICS" -q "$SCALE_QUEUES" -s 128 -c 4 -w 64 --mode async \
		--messages $((SCALE_TOPICS * SCALE_QUEUES * 2)) --duration 10m >/dev/null 2>&1 || fail "$step" "mqbench produce exited non-zero"
	queues_ready=0
	for _ in $(seq 600); do # at most ~2 minutes
		queues_ready=$(find "$work/store-scale/consumequeue" -mindepth 3 -maxdepth 3 -path '*/BenchScale-*' -type f 2>/dev/null | wc -l)
		((queues_ready >= SCALE_TOPICS * SCALE_QUEUES)) && break
		sleep 0.2
	done
	((queues_ready >= SCALE_TOPICS * SCALE_QUEUES)) || fail "$step" "only $queues_ready of $((SCALE_TOPICS * SCALE_QUEUES)) consume-queue files after 2 minutes"
	# Then until the broker is idle: the consume-queue flusher makes the new
	# files' directory entries durable in its 1 s rounds after they exist
	# (storage/consumequeue/entries.go), about 11,000 directory fsyncs for
	# 10,000 queues, seconds of this VM's disk that otherwise fell inside the
	# timed run (9% of broker CPU samples in its first 10 s). Idle: under
	# 30 ms of broker CPU in a second, checked for at most a minute.
	for _ in $(seq 60); do
		cpu0=$(awk '{print $14 + $15}' "/proc/$broker_pid/stat")
		sleep 1
		(($(awk '{print $14 + $15}' "/proc/$broker_pid/stat") - cpu0 < 3)) && break
	done
	warm_ms=$((($(date +%s%N) - warm_start) / 1000000))
fi
bench "$name-128B" produce -t BenchScale --topics "$SCALE_TOPICS" -q "$SCALE_QUEUES" -s 128 -c 4 -w 64 --mode async
[[ -s $work/$name-128B.json ]] && add_key "$work/$name-128B.json" warmup_ms "$warm_ms"
bench "$name-consume" consume -t BenchScale --topics "$SCALE_TOPICS" -c 4 --from first --drain
if [[ $scale_wanted ]]; then
	stop_broker
	rm -rf "$work/store-scale"
fi
if want batch-64x128B || want async-flush-1KiB; then
	start_broker batch ASYNC_FLUSH
	bench batch-64x128B produce -t BenchBatch -s 128 -c 4 -w 8 --mode async --batch 64
	bench async-flush-1KiB produce -t Bench1K -s 1024 -c 4 -w 64 --mode async
	stop_broker
	rm -rf "$work/store-batch"
fi
# 32 × 1 KiB: a batch of 32 KiB, the size at which RocketMQ 5's Java
# producer sends what its autoBatch accumulated (ProduceAccumulator's
# default holdSize), and far below the 4 MiB message limit. On a broker of
# its own: it stores ~25 GB a minute, and after the two runs above (~22 GB)
# the disk of the machine the suite was written on crossed the cleaner's
# 90% mark between two of its 10 s rounds, and sends were refused.
if want batch-32x1KiB; then
	start_broker batch1k ASYNC_FLUSH
	bench batch-32x1KiB produce -t BenchBatch1K -s 1024 -c 4 -w 8 --mode async --batch 32
	stop_broker
	rm -rf "$work/store-batch1k"
fi
if want sync-flush-128B; then
	start_broker sync SYNC_FLUSH
	bench sync-flush-128B produce -t BenchSync -s 128 -c 4 -w 64 --mode async
	stop_broker
	rm -rf "$work/store-sync"
fi

# Registration: a broker whose topics.json holds MANY_TOPICS topics starts;
# ready_ms is the time from its start until a send to the last topic,
# routed by the NameServer, succeeds (mqbench ready starts right after the
# broker process). The body size is the registrar's.
name=register-$MANY_TOPICS-topics
if want "$name"; then
	step=$name
	mkdir -p "$work/store-many/config"
	awk -v n="$MANY_TOPICS" 'BEGIN {
		printf "{\"topicConfigTable\":{"
		for (i = 0; i < n; i++)
			printf "%s\"BenchMany-%d\":{\"topicName\":\"BenchMany-%d\",\"readQueueNums\":8,\"writeQueueNums\":8,\"perm\":6,\"topicFilterType\":\"SINGLE_TAG\"}", (i ? "," : ""), i, i
		printf "},\"dataVersion\":{\"stateVersion\":0,\"timestamp\":1,\"counter\":1}}"
	}' >"$work/store-many/config/topics.json"
	write_properties many ASYNC_FLUSH
	exec_broker many
	bench "$name" ready -t "BenchMany-$((MANY_TOPICS - 1))" --duration 120s
	if [[ -s $work/$name.json ]]; then
		body=$(sed -n 's/.*"bodyBytes":\([0-9]*\).*"registration body built".*/\1/p' "$work/broker-many.log" | tail -1)
		add_key "$work/$name.json" register_body_bytes "${body:-0}"
	fi
	stop_broker
fi

# Recovery: fill RECOVERY_MIB of CommitLog with batched 1 KiB sends, kill -9,
# restart on the same store and port; ready_ms is the time from the restart
# until a send succeeds. A 1 KiB message takes about 1,200 bytes of CommitLog.
name=recovery-$RECOVERY_MIB-MiB
if want "$name"; then
	start_broker recovery ASYNC_FLUSH
	step="$name fill"
	echo "== $name: filling $RECOVERY_MIB MiB" >&2
	"$BIN/mqbench" produce -n "$ns" -t BenchRecovery -s 1024 -c 2 -w 8 --mode async --batch 64 \
		--messages $((RECOVERY_MIB * 1048576 / 1200)) --duration 30m --json "$work/recovery-fill.json" >/dev/null ||
		fail "$step" "mqbench produce exited non-zero"
	kill -9 "$broker_pid"
	reap "$broker_pid"
	exec_broker recovery
	bench "$name" ready -t BenchRecovery --duration 120s
	if ! kill -0 "$broker_pid" 2>/dev/null; then
		fail "$name" "the restarted broker exited: $(grep -o '"error":"[^"]*"' "$work/broker-recovery.log" | tail -1 | tr -d '"\\')"
		ss -tanp "( sport = :$broker_port or sport = :$((broker_port - 2)) )" >&2 || true
	fi
	if [[ -s $work/$name.json ]]; then
		end=$(sed -n 's/.*"processOffset":\([0-9]*\).*"commitlog recovered".*/\1/p' "$work/broker-recovery.log" | tail -1)
		add_key "$work/$name.json" commitlog_bytes "${end:-0}"
	fi
	stop_broker
fi
step=report
report
reported=1
if ((${#failures[@]})); then
	printf 'failed: %s\n' "${failures[@]}" >&2
	exit 1
fi
