package check

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/actormq/actormq/sim/faultfs"
	"github.com/actormq/actormq/sim/history"
	"github.com/actormq/actormq/wire/message"
)

const segBytes = 4096

// writeStore writes the records of ids (queue 0, offsets 0..) into one
// CommitLog segment, and their consume-queue units, on a faultfs. It
// returns the FS and the CommitLog offset of each record's first body
// byte.
func writeStore(t *testing.T, ids ...string) (*faultfs.FS, []int64) {
	t.Helper()
	fs := faultfs.New(1)
	host := netip.MustParseAddrPort("127.0.0.1:10911")
	seg := make([]byte, 0, segBytes)
	var cq []byte
	var phys, bodies []int64
	for i, id := range ids {
		m := message.Message{
			QueueID: 0, QueueOffset: int64(i), PhysicalOffset: int64(len(seg)), BornHost: host, StoreHost: host,
			Topic: topic, Body: body(id), Properties: message.FormatProperties(map[string]string{message.PropertyUniqKey: id}),
		}
		phys = append(phys, int64(len(seg)))
		seg = message.AppendRecord(seg, &m)
		// The body ends where topic length, topic, properties length and
		// properties begin.
		tail := 1 + len(m.Topic) + 2 + len(m.Properties)
		bodies = append(bodies, int64(len(seg)-tail-len(m.Body)))
		unit := make([]byte, cqUnitBytes)
		binary.BigEndian.PutUint64(unit, uint64(phys[i]))
		binary.BigEndian.PutUint32(unit[8:], uint32(int64(len(seg))-phys[i]))
		cq = append(cq, unit...)
	}
	seg = seg[:segBytes]
	write(t, fs, "/store/commitlog/00000000000000000000", seg)
	write(t, fs, "/store/consumequeue/"+topic+"/0/00000000000000000000", append(cq, make([]byte, cqUnitBytes)...))
	return fs, bodies
}

func write(t *testing.T, fs *faultfs.FS, name string, b []byte) {
	t.Helper()
	if err := fs.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := fs.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(b, 0); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// flip flips a bit of the CommitLog byte at off.
func flip(t *testing.T, fs *faultfs.FS, off int64) {
	t.Helper()
	if err := fs.FlipBit("/store/commitlog/00000000000000000000", off, 2); err != nil {
		t.Fatal(err)
	}
}

func scan(t *testing.T, fs *faultfs.FS) *Store {
	t.Helper()
	st, err := ScanStore(Layout{FS: fs, RootDir: "/store", CommitLogBytes: segBytes, Topics: []string{topic}})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func ids(st *Store) []string {
	var out []string
	for _, r := range st.Records {
		out = append(out, r.ID)
	}
	return out
}

// TestScanStore reads records and units back, tells damage inside the
// data (a problem) from a bad tail (the end), and finds units that point
// nowhere.
func TestScanStore(t *testing.T) {
	tests := []struct {
		name     string
		damage   func(fs *faultfs.FS, bodies []int64)
		ids      string
		problems int
	}{
		{name: "intact", ids: "[a b c]"},
		{name: "damaged middle record", problems: 1, ids: "[a c]", damage: func(fs *faultfs.FS, bodies []int64) {
			flip(t, fs, bodies[1])
		}},
		{name: "damaged last record is the end", ids: "[a b]", damage: func(fs *faultfs.FS, bodies []int64) {
			flip(t, fs, bodies[2])
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs, bodies := writeStore(t, "a", "b", "c")
			if tt.damage != nil {
				tt.damage(fs, bodies)
			}
			st := scan(t, fs)
			if got := fmt.Sprint(ids(st)); got != tt.ids || len(st.Problems) != tt.problems {
				t.Fatalf("records %s problems %q, want %s and %d problems", got, st.Problems, tt.ids, tt.problems)
			}
			if n := len(st.Queues[QueueKey{topic, 0}]); n != 3 {
				t.Fatalf("%d units, want 3", n)
			}
		})
	}
}

// TestScanFeedsTheChecker: a unit that points at a damaged record is a
// log-valid violation.
func TestScanFeedsTheChecker(t *testing.T) {
	fs, bodies := writeStore(t, "a", "b", "c")
	flip(t, fs, bodies[1])
	st := scan(t, fs)
	var evs []history.Event
	for _, id := range []string{"a", "b", "c"} {
		evs = append(evs, history.Event{Seq: int64(len(evs)), Kind: history.Send, ID: id, Topic: topic},
			history.Event{Seq: int64(len(evs) + 1), Kind: history.Maybe, ID: id, Topic: topic})
	}
	res := Check(Config{Topic: topic, Body: body}, evs, st)
	n := 0
	for _, v := range res.Violations {
		if v.Invariant != "log-valid" {
			t.Fatalf("unexpected violation %s: %s", v.Invariant, v.Msg)
		}
		n++
	}
	if n < 2 { // the damaged record, and the unit pointing at it
		t.Fatalf("%d log-valid violations, want the damage and the dangling unit: %v", n, res.Violations)
	}
}
