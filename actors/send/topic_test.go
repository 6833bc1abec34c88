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

// TestQueueRefPerQueue: a topic actor hands the writer one QueueRef per
// queue id, the same one at every send, made only for queues sent to.
func TestQueueRefPerQueue(t *testing.T) {
	ta := newTopicActor(nil, "TopicTest", nil)
	if r := ta.queueRef(-1); r != nil {
		t.Fatalf("queueRef(-1) = %p, want nil", r)
	}
	r3 := ta.queueRef(3)
	if r3 == nil || ta.queueRef(3) != r3 {
		t.Fatal("queue 3 did not keep one ref")
	}
	r0 := ta.queueRef(0)
	if r0 == nil || r0 == r3 || ta.queueRef(3) != r3 {
		t.Fatal("queues 0 and 3 share a ref, or queue 3's changed")
	}
	if len(ta.refs) != 4 || ta.refs[1] != nil || ta.refs[2] != nil {
		t.Fatalf("refs %v: queues never sent to hold a ref", ta.refs)
	}
}
