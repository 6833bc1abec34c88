package writer

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/actormq/actormq/actors/config"
	"github.com/actormq/actormq/actors/queue"
	"github.com/actormq/actormq/internal/testkit"
	"github.com/actormq/actormq/storage/store"
	"github.com/actormq/actormq/wire/remoting"
)

// A SYNC_FLUSH writer prefaults with CommitLog.PrefaultWritten: past the
// write position the segment's blocks are written (zeros), so the
// acknowledged msyncs convert no extents. An ASYNC_FLUSH writer leaves them
// allocated but unwritten (no second write of the log for a broker that
// gains nothing from it).
func TestSyncFlushPrefaultsWrittenBlocks(t *testing.T) {
	for _, flush := range []config.FlushType{config.FlushSync, config.FlushAsync} {
		t.Run(string(flush), func(t *testing.T) {
			dir := t.TempDir()
			const segBytes = 1 << 20
			st, err := store.Open(store.Config{RootDir: dir, CommitLogFileSize: segBytes})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			h := &harness{disp: &fakeDispatcher{units: map[store.QueueKey][]queue.Unit{}},
				conn: &fakeConn{ch: make(chan *remoting.Command, 16)}}
			w, err := Spawn(testkit.ActorSystem(t), Config{
				Broker: config.Broker{BrokerIP1: "127.0.0.1", ListenPort: 10911, FlushDiskType: flush,
					FlushIntervalCommitLog: 10 * time.Millisecond, SyncFlushTimeout: 5 * time.Second},
				Store: st, Dispatcher: h.disp,
			})
			if err != nil {
				t.Fatal(err)
			}
			h.w = w
			h.w.Submit(h.appendReq(1, "", "hello"))
			if r := h.conn.next(t); r.Code != remoting.RespSuccess {
				t.Fatalf("send: code %d %s", r.Code, r.Remark)
			}
			// The prefault request went out at start; Stop waits for it.
			if err := w.Stop(testkit.Context(t)); err != nil {
				t.Fatal(err)
			}
			unwritten, ok := unwrittenBytes(t, filepath.Join(dir, "commitlog", "00000000000000000000"), 4096, segBytes)
			if !ok {
				t.Skip("no FIEMAP on this file system")
			}
			if flush == config.FlushSync && unwritten != 0 {
				t.Fatalf("SYNC_FLUSH: %d bytes past the first page still unwritten", unwritten)
			}
			if flush == config.FlushAsync && unwritten == 0 {
				t.Fatal("ASYNC_FLUSH: the blocks ahead were written")
			}
		})
	}
}

// unwrittenBytes is how much of [from, to) of the file at path lies in
// extents FIEMAP reports as unwritten (ext4 and xfs mark fallocated blocks
// so); false if the file system has no FIEMAP.
func unwrittenBytes(t *testing.T, path string, from, to int64) (int64, bool) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	const (
		fsIocFiemap     = 0xC020660B // _IOWR('f', 11, struct fiemap)
		extentUnwritten = 0x800
		maxExtents      = 64
		header, extent  = 32, 56 // sizes of struct fiemap and fiemap_extent
	)
	buf := make([]byte, header+maxExtents*extent)
	le := binary.LittleEndian
	le.PutUint64(buf[0:], uint64(from))
	le.PutUint64(buf[8:], uint64(to-from))
	le.PutUint32(buf[24:], maxExtents)
	if _, _, errno := unix.Syscall(unix.SYS_IOCTL, f.Fd(), fsIocFiemap, uintptr(unsafe.Pointer(&buf[0]))); errno != 0 {
		return 0, false
	}
	var n int64
	for i := range int(le.Uint32(buf[20:])) {
		e := buf[header+i*extent:]
		lo, length, flags := int64(le.Uint64(e[0:])), int64(le.Uint64(e[16:])), le.Uint32(e[40:])
		if flags&extentUnwritten != 0 {
			n += min(lo+length, to) - max(lo, from)
		}
	}
	return n, true
}
