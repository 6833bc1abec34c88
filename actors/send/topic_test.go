package send

import (
	"net/netip"
	"testing"
)

// TestBornHost checks the BORNHOST parsing of connection addresses:
// IPv4-mapped addresses become IPv4 (8-byte hosts), zones are dropped, and
// anything unparsable is 0.0.0.0:0. The one-entry cache must not leak a
// previous address into the next.
func TestBornHost(t *testing.T) {
	tests := []struct {
		remote string
		want   netip.AddrPort
	}{
		{remote: "127.0.0.1:5555", want: netip.MustParseAddrPort("127.0.0.1:5555")},
		{remote: "[::1]:80", want: netip.MustParseAddrPort("[::1]:80")},
		{remote: "[::ffff:10.0.0.1]:9", want: netip.MustParseAddrPort("10.0.0.1:9")},
		{remote: "[fe80::1%eth0]:7", want: netip.MustParseAddrPort("[fe80::1]:7")},
		{remote: "127.0.0.1:5555", want: netip.MustParseAddrPort("127.0.0.1:5555")},
		{remote: "127.0.0.1:70000", want: netip.MustParseAddrPort("0.0.0.0:0")},
		{remote: "host.example:80", want: netip.MustParseAddrPort("0.0.0.0:0")},
		{remote: "garbage", want: netip.MustParseAddrPort("0.0.0.0:0")},
		{remote: "", want: netip.MustParseAddrPort("0.0.0.0:0")},
	}
	ta := newTopicActor(nil, "TopicTest", nil)
	for _, tt := range tests {
		if got := ta.bornHost(tt.remote); got != tt.want {
			t.Errorf("bornHost(%q) = %v, want %v", tt.remote, got, tt.want)
		}
	}
}
