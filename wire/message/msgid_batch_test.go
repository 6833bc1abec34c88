package message

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"strings"
	"testing"
)

func TestOffsetMsgID(t *testing.T) {
	tests := []struct {
		name   string
		host   string
		offset int64
		want   string
	}{
		{name: "doc example", host: "127.0.0.1:20911", offset: 0, want: "7F000001000051AF0000000000000000"},
		{name: "offset", host: "10.0.0.1:10911", offset: 0x1234ABCD, want: "0A00000100002A9F000000001234ABCD"},
		{name: "ipv6", host: "[2001:db8::1]:10911", offset: 1, want: "20010DB8000000000000000000000001" + "00002A9F" + "0000000000000001"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			host := netip.MustParseAddrPort(tc.host)
			got := OffsetMsgID(host, tc.offset)
			if got != tc.want {
				t.Fatalf("OffsetMsgID = %s, want %s", got, tc.want)
			}
			h, off, err := ParseOffsetMsgID(got)
			if err != nil || h != host || off != tc.offset {
				t.Fatalf("ParseOffsetMsgID = %v %d %v", h, off, err)
			}
		})
	}
	h, off, err := ParseOffsetMsgID("7f000001000051af0000000000000010")
	if err != nil || h != netip.MustParseAddrPort("127.0.0.1:20911") || off != 16 {
		t.Fatalf("lowercase: %v %d %v", h, off, err)
	}
	for _, bad := range []string{"", "7F000001000051AF000000000000000", "7F000001000051AF000000000000000G", "7F000001FFFFFFFF0000000000000000"} {
		if _, _, err := ParseOffsetMsgID(bad); !errors.Is(err, ErrBadMsgID) {
			t.Errorf("ParseOffsetMsgID(%q) err = %v", bad, err)
		}
	}
	buf := make([]byte, 0, 64)
	host := netip.MustParseAddrPort("127.0.0.1:20911")
	if n := testing.AllocsPerRun(100, func() { buf = AppendOffsetMsgID(buf[:0], host, 42) }); n != 0 {
		t.Fatalf("AppendOffsetMsgID allocates %v times", n)
	}
}

func TestDecodeBatch(t *testing.T) {
	items := []BatchItem{
		{Flag: 1, Body: []byte("first"), Properties: "KEYS\x01k1\x02"},
		{Flag: 0, Body: nil, Properties: ""},
		{Flag: -1, Body: []byte("third body"), Properties: "UNIQ_KEY\x01X\x02TAGS\x01t\x02"},
	}
	b := EncodeBatch(items)
	// Hand-check the first item's layout.
	wantFirst := []byte{0, 0, 0, 22 + 5 + 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 5, 'f', 'i', 'r', 's', 't', 0, 8}
	if !bytes.HasPrefix(b, wantFirst) {
		t.Fatalf("item bytes % x", b[:len(wantFirst)])
	}
	got, err := DecodeBatch(b)
	if err != nil {
		t.Fatalf("DecodeBatch: %v", err)
	}
	if !reflect.DeepEqual(got, items) {
		t.Fatalf("DecodeBatch = %+v", got)
	}
	// The view decode appends to a scratch slice, aliasing b, and allocates
	// nothing once the scratch has room.
	scratch := []BatchItem{{Flag: 9}}
	view, err := DecodeBatchView(scratch, b)
	if err != nil || !reflect.DeepEqual(view[1:], items) || view[0].Flag != 9 {
		t.Fatalf("DecodeBatchView = %+v, %v", view, err)
	}
	if n := testing.AllocsPerRun(50, func() { view, _ = DecodeBatchView(view[:0], b) }); n != 0 {
		t.Fatalf("DecodeBatchView allocates %v times", n)
	}

	be := binary.BigEndian
	edit := func(f func(b []byte)) []byte { c := bytes.Clone(b); f(c); return c }
	bad := []struct {
		name string
		in   []byte
	}{
		{name: "empty", in: nil},
		{name: "short tail", in: append(bytes.Clone(b), 0, 0, 0)},
		{name: "cut", in: b[:len(b)-1]},
		{name: "size too small", in: edit(func(c []byte) { be.PutUint32(c, 21) })},
		{name: "size disagrees", in: edit(func(c []byte) { be.PutUint32(c, 22+5+8+1) })},
		{name: "negative body length", in: edit(func(c []byte) { be.PutUint32(c[16:], 0x80000000) })},
		{name: "body past item", in: edit(func(c []byte) { be.PutUint32(c[16:], 16) })},
		{name: "negative size", in: edit(func(c []byte) { be.PutUint32(c, 0xFFFFFFFF) })},
	}
	for _, tc := range bad {
		if _, err := DecodeBatch(tc.in); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: err = %v", tc.name, err)
		}
	}
}

// TestAppendOffsetMsgIDMatchesHex checks the word-at-a-time digits against
// encoding/hex for IPv4 and IPv6 hosts and offsets over the whole range.
func TestAppendOffsetMsgIDMatchesHex(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	hosts := []netip.AddrPort{
		netip.MustParseAddrPort("0.0.0.0:0"),
		netip.MustParseAddrPort("255.255.255.255:65535"),
		netip.MustParseAddrPort("10.9.250.171:10911"),
		netip.MustParseAddrPort("[2001:db8:abcd:ef01::9a]:10911"),
	}
	offsets := []int64{0, 1, -1, 1<<63 - 1, -1 << 63, 0x0123456789ABCDEF}
	for range 1000 {
		offsets = append(offsets, int64(rng.Uint64()))
	}
	for _, host := range hosts {
		var raw [28]byte
		n := putHost(raw[:], host, isV6(host))
		for _, off := range offsets {
			binary.BigEndian.PutUint64(raw[n:], uint64(off))
			want := strings.ToUpper(hex.EncodeToString(raw[:n+8]))
			if got := string(AppendOffsetMsgID([]byte("x,"), host, off)); got != "x,"+want {
				t.Fatalf("AppendOffsetMsgID(%v, %#x) = %s, want x,%s", host, off, got, want)
			}
		}
	}
}

// TestMsgIDPrefixAppend: an id written from a host's prefix is the id
// AppendOffsetMsgID writes, for IPv4, IPv6 and unspecified hosts and
// offsets across the whole int64 range (negative ones included: an offset
// is rendered as its 64 bits).
func TestMsgIDPrefixAppend(t *testing.T) {
	hosts := []string{"127.0.0.1:20911", "10.255.0.1:65535", "[2001:db8::1]:10911", "0.0.0.0:0", "[::ffff:1.2.3.4]:1"}
	offsets := []int64{0, 1, 0xF, 0x1234ABCD, 1 << 32, 1<<63 - 1, -1}
	r := rand.New(rand.NewPCG(1, 2))
	for range 100 {
		offsets = append(offsets, r.Int64())
	}
	for _, hs := range hosts {
		host := netip.MustParseAddrPort(hs)
		p := NewMsgIDPrefix(host)
		var got, want []byte
		for _, off := range offsets {
			got = p.Append(append(got, ','), off)
			want = AppendOffsetMsgID(append(want, ','), host, off)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("%s: prefix ids\n%s\nwant\n%s", hs, got, want)
		}
	}
}
