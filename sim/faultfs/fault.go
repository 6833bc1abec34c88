package faultfs

import (
	"fmt"
	"strings"
	"syscall"
	"time"
)

// Op is a kind of file-system operation; Ops are bits, so a Rule can name
// several.
type Op uint32

const (
	OpOpen     Op = 1 << iota // OpenFile of an existing file without O_CREATE
	OpCreate                  // OpenFile with O_CREATE, Lock
	OpRead                    // File.ReadAt
	OpWrite                   // File.WriteAt, File.Write
	OpTruncate                // File.Truncate
	OpAllocate                // File.Allocate
	OpSync                    // File.Sync
	OpMsync                   // Mapping.Sync
	OpSyncDir                 // FS.SyncDir
	OpMmap                    // File.Mmap
	OpRename                  // FS.Rename
	OpRemove                  // FS.Remove, FS.RemoveAll
	OpMkdir                   // FS.MkdirAll
	OpStat                    // FS.Stat, FS.ReadDir, FS.DiskUsage, File.Stat

	// OpsSync are the operations that make data durable.
	OpsSync = OpSync | OpMsync | OpSyncDir
	// OpsMutating are the operations that change the disk.
	OpsMutating = OpCreate | OpWrite | OpTruncate | OpAllocate | OpsSync | OpRename | OpRemove | OpMkdir
	// OpsAll is every operation.
	OpsAll = OpsMutating | OpOpen | OpRead | OpMmap | OpStat
)

var opNames = []string{"open", "create", "read", "write", "truncate", "allocate", "sync", "msync",
	"syncdir", "mmap", "rename", "remove", "mkdir", "stat"}

