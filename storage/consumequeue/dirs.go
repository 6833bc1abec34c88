package consumequeue

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/actormq/actormq/storage/vfs"
)

// Dirs records, for the directories the queues of one store create and
// create entries in (the consume-queue root, topic directories), which
// creations a completed fsync of each has covered. One fsync of a topic
// directory then serves every queue directory created in it before the
// fsync began: with a record per queue, as before, 10,000 new queues over
// 1,000 topics cost ~21,000 directory fsyncs (the topic directory once per
// queue); shared, they cost one per queue directory and about one per topic.
// The store makes one Dirs and passes it to every queue (Config.Dirs).
type Dirs struct {
	// mu serializes ensureDir's look at which directories exist with their
	// creation and counting: a queue that finds a topic directory another
	// queue just made must also find that creation counted, or it could
	// skip the fsync of the consume-queue root that the topic's entry
	// still waits for.
	mu   sync.Mutex
	dirs map[string]*dirRecord // by path; never a queue directory
}

// NewDirs returns an empty record, for the queues under one root.
func NewDirs() *Dirs { return &Dirs{dirs: make(map[string]*dirRecord)} }

// dirRecord is one directory. created counts the entries queues created
// in it, each counted after its creation returned; synced is the count a
// completed fsync covered, read before that fsync began. entry is the
// directory's own entry in its parent when a queue created it (guarded by
// Dirs.mu).
type dirRecord struct {
	path    string
	created atomic.Int64
	synced  atomic.Int64
	entry   dirEntry
	// failed is the first failed fsync, returned by every later sync: a
	// retry through a new descriptor returns 0 once the write-back error
	// was reported, although the entries it covered may never have
	// reached the disk (read.go, failLocked: the same for units).
	failed atomic.Pointer[error]
	// lock (a one-slot channel) serializes the directory's fsyncs: two
	// overlapping ones, the first failing, the second beginning after the
	// first's error was reported and returning 0, let the second move
	// synced over the entries the first one's failure covered before the
	// first stored failed. Serialized, the second finds failed set, or
	// finds its entries covered and skips its fsync. A channel rather than
	// a sync.Mutex so that a testing/synctest bubble sees a waiter as
	// blocked (TestOverlappingDirectoryFsyncs).
	lock chan struct{}
}

func newDirRecord(path string, entry dirEntry) *dirRecord {
	return &dirRecord{path: path, entry: entry, lock: make(chan struct{}, 1)}
}

// dirEntry is the seq-th entry created in dir.
type dirEntry struct {
	dir *dirRecord
	seq int64
}

// sync makes e durable: it fsyncs e's directory unless an fsync that began
// after e's creation already completed. Any goroutine; the fsyncs of one
// directory are serialized (dirRecord.lock).
func (e dirEntry) sync(fsys vfs.FS) error {
	d := e.dir
	if d.synced.Load() >= e.seq {
		return nil
	}
	d.lock <- struct{}{}
	defer func() { <-d.lock }()
	if p := d.failed.Load(); p != nil {
		return *p
	}
	if d.synced.Load() >= e.seq {
		return nil // covered by the fsync this one waited for
	}
	covered := d.created.Load()
	if err := fsys.SyncDir(d.path); err != nil {
		err = fmt.Errorf("consumequeue: sync %s: %w", d.path, err)
		d.failed.Store(&err)
		return err
	}
	d.synced.Store(max(d.synced.Load(), covered)) // under lock: the only writer
	return nil
}

// create makes dir and its missing parents and returns the directory
// entries dir depends on that no fsync has covered yet: those it created
// (the queue directory's own entry first) and those of existing ancestors
// another queue created. Directories that existed before any queue of
// this Dirs created them count as durable.
func (d *Dirs) create(fsys vfs.FS, dir string) ([]dirEntry, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var missing []string // bottom-up
	top := dir
	for {
		_, err := fsys.Stat(top)
		if err == nil {
			break
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("consumequeue: stat %s: %w", top, err)
		}
		missing = append(missing, top)
		parent := filepath.Dir(top)
		if parent == top {
			break
		}
		top = parent
	}
	if err := fsys.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("consumequeue: create %s: %w", dir, err)
	}
	// Top-down, so that each directory's record exists before its
	// children's entries are counted in it; waits stays bottom-up.
	waits := make([]dirEntry, 0, len(missing)+2)
	for i := len(missing) - 1; i >= 0; i-- {
		c := missing[i]
		parent := filepath.Dir(c)
		if parent == c {
			continue
		}
		p := d.dirs[parent]
		if p == nil {
			p = newDirRecord(parent, dirEntry{})
			d.dirs[parent] = p
		}
		e := dirEntry{dir: p, seq: p.created.Add(1)}
		waits = append(waits, e)
		if c != dir {
			d.dirs[c] = newDirRecord(c, e)
		}
	}
	slices.Reverse(waits)
	for a := d.dirs[top]; a != nil && a.entry.dir != nil; a = a.entry.dir {
		if a.entry.dir.synced.Load() < a.entry.seq {
			waits = append(waits, a.entry)
		}
	}
	return waits, nil
}

// remove removes dir, a topic directory a destroyed queue left empty, and
// forgets its record. Under mu, as create's look and MkdirAll are: a
// removal between them made create count a re-created directory as one
// that existed, so its new entry in the root was never waited for; and a
// record kept past its directory would serve a later re-creation.
func (d *Dirs) remove(fsys vfs.FS, dir string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := fsys.Remove(dir); err != nil {
		return err
	}
	delete(d.dirs, dir)
	return nil
}
