# actormq build, run and test entry points. See README.md.
GO ?= go
BIN := $(CURDIR)/bin

.PHONY: build test unit e2e fuzz run vet clean bench sim

build:
	$(GO) build -o $(BIN)/ ./cmd/... ./benchmarks/mqbench

vet:
	$(GO) vet ./...
	cd e2e && $(GO) vet ./...

# Unit and in-process tests of every package, with the race detector.
unit:
	$(GO) test -race -count=1 -timeout 10m ./...

# End-to-end tests: the real binaries driven by the real RocketMQ Go client.
e2e: build
	cd e2e && ACTORMQ_BIN=$(BIN) $(GO) test -count=1 -timeout 15m ./...

# Fault injection (sim/): fixed seeds that cover every fault class, in
# process (faulty in-memory disk, power cuts, clock jumps, network faults)
# and with the real binaries (kill -9, crash points, network faults,
# damaged records, clock jumps); about three minutes. A failure prints the seed, the
# replay command and the events around the offending ids. Longer swarms:
# go run ./sim -seeds 50 [-mode proc] -faults disk,net,crash,clock
sim: build
	$(GO) run ./sim -mode inproc -seed 65,202,203,206,207,208,211,213,214 -faults disk,net,crash,clock -duration 12s
	$(GO) run ./sim -mode proc -bin $(BIN) -seed 401,402,403 -faults disk,net,crash,clock -duration 12s

test: vet unit e2e sim

# Short fuzzing pass over every fuzz target of every package (seed corpora
# live in each package's testdata/fuzz). FUZZTIME=2m make fuzz for longer runs.
FUZZTIME ?= 15s
fuzz:
	@for pkg in $$(grep -rl '^func Fuzz' --include='*_test.go' . | grep -v '^./e2e/' | xargs -n1 dirname | sort -u); do \
	  for f in $$($(GO) test -list 'Fuzz.*' $$pkg | grep '^Fuzz'); do \
	    echo "fuzz $$pkg $$f"; $(GO) test -run=NONE -fuzz="^$$f$$" -fuzztime=$(FUZZTIME) -fuzzminimizetime=5s $$pkg || exit 1; \
	  done; \
	done

# Go benchmarks (allocs/op, B/op, ns/op) of every package that has them;
# the raw output goes to benchmarks/results/go-bench.txt. Not part of test.
.PHONY: bench-go
bench-go:
	@mkdir -p benchmarks/results
	@pkgs=$$(grep -rl '^func Benchmark' --include='*_test.go' . | grep -v '^./e2e/' | xargs -n1 dirname | sort -u); \
	  $(GO) test -run NONE -bench . -benchmem -count 1 $$pkgs > benchmarks/results/go-bench.txt; rc=$$?; \
	  cat benchmarks/results/go-bench.txt; exit $$rc

# NameServer and broker on loopback, store under ./data. Ctrl-C stops both.
run: build
	@mkdir -p data
	@$(BIN)/mqnamesrv -c cmd/mqnamesrv/namesrv.properties & ns=$$!; \
	  trap 'kill $$ns 2>/dev/null; wait $$ns 2>/dev/null' EXIT INT TERM; \
	  $(BIN)/mqbroker -c cmd/mqbroker/broker.properties -n 127.0.0.1:9876

# The standard load suite against a fresh NameServer and broker: writes
# benchmarks/results/latest.json and latest.md (RESULTS_DIR=… elsewhere),
# naming the runs that failed. BENCH_DURATION=5s for a short run (default
# 60s per run); BENCH_RUNS='recovery|consume' for only the runs matching.
bench:
	BIN=$(BIN) GO=$(GO) benchmarks/run.sh

clean:
	rm -rf $(BIN)
