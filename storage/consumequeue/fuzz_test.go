package consumequeue

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzRecover feeds arbitrary bytes as the queue's two files and checks that
// Open never panics and leaves a queue whose offsets are consistent, whose
// units below MaxOffset are all valid and which accepts the next unit.
func FuzzRecover(f *testing.F) {
	valid := make([]byte, 2*smallFile)
	for i := int64(0); i < 7; i++ {
		writeUnit(valid[i*UnitBytes:], msgUnit(i))
	}
	f.Add(valid)
	f.Add([]byte{})
	withFillers := make([]byte, smallFile)
	writeUnit(withFillers, fillerUnit)
	writeUnit(withFillers[UnitBytes:], msgUnit(3))
	f.Add(withFillers)
	f.Fuzz(func(t *testing.T, data []byte) {
		root := t.TempDir()
		dir := filepath.Join(root, "TopicA", "3")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for i, start := range []int64{0, smallFile} {
			lo := min(len(data), i*smallFile)
			hi := min(len(data), (i+1)*smallFile)
			if err := os.WriteFile(filepath.Join(dir, fileName(start)), data[lo:hi], 0o644); err != nil {
				t.Fatal(err)
			}
		}
		q, err := Open(Config{RootDir: root, Topic: "TopicA", QueueID: 3, FileSize: smallFile})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		defer q.Close()
		minOff, maxOff := q.MinOffset(), q.MaxOffset()
		if minOff < 0 || minOff > maxOff || maxOff > 2*smallFile/UnitBytes {
			t.Fatalf("min %d max %d", minOff, maxOff)
		}
		units, err := q.Get(0, make([]Unit, 0, 2*smallFile/UnitBytes))
		if err != nil || int64(len(units)) != maxOff {
			t.Fatalf("Get: %d units, err %v, max %d", len(units), err, maxOff)
		}
		for _, u := range units {
			if !validUnit(u) {
				t.Fatalf("invalid unit %+v below max", u)
			}
		}
		next := Unit{CommitLogOffset: q.MaxPhysicalOffset(), Size: 1}
		if err := q.Put(maxOff, next); err != nil && maxOff < 2*smallFile/UnitBytes {
			t.Fatalf("Put(%d): %v", maxOff, err)
		}
	})
}
