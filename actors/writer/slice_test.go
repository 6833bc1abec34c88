package writer

import (
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/actormq/actormq/actors/config"
	"github.com/actormq/actormq/actors/queue"
	"github.com/actormq/actormq/internal/testkit"
	"github.com/actormq/actormq/storage/store"
	"github.com/actormq/actormq/wire/remoting"
)

// threadAttr reads the calling thread's scheduling attributes.
func threadAttr(t *testing.T) unix.SchedAttr {
	t.Helper()
	var a unix.SchedAttr
	if err := schedGetattr(unix.Gettid(), &a); err != nil {
		t.Fatalf("sched_getattr: %v", err)
	}
	return a
}

// requireSliceReport skips on kernels whose sched_getattr does not report a
// SCHED_OTHER thread's slice (before EEVDF's slice requests, Linux 6.12):
// there the hint is accepted and ignored, and nothing here can be seen.
func requireSliceReport(t *testing.T) {
	t.Helper()
	if threadAttr(t).Runtime == 0 {
		t.Skip("sched_getattr reports no slice for SCHED_OTHER threads on this kernel")
	}
}

// lockThread pins the test goroutine to its thread for the rest of the
// test and never unlocks it: the Go runtime then ends the thread with the
// goroutine, so the niceness and policy a test gives it die with it.
func lockThread(t *testing.T) {
	t.Helper()
	runtime.LockOSThread()
}

// mustBegin begins h's hint on the calling thread; the kernel must take it.
func mustBegin(t *testing.T, h *sliceHint) {
	t.Helper()
	if err := h.begin(); err != nil {
		t.Fatal(err)
	}
}

// TestSliceHintSetsAndTakesBack: begin gives the thread the short slice and
// keeps its nice value (a raised one too, which the thread could not lower
// again without privilege); end gives the default slice back.
func TestSliceHintSetsAndTakesBack(t *testing.T) {
	lockThread(t)
	requireSliceReport(t)
	if err := unix.Setpriority(unix.PRIO_PROCESS, unix.Gettid(), 3); err != nil {
		t.Fatalf("setpriority: %v", err)
	}
	before := threadAttr(t)
	if before.Runtime == flushSliceNs {
		t.Fatalf("the default slice is already %d ns: the test cannot tell the hint", before.Runtime)
	}
	var h sliceHint
	mustBegin(t, &h)
	during := threadAttr(t)
	if during.Runtime != flushSliceNs || during.Nice != 3 || during.Policy != schedOther {
		t.Fatalf("during the hint: slice %d ns nice %d policy %d; want %d ns, nice 3, SCHED_OTHER", during.Runtime, during.Nice, during.Policy, flushSliceNs)
	}
	h.end()
	after := threadAttr(t)
	if after.Runtime != before.Runtime || after.Nice != 3 {
		t.Fatalf("after the hint: slice %d ns nice %d; want %d ns, nice 3", after.Runtime, after.Nice, before.Runtime)
	}
	h.end() // a second end changes nothing
	if again := threadAttr(t); again.Runtime != before.Runtime {
		t.Fatalf("after a second end: slice %d ns", again.Runtime)
	}
}

// TestSliceHintKeepsWhatOthersSetMeanwhile: a renice of the thread while
// the flush runs (an operator's renice of every broker thread) stays after
// end, which takes back only the slice; a thread whose policy changed
// meanwhile is left as its new owner set it.
func TestSliceHintKeepsWhatOthersSetMeanwhile(t *testing.T) {
	lockThread(t)
	requireSliceReport(t)
	before := threadAttr(t)
	var h sliceHint
	mustBegin(t, &h)
	if err := unix.Setpriority(unix.PRIO_PROCESS, unix.Gettid(), int(before.Nice)+4); err != nil {
		t.Fatalf("setpriority: %v", err)
	}
	h.end()
	if after := threadAttr(t); after.Nice != before.Nice+4 || after.Runtime != before.Runtime {
		t.Fatalf("renice during the hint, after end: nice %d slice %d ns; want nice %d, slice %d ns", after.Nice, after.Runtime, before.Nice+4, before.Runtime)
	}

	mustBegin(t, &h)
	batch := unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: unix.SCHED_BATCH, Nice: before.Nice + 4, Runtime: 2 * flushSliceNs}
	if err := unix.SchedSetAttr(unix.Gettid(), &batch, 0); err != nil {
		t.Fatalf("sched_setattr SCHED_BATCH: %v", err)
	}
	h.end()
	if after := threadAttr(t); after.Policy != unix.SCHED_BATCH || after.Runtime != 2*flushSliceNs {
		t.Fatalf("policy changed during the hint, after end: policy %d slice %d ns; want SCHED_BATCH, %d ns", after.Policy, after.Runtime, 2*flushSliceNs)
	}
}

