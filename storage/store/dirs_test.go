package store

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/actormq/actormq/storage/consumequeue"
	"github.com/actormq/actormq/storage/vfs"
)

// syncDirCount is the OS file system counting SyncDir calls.
type syncDirCount struct {
	vfs.FS
	n atomic.Int64
}

func (c *syncDirCount) SyncDir(dir string) error {
	c.n.Add(1)
	return c.FS.SyncDir(dir)
}

// TestNewQueuesShareDirectoryFsyncs: the store's queues share their
// directory records, so flushing many new queues over few topics fsyncs
// each queue directory, each topic directory and the new consume-queue
// root (with the store root holding its entry) once, not the topic
// directory once per queue.
func TestNewQueuesShareDirectoryFsyncs(t *testing.T) {
	const topics, perTopic = 4, 25
	fsys := &syncDirCount{FS: vfs.Default}
	cfg := testConfig(t.TempDir())
	cfg.FS = fsys
	s, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.impl.shutdown(s, false) })
	var qs []*consumequeue.ConsumeQueue
	for i := range topics * perTopic {
		q, err := s.OpenQueue(QueueKey{Topic: fmt.Sprintf("T%d", i%topics), QueueID: int32(i / topics)})
		if err != nil {
			t.Fatal(err)
		}
		if err := q.Put(0, consumequeue.Unit{CommitLogOffset: int64(i) * 100, Size: 100}); err != nil {
			t.Fatal(err)
		}
		qs = append(qs, q)
	}
	before := fsys.n.Load()
	for _, q := range qs {
		if err := q.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := fsys.n.Load()-before, int64(len(qs)+topics+2); got != want {
		t.Fatalf("flushing %d new queues over %d topics fsynced %d directories, want %d", len(qs), topics, got, want)
	}
}
