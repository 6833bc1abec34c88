package commitlog

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/actormq/actormq/wire/message"
)

// seedRecords are records of every shape checkRecord distinguishes, stored
// at offset 4096.
func seedRecords() [][]byte {
	v6 := netip.MustParseAddrPort("[::1]:40000")
	shapes := []message.Message{
		{Topic: "TopicTest", Body: []byte("body"), Properties: "KEYS\x01k\x02UNIQ_KEY\x01ID1\x02"},
		{Topic: "TopicTest", Body: []byte("no properties")},
		{Topic: strings.Repeat("T", 200), Body: []byte("V2 magic"), Properties: "A\x01b\x02"},
		{Topic: "TopicTest", BornHost: v6, StoreHost: v6, Body: []byte("IPv6 hosts"), Properties: "A\x01b"},
	}
	var out [][]byte
	for i := range shapes {
		m := &shapes[i]
		if !m.BornHost.IsValid() {
			m.BornHost, m.StoreHost = testBornHost, testStoreHost
		}
		rec := message.AppendRecord(nil, m)
		message.PatchStored(rec, int64(i), 4096, 1_800_000_000_000)
		out = append(out, rec)
	}
	return out
}

// FuzzCheckRecord: whatever the bytes, checkRecord does not panic, and it
// accepts exactly the records message.DecodeRecord accepts that are stored
// at their own offset and not torn (non-empty topic without NUL, non-empty
// properties not ending in NUL), with the same size. So recovery keeps only
// records that re-dispatch and readers can decode.
func FuzzCheckRecord(f *testing.F) {
	for _, rec := range seedRecords() {
		f.Add(rec, int64(4096), true)
		torn := append([]byte(nil), rec...)
		clear(torn[len(torn)-3:])
		f.Add(torn, int64(4096), false)
	}
	f.Fuzz(func(t *testing.T, b []byte, offset int64, checkCRC bool) {
		n, err := checkRecord(b, offset, checkCRC)
		m, dn, derr := message.DecodeRecord(b, checkCRC)
		want := derr == nil && m.PhysicalOffset == offset && m.Topic != "" && !strings.Contains(m.Topic, "\x00") &&
			(m.Properties == "" || m.Properties[len(m.Properties)-1] != 0)
		switch {
		case want && err != nil:
			t.Fatalf("checkRecord refused a record DecodeRecord accepts: %v", err)
		case !want && err == nil:
			t.Fatalf("checkRecord accepted %d bytes; DecodeRecord: %v, PHYSICALOFFSET %d (want %d), topic %q, properties %q",
				n, derr, m.PhysicalOffset, offset, m.Topic, m.Properties)
		case err == nil && n != dn:
			t.Fatalf("checkRecord size %d, DecodeRecord size %d", n, dn)
		}
	})
}

// checkRecord allocates nothing for a valid record: recovery runs it over
// every record since the checkpoint.
func TestCheckRecordAllocatesNothing(t *testing.T) {
	recs := seedRecords()
	allocs := testing.AllocsPerRun(100, func() {
		for _, rec := range recs {
			if _, err := checkRecord(rec, 4096, true); err != nil {
				t.Fatal(err)
			}
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per run, want 0", allocs)
	}
}
