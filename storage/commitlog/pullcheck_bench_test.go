package commitlog

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"testing"

	"github.com/actormq/actormq/wire/message"
)

// BenchmarkPullCheck measures what checking a record on the pull path
// would add to the zero-copy read a pull does per message today:
//
//	read    Read + Release (the pull's commit-log cost now)
//	header  + TOTALSIZE, MAGICCODE and PHYSICALOFFSET checked (32 bytes)
//	crc     + crc32 of the body compared with BODYCRC (the body located
//	          from the record's known layout, as a dedicated checker would)
//	decode  + DecodeRecord with the CRC check (what recovery runs)
//
// Run: go test -run x -bench PullCheck -benchmem ./storage/commitlog
func BenchmarkPullCheck(b *testing.B) {
	for _, bodyLen := range []int{128, 1024, 4096} {
		l, err := Open(Config{Dir: b.TempDir(), FileSize: 64 << 20})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := l.Recover(false, 0); err != nil {
			b.Fatal(err)
		}
		const records = 1024
		offs := make([]int64, records)
		rec := testRecord(1, bodyLen)
		for i := range offs {
			if offs[i], err = l.Append(rec, int64(i), int64(i)); err != nil {
				b.Fatal(err)
			}
		}
		m, _, _ := message.DecodeRecord(rec, true)
		bodyAt := bytes.Index(rec, m.Body) // same layout for every record
		size := len(rec)
		checks := []struct {
			name  string
			check func(off int64, r []byte) bool
		}{
			{"read", func(int64, []byte) bool { return true }},
			{"header", func(off int64, r []byte) bool {
				return int(binary.BigEndian.Uint32(r)) == len(r) &&
					int32(binary.BigEndian.Uint32(r[4:])) == message.MagicV1 &&
					int64(binary.BigEndian.Uint64(r[28:])) == off
			}},
			{"crc", func(off int64, r []byte) bool {
				return int64(binary.BigEndian.Uint64(r[28:])) == off &&
					crc32.ChecksumIEEE(r[bodyAt:bodyAt+bodyLen]) == binary.BigEndian.Uint32(r[8:])
			}},
			{"decode", func(off int64, r []byte) bool {
				_, _, err := message.DecodeRecord(r, true)
				return err == nil
			}},
		}
		for _, c := range checks {
			b.Run(fmt.Sprintf("%s/body%d", c.name, bodyLen), func(b *testing.B) {
				b.ReportAllocs()
				for i := 0; i < b.N; i++ {
					off := offs[i%records]
					s, err := l.Read(off, size)
					if err != nil || !c.check(off, s.B) {
						b.Fatalf("record at %d: %v", off, err)
					}
					s.Release()
				}
			})
		}
		l.Close()
	}
}
