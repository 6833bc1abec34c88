package netio

import (
	"testing"
	"unsafe"

	"github.com/panjf2000/gnet/v2/pkg/buffer/linkedlist"
	bsPool "github.com/panjf2000/gnet/v2/pkg/pool/byteslice"
)

// TestGnetOutboundNodeBackToItsClass: a node of gnet's outbound list that
// the socket took only part of (Discard cuts its front) goes back to the
// byteslice pool class it came from once written, so the next node of that
// size reuses it (third_party/gnet/ACTORMQ.md, change 3). Upstream put the
// cut slice back one class lower, where a 64 KiB piece never found it
// again. sync.Pool may drop a Put (a fourth of them under -race) or miss
// one after the goroutine changed Ps, so the test tries a few times; the
// upstream code never gets the array back.
func TestGnetOutboundNodeBackToItsClass(t *testing.T) {
	const size = joinPieceBytes // the pieces writeJoined hands gnet
	piece := make([]byte, size)
	for range 50 {
		var list linkedlist.Buffer
		list.PushBack(piece)
		nodes, _ := list.Peek(-1)
		if len(nodes) != 1 || len(nodes[0]) != size {
			t.Fatalf("list holds %d nodes", len(nodes))
		}
		node := unsafe.SliceData(nodes[0])
		if n, _ := list.Discard(100); n != 100 { // a partial write
			t.Fatalf("discarded %d", n)
		}
		if n, _ := list.Discard(size); n != size-100 { // the rest
			t.Fatalf("discarded %d", n)
		}
		next := bsPool.Get(size)
		if unsafe.SliceData(next) == node {
			return
		}
	}
	t.Fatal("a node written in two parts never came back to its pool class")
}