// TestSliceHintResetOnFork: during the hint the thread carries
// SCHED_FLAG_RESET_ON_FORK (its nice is not negative), so a thread or
// process cloned from it meanwhile gets the default slice, not the short
// one for good; a thread that had the flag keeps it after end (clearing it
// needs privilege, and a refused call left the hint unapplied).
func TestSliceHintResetOnFork(t *testing.T) {
	lockThread(t)
	requireSliceReport(t)
	before := threadAttr(t)
	var h sliceHint
	mustBegin(t, &h)
	if during := threadAttr(t); during.Runtime != flushSliceNs || during.Flags&schedFlagResetOnFork == 0 {
		t.Fatalf("during the hint: slice %d ns flags %#x; want %d ns and RESET_ON_FORK", during.Runtime, during.Flags, flushSliceNs)
	}
	h.end()

	own := unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: schedOther, Flags: schedFlagResetOnFork, Nice: before.Nice}
	if err := unix.SchedSetAttr(unix.Gettid(), &own, 0); err != nil {
		t.Fatalf("sched_setattr RESET_ON_FORK: %v", err)
	}
	mustBegin(t, &h)
	if during := threadAttr(t); during.Runtime != flushSliceNs {
		t.Fatalf("thread with RESET_ON_FORK during the hint: slice %d ns, want %d", during.Runtime, flushSliceNs)
	}
	h.end()
	if after := threadAttr(t); after.Flags&schedFlagResetOnFork == 0 || after.Runtime != before.Runtime {
		t.Fatalf("thread with RESET_ON_FORK after end: flags %#x slice %d ns; want the flag, %d ns", after.Flags, after.Runtime, before.Runtime)
	}
}

// TestSliceHintEndFromAnotherThread: end takes the slice back on the thread
// begin set it on, whichever thread calls it (the syncer may resume on
// another thread after its msync).
func TestSliceHintEndFromAnotherThread(t *testing.T) {
	lockThread(t)
	requireSliceReport(t)
	before := threadAttr(t)
	var h sliceHint
	mustBegin(t, &h)
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread() // surely another thread than the test's
		defer runtime.UnlockOSThread()
		h.end()
	}()
	<-done
	if after := threadAttr(t); after.Runtime != before.Runtime {
		t.Fatalf("after end on another thread: slice %d ns, want %d", after.Runtime, before.Runtime)
	}
}

// TestSliceHintLeavesOtherPolicies: a thread not under SCHED_OTHER (here
// SCHED_BATCH, which any thread may choose) keeps its policy and slice.
func TestSliceHintLeavesOtherPolicies(t *testing.T) {
	lockThread(t)
	requireSliceReport(t)
	batch := unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: unix.SCHED_BATCH}
	if err := unix.SchedSetAttr(unix.Gettid(), &batch, 0); err != nil {
		t.Fatalf("sched_setattr SCHED_BATCH: %v", err)
	}
	before := threadAttr(t)
	var h sliceHint
	mustBegin(t, &h)
	during := threadAttr(t)
	h.end()
	if during.Policy != unix.SCHED_BATCH || during.Runtime != before.Runtime {
		t.Fatalf("SCHED_BATCH thread during the hint: policy %d slice %d ns, want policy %d slice %d ns", during.Policy, during.Runtime, unix.SCHED_BATCH, before.Runtime)
	}
}

// TestSliceHintAllocatesNothing: begin and end run once per flush.
func TestSliceHintAllocatesNothing(t *testing.T) {
	var h sliceHint
	if n := testing.AllocsPerRun(100, func() { _ = h.begin(); h.end() }); n != 0 {
		t.Fatalf("%v allocations per begin/end", n)
	}
}

// sliceLog is a stepLog that records the slice of the thread each flush
// runs on.
type sliceLog struct {
	*stepLog
	slices chan uint64
}

func (l *sliceLog) Flush() (int64, error) {
	var a unix.SchedAttr
	_ = schedGetattr(unix.Gettid(), &a)
	l.slices <- a.Runtime
	return l.stepLog.Flush()
}

// TestFlushRunsWithShortSlice: a SYNC_FLUSH broker's syncer flushes with
// the short slice, an ASYNC_FLUSH broker's without it.
func TestFlushRunsWithShortSlice(t *testing.T) {
	requireSliceReport(t)
	for _, tc := range []struct {
		flush config.FlushType
		short bool
	}{{config.FlushSync, true}, {config.FlushAsync, false}} {
		t.Run(string(tc.flush), func(t *testing.T) {
			log := &sliceLog{
				stepLog: &stepLog{fakeLog: &fakeLog{}, started: make(chan int64, 16), release: make(chan error, 16)},
				slices:  make(chan uint64, 16),
			}
			t.Cleanup(func() { close(log.release) })
			h := &harness{log: log.fakeLog, disp: &fakeDispatcher{units: map[store.QueueKey][]queue.Unit{}},
				conn: &fakeConn{ch: make(chan *remoting.Command, 64)}}
			cfg := Config{
				Broker: config.Broker{BrokerIP1: "127.0.0.1", ListenPort: 10911, FlushDiskType: tc.flush,
					FlushIntervalCommitLog: 10 * time.Millisecond, SyncFlushTimeout: 4 * time.Hour},
				Dispatcher: h.disp,
			}
			w, err := spawn(testkit.ActorSystem(t), cfg, storeDeps{log: log, checkpoint: func(int64, int64) error { return nil }})
			if err != nil {
				t.Fatal(err)
			}
			h.w = w
			w.Submit(h.appendReq(1, "", "body"))
			got := testkit.Receive(t, log.slices, "flush")
			testkit.Receive(t, log.started, "flush started")
			log.release <- nil
			if got == flushSliceNs != tc.short {
				t.Fatalf("%s flush ran with a %d ns slice; short slice (%d ns) wanted: %v", tc.flush, got, flushSliceNs, tc.short)
			}
			if tc.short {
				if r := h.conn.next(t); r.Code != remoting.RespSuccess {
					t.Fatalf("answer: code %d", r.Code)
				}
			}
		})
	}
}