func (o Op) String() string {
	var names []string
	for i, name := range opNames {
		if o&(1<<i) != 0 {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, "|")
}

// Kind is what a fault does.
type Kind int

const (
	// KindEIO fails the operation with EIO; it changes nothing.
	KindEIO Kind = iota + 1
	// KindENOSPC fails the operation with ENOSPC; it changes nothing.
	KindENOSPC
	// KindShortWrite (writes only) stores a random prefix of the bytes and
	// returns its length with io.ErrShortWrite.
	KindShortWrite
	// KindTorn (File.Sync, Mapping.Sync only) makes a random prefix of
	// what the sync covers durable, cut at a 512-byte sector boundary of
	// the file (a device writes a sector whole), then fails with EIO: a
	// power cut or a device error in the middle of a flush.
	KindTorn
	// KindDelay sleeps Rule.Delay, then runs the operation normally (a
	// slow fsync).
	KindDelay
	// KindBitFlip (File.ReadAt only) flips one random bit of the bytes
	// read; the stored bytes stay intact.
	KindBitFlip
	// KindCrash crashes the file system before the operation, which fails
	// with ErrCrashed, as does every later one; Crash returns what a
	// restart finds.
	KindCrash

	// The kinds below are logged, never injected by a Rule.

	// KindFull: growth failed because the capacity was reached.
	KindFull
	// KindUnbackedWrite: stores into a mapping had no space behind them
	// (SIGBUS on Linux); Mapping.Sync failed with EFAULT.
	KindUnbackedWrite
	// KindStoredBitFlip: FlipBit changed a stored bit.
	KindStoredBitFlip

	// KindLostWrite (File.Sync, Mapping.Sync only; injected, numbered last
	// so that the kinds above keep their values) fails the sync with EIO
	// and leaves what it covered clean but not durable, as Linux does when
	// write-back fails: the pages stay in the page cache, so the bytes read
	// back right, also in a process started again without a power cut
	// (the same FS, no Crash), and a later sync writes a page only once it
	// was written again — by WriteAt, or by stores through a mapping that
	// change its bytes (a store of equal bytes dirties the page on Linux,
	// but faultfs cannot see it, so it counts as none). Crash keeps what
	// was durable before.
	KindLostWrite
)

var kindNames = map[Kind]string{
	KindEIO: "EIO", KindENOSPC: "ENOSPC", KindShortWrite: "short-write", KindTorn: "torn",
	KindDelay: "delay", KindBitFlip: "bit-flip", KindCrash: "crash", KindFull: "full",
	KindUnbackedWrite: "unbacked-write", KindStoredBitFlip: "stored-bit-flip", KindLostWrite: "lost-write",
}

func (k Kind) String() string {
	if s, ok := kindNames[k]; ok {
		return s
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// appliesTo reports whether k means something for op; a Rule counts and
// fires only on such operations.
func (k Kind) appliesTo(op Op) bool {
	switch k {
	case KindShortWrite:
		return op == OpWrite
	case KindTorn, KindLostWrite:
		return op == OpSync || op == OpMsync
	case KindBitFlip:
		return op == OpRead
	case KindEIO, KindENOSPC, KindDelay, KindCrash:
		return true
	}
	return false
}

// Rule describes faults to inject. A rule counts the operations it matches
// (in Ops, path containing Path, and meaningful for Kind) and fires on the
// Nth one, or, with Nth 0, on each with the given Probability.
type Rule struct {
	Ops  Op
	Path string // substring of the operation's path; "" matches every path
	Kind Kind
	// Nth fires on the Nth matching operation only (1-based).
	Nth int64
	// Probability, with Nth 0, is the chance of firing on each matching
	// operation; 0 means always.
	Probability float64
	// Limit stops the rule after that many faults; 0 means no limit.
	Limit int
	// Delay is how long KindDelay sleeps.
	Delay time.Duration
}

type rule struct {
	Rule
	matched int64
	fired   int
}

// Inject adds r; rules are tried in the order they were added and the
// first that fires decides the fault.
func (fsys *FS) Inject(r Rule) {
	fsys.mu.Lock()
	defer fsys.mu.Unlock()
	fsys.rules = append(fsys.rules, &rule{Rule: r})
}

// ClearRules removes every rule; the event log stays.
func (fsys *FS) ClearRules() {
	fsys.mu.Lock()
	defer fsys.mu.Unlock()
	fsys.rules = nil
}

// Event is one logged fault.
type Event struct {
	Seq    int64 // number of the operation it hit (Ops)
	Op     Op
	Path   string
	Kind   Kind
	Detail string
}

func (e Event) String() string {
	s := fmt.Sprintf("op %d %s %s: %s", e.Seq, e.Op, e.Path, e.Kind)
	if e.Detail != "" {
		s += " (" + e.Detail + ")"
	}
	return s
}

// Events returns a copy of the fault log, oldest first.
func (fsys *FS) Events() []Event {
	fsys.mu.Lock()
	defer fsys.mu.Unlock()
	return append([]Event(nil), fsys.events...)
}

// firing is a fault being applied by the operation it hit.
type firing struct {
	seq    int64
	op     Op
	path   string
	kind   Kind
	detail string
}

// logLocked appends fire to the log; nil is ignored. REQUIRES fsys.mu.
func (fsys *FS) logLocked(fire *firing) {
	if fire == nil {
		return
	}
	fsys.events = append(fsys.events, Event{Seq: fire.seq, Op: fire.op, Path: fire.path, Kind: fire.kind, Detail: fire.detail})
}

// noteCapacityLocked logs a growth refused for lack of space.
func (fsys *FS) noteCapacityLocked(op Op, path, detail string) {
	fsys.logLocked(&firing{seq: fsys.seq, op: op, path: path, kind: KindFull,
		detail: fmt.Sprintf("%s; %d of %d bytes used", detail, fsys.used, fsys.capacity)})
}

// enter starts operation op on path: it locks fsys (the caller unlocks,
// also on error), refuses to run after a crash, counts the operation and
// applies the first rule that fires. Error faults (EIO, ENOSPC, crash) are
// returned as errors and logged; a delay sleeps without the lock; the
// faults that change what the operation does are returned for it to apply
// and log.
func (fsys *FS) enter(op Op, path string) (*firing, error) {
	fsys.mu.Lock()
	if fsys.crashed {
		return nil, pathErr(op.String(), path, ErrCrashed)
	}
	fsys.seq++
	r := fsys.matchLocked(op, path)
	if r == nil {
		return nil, nil
	}
	fire := &firing{seq: fsys.seq, op: op, path: path, kind: r.Kind}
	switch r.Kind {
	case KindEIO:
		fsys.logLocked(fire)
		return nil, pathErr(op.String(), path, syscall.EIO)
	case KindENOSPC:
		fsys.logLocked(fire)
		return nil, pathErr(op.String(), path, syscall.ENOSPC)
	case KindCrash:
		fsys.logLocked(fire)
		fsys.crashed = true
		return nil, pathErr(op.String(), path, ErrCrashed)
	case KindDelay:
		fire.detail = r.Delay.String()
		fsys.logLocked(fire)
		fsys.mu.Unlock()
		time.Sleep(r.Delay)
		fsys.mu.Lock()
		if fsys.crashed {
			return nil, pathErr(op.String(), path, ErrCrashed)
		}
		return nil, nil
	}
	return fire, nil
}

// matchLocked returns the rule that fires on this operation, or nil.
// Every matching rule counts the operation, fired or not, so that Nth
// means the same whatever other rules do. REQUIRES fsys.mu.
func (fsys *FS) matchLocked(op Op, path string) *rule {
	var hit *rule
	for _, r := range fsys.rules {
		if r.Ops&op == 0 || !r.Kind.appliesTo(op) || (r.Path != "" && !strings.Contains(path, r.Path)) {
			continue
		}
		r.matched++
		if hit != nil || (r.Limit > 0 && r.fired >= r.Limit) {
			continue
		}
		fires := r.matched == r.Nth
		if r.Nth == 0 {
			// Draw only when a probability is set, so that rules without
			// one do not move the generator.
			fires = r.Probability <= 0 || r.Probability >= 1 || fsys.rng.Float64() < r.Probability
		}
		if fires {
			r.fired++
			hit = r
		}
	}
	return hit
}
