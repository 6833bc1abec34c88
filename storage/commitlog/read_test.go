package commitlog

import (
	"bytes"
	"errors"
	"testing"
	"unsafe"

	"github.com/actormq/actormq/storage/vfs"
	"github.com/actormq/actormq/wire/message"
)

// TestReadMessageAndRecord: both readers return every record at its start
// (ReadMessage with a copied body, ReadRecord zero-copy), refuse offsets
// that are not a record start, and only the CRC-checking read refuses a
// record whose body changed.
func TestReadMessageAndRecord(t *testing.T) {
	dir := t.TempDir()
	l := openTest(t, dir, vfs.Default)
	defer l.Close()
	recs := appendN(t, l, 0, 30)
	for seq, a := range recs {
		body := bodyOf(seq)
		m, err := l.ReadMessage(a.offset)
		if err != nil || m.PhysicalOffset != a.offset || m.QueueOffset != a.qo || !bytes.Equal(m.Body, body) {
			t.Fatalf("ReadMessage(%d) = phys %d queueOffset %d err %v", a.offset, m.PhysicalOffset, m.QueueOffset, err)
		}
		s, r, err := l.ReadRecord(a.offset, true)
		if err != nil || len(s.B) != len(a.rec) || !bytes.Equal(r.Body, body) || r.Properties != m.Properties {
			t.Fatalf("ReadRecord(%d) = %d bytes err %v", a.offset, len(s.B), err)
		}
		if !within(r.Body, s.B) || within(m.Body, s.B) {
			t.Fatalf("record %d: ReadRecord's body must alias the mapping, ReadMessage's must not", seq)
		}
		s.Release()
	}

	last := recs[len(recs)-1]
	end := last.offset + int64(len(last.rec))
	for _, off := range []int64{-1, 1, recs[3].offset + 4, recs[3].offset + 20, end, end + 100, testFileSize - 1} {
		if _, err := l.ReadMessage(off); !errors.Is(err, ErrOffsetNotFound) && !errors.Is(err, message.ErrCorrupt) {
			t.Fatalf("ReadMessage(%d) = %v, want a refusal", off, err)
		}
		if _, _, err := l.ReadRecord(off, false); !errors.Is(err, ErrOffsetNotFound) && !errors.Is(err, message.ErrCorrupt) {
			t.Fatalf("ReadRecord(%d) = %v, want a refusal", off, err)
		}
	}

	a := recs[5]
	at := a.offset + int64(bytes.Index(a.rec, bodyOf(5)))
	writeAt(t, dir, at, []byte{^bodyOf(5)[0]})
	if _, err := l.ReadMessage(a.offset); !errors.Is(err, message.ErrCorrupt) {
		t.Fatalf("ReadMessage of a changed body = %v, want ErrCorrupt", err)
	}
	s, _, err := l.ReadRecord(a.offset, false)
	if err != nil {
		t.Fatalf("ReadRecord without CRC check of a changed body: %v", err)
	}
	s.Release()
}

// bodyOf is the body testRecord gives record seq.
func bodyOf(seq int) []byte {
	body := make([]byte, bodyLenFor(seq))
	for i := range body {
		body[i] = byte(seq*31 + i)
	}
	return body
}

// within reports whether b starts inside buf.
func within(b, buf []byte) bool {
	p, lo := uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(unsafe.Pointer(unsafe.SliceData(buf)))
	return p >= lo && p < lo+uintptr(len(buf))
}
