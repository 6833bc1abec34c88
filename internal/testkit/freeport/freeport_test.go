package freeport

import (
	"net"
	"testing"
)

// TestPickOutsideEphemeralRange: picks lie in Range, every port of every
// group is free and no port is handed out twice.
func TestPickOutsideEphemeralRange(t *testing.T) {
	lo, hi, err := Range()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for range 50 {
		p, err := Pick(0, -2, 1)
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range []int{p, p - 2, p + 1} {
			if q < lo || q > hi || seen[q] || !Free(q) {
				t.Fatalf("port %d of group %d: range %d-%d, handed out before %v", q, p, lo, hi, seen[q])
			}
			seen[q] = true
		}
	}
}

// TestFreeSeesTimeWait: a port held by a closed client connection in
// TIME_WAIT is not free, which is what would block a restarted server.
func TestFreeSeesTimeWait(t *testing.T) {
	p, err := Pick()
	if err != nil {
		t.Fatal(err)
	}
	srv, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: p}}
	c, err := d.Dial("tcp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	s, err := srv.Accept()
	if err != nil {
		t.Fatal(err)
	}
	_ = c.Close() // the client closes first: its side goes to TIME_WAIT
	_ = s.Close()
	if Free(p) {
		t.Fatalf("port %d free while a client connection from it is in TIME_WAIT", p)
	}
}
