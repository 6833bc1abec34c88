package writer

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// A SYNC_FLUSH flush asks the kernel for a short time slice for its thread.
//
// Why: an acknowledging msync sleeps two or three times (the group's write,
// the inode-table block's write when the segment's mtime moved — see
// sync.go —, the device cache flush), and after each wake-up the thread
// waits for a CPU: on this 2-vCPU VM, busy with the broker's gnet loops
// and the load generator, a sched_switch/sched_wakeup trace of the syncer
// (session 12, 1,097 msyncs under mqbench -c 4 -w 64) showed the msync
// 817 µs mean, of which 424 µs runnable on a run queue, 318 µs asleep on
// the device and 75 µs running. Linux's EEVDF scheduler (6.12 on) takes
// sched_attr.sched_runtime of a SCHED_OTHER thread as its slice request: a
// shorter slice gives an earlier virtual deadline, so the woken thread
// preempts the running one instead of queueing behind it. It changes no
// weight (the thread gets no more CPU than before, only sooner), and needs
// no privilege as long as the nice value stays (a thread may not lower its
// own nice without CAP_SYS_NICE). Kernels without it accept the value and
// ignore it.
//
// Measured (session 12; 15 s of mqbench produce -s 128 -c 4 -w 64 --mode
// async against a fresh SYNC_FLUSH broker, other work sharing the machine,
// without → with the hint, six interleaved pairs): msgs/s 135.8k → 135.8k,
// 135.7k → 139.3k, 77.8k → 114.4k, 87.3k → 130.4k, 106.9k → 106.7k,
// 108.9k → 110.0k; msync mean 537 → 423, 564 → 430, 998 → 804, 924 → 478,
// 627 → 560, 766 → 577 µs; broker CPU per message unchanged (4.5–7.8
// µs either way). It helps where the CPUs are most contended; an
// ASYNC_FLUSH broker reached 236–260k msgs/s meanwhile.
//
// The hint is set on the thread that is about to run the flush and taken
// back right after it, by thread id: the syncer runs on whatever pool
// thread the dispatcher gives it, which afterwards runs other goroutines
// that must not keep the short slice (a CPU-bound thread with it is
// preempted more often). Without runtime.LockOSThread: if the goroutine
// moved to another thread between the two calls, the hint lands on the
// old thread for one flush and is still taken back; a locked thread would
// instead cost a thread hand-off each time the msync outlives its P
// (sysmon retakes it and the locked goroutine must get it back through
// another thread).
//
// Attributes someone else sets on the thread meanwhile stay: end reads the
// thread again and takes back only the slice, with the nice value and
// flags it finds (an operator's renice of every broker thread, which the
// SYNC_FLUSH syncer, flushing back to back, is nearly always inside, was
// undone before; and without privilege the thread kept the short slice),
// and leaves a thread whose policy or slice changed since begin alone.
// SCHED_FLAG_RESET_ON_FORK is never cleared (without privilege that is
// refused, and the hint never applied on such a thread); begin sets it
// when the nice value is not negative, where it resets nothing but the
// slice, so that a thread the runtime clones from this one during a flush
// does not inherit the short slice for good. It stays set after the flush
// (end could not clear it without privilege): only a later renice of the
// broker below 0 would then matter, a clone of such a thread starting at
// nice 0. A broker started with a negative nice keeps the inheritance
// risk instead (the flag would reset its clones' nice to 0).
//
// Rejected: a nice value below the broker's (CAP_SYS_NICE; it also gives
// the thread a larger share of CPU, not only an earlier turn); SCHED_FIFO
// for the syncer (privileged, and a real-time thread stuck in a long
// kernel path starves the gnet loops on a 2-CPU machine); the short slice
// on every flush of an ASYNC_FLUSH broker (nobody waits for those).

// flushSliceNs is the slice asked for during a flush: the kernel's minimum
// (it clamps requests to 0.1–100 ms).
const flushSliceNs = 100_000

// schedOther is SCHED_OTHER (SCHED_NORMAL), the default policy.
const schedOther = 0

// schedFlagResetOnFork is SCHED_FLAG_RESET_ON_FORK, in sched_attr's flags.
const schedFlagResetOnFork = 0x01

// sliceHint is the short slice lent to one thread for one flush. The
// zero value is ready; one goroutine (the syncer).
type sliceHint struct {
	tid   int
	flags uint64 // sched_attr flags for both calls: RESET_ON_FORK or 0
	set   bool   // the slice was set on tid and must be taken back
	off   bool   // the kernel or a seccomp filter refused the calls: no more tries
}

// begin asks for the short slice for the calling thread if it runs under
// SCHED_OTHER (a broker started with chrt keeps its policy). Failures
// leave the thread as it was: the hint is an optimization only. The first
// refusal turns the hint off for good and is returned, for the caller to
// log once.
func (h *sliceHint) begin() error {
	h.set = false
	if h.off {
		return nil
	}
	h.tid = unix.Gettid()
	var a unix.SchedAttr
	if err := schedGetattr(h.tid, &a); err != nil {
		h.off = true
		return fmt.Errorf("sched_getattr: %w", err)
	}
	if a.Policy != schedOther {
		return nil
	}
	// No utilization-clamp flags, so the clamps stay; Nice as it is, so
	// the call needs no privilege.
	h.flags = a.Flags & schedFlagResetOnFork
	if a.Nice >= 0 {
		h.flags = schedFlagResetOnFork
	}
	set := unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: schedOther, Flags: h.flags, Nice: a.Nice, Runtime: flushSliceNs}
	if err := unix.SchedSetAttr(h.tid, &set, 0); err != nil {
		h.off = true
		return fmt.Errorf("sched_setattr: %w", err)
	}
	h.set = true
	return nil
}

// end takes the short slice back: Runtime 0 is the kernel's default slice
// (sched_base_slice; nothing else in the broker asks for another). Any
// goroutine; after begin.
func (h *sliceHint) end() {
	if !h.set {
		return
	}
	h.set = false
	var a unix.SchedAttr
	if schedGetattr(h.tid, &a) != nil || a.Policy != schedOther || a.Runtime != flushSliceNs {
		return // changed since begin by someone else: theirs stays
	}
	back := unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: schedOther, Flags: h.flags | a.Flags&schedFlagResetOnFork, Nice: a.Nice}
	_ = unix.SchedSetAttr(h.tid, &back, 0)
}

// schedGetattr reads tid's scheduling attributes into a (sched_getattr)
// without the allocation of unix.SchedGetAttr, which returns a new struct
// per call.
func schedGetattr(tid int, a *unix.SchedAttr) error {
	_, _, errno := unix.Syscall6(unix.SYS_SCHED_GETATTR, uintptr(tid), uintptr(unsafe.Pointer(a)), unix.SizeofSchedAttr, 0, 0, 0)
	if errno != 0 {
		return errno
	}
	return nil
}
