package commitlog

import (
	"errors"
	"strconv"
	"testing"

	"github.com/actormq/actormq/wire/message"
)

// TestCheckUnit: a record passes only as the unit it was written for; a
// frame error, or another topic, queue id or queue offset, is ErrCorrupt.
func TestCheckUnit(t *testing.T) {
	rec := testRecord(2, 64) // TopicTest, queue 2
	const offset, queueOffset = 4096, 17
	message.PatchStored(rec, queueOffset, offset, 1_700_000_000_000)
	tests := []struct {
		name        string
		rec         []byte
		offset      int64
		topic       string
		queueID     int32
		queueOffset int64
		ok          bool
	}{
		{name: "its unit", rec: rec, offset: offset, topic: "TopicTest", queueID: 2, queueOffset: queueOffset, ok: true},
		{name: "topic with a flipped bit", rec: rec, offset: offset, topic: "TopicTesu", queueID: 2, queueOffset: queueOffset},
		{name: "topic prefix", rec: rec, offset: offset, topic: "TopicTes", queueID: 2, queueOffset: queueOffset},
		{name: "queue id", rec: rec, offset: offset, topic: "TopicTest", queueID: 3, queueOffset: queueOffset},
		{name: "queue offset", rec: rec, offset: offset, topic: "TopicTest", queueID: 2, queueOffset: queueOffset + 1},
		{name: "physical offset", rec: rec, offset: offset + 8, topic: "TopicTest", queueID: 2, queueOffset: queueOffset},
		{name: "cut short", rec: rec[:len(rec)-1], offset: offset, topic: "TopicTest", queueID: 2, queueOffset: queueOffset},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckUnit(tt.rec, tt.offset, tt.topic, tt.queueID, tt.queueOffset)
			if tt.ok != (err == nil) || (err != nil && !errors.Is(err, ErrCorrupt)) {
				t.Fatalf("CheckUnit: %v, want ok=%v (else ErrCorrupt)", err, tt.ok)
			}
		})
	}
}

// TestCheckUnitAllocatesNothing: the pull path calls it per message.
func TestCheckUnitAllocatesNothing(t *testing.T) {
	rec := testRecord(1, 128)
	message.PatchStored(rec, 5, 0, 1)
	if n := testing.AllocsPerRun(100, func() {
		if err := CheckUnit(rec, 0, "TopicTest", 1, 5); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Fatalf("CheckUnit allocates %.1f times", n)
	}
}

// BenchmarkCheckUnit compares the pull's per-message check before (frame:
// size, magic, physical offset) and after (unit: + topic, queue id, queue
// offset). Run: go test -run x -bench CheckUnit -benchmem ./storage/commitlog
func BenchmarkCheckUnit(b *testing.B) {
	for _, bodyLen := range []int{128, 1024} {
		rec := testRecord(1, bodyLen)
		message.PatchStored(rec, 5, 0, 1)
		b.Run("frame/body"+strconv.Itoa(bodyLen), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if CheckFrame(rec, 0) != nil {
					b.Fatal("frame")
				}
			}
		})
		b.Run("unit/body"+strconv.Itoa(bodyLen), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if CheckUnit(rec, 0, "TopicTest", 1, 5) != nil {
					b.Fatal("unit")
				}
			}
		})
	}
}
