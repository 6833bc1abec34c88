package netio

import (
	"strconv"
	"sync"
	"testing"
)

// TestGrowListKeepsOrderAndRecycles: growList keeps every element in
// order while a burst grows a list far past outboxKeepMax, and each list
// the burst outgrew goes to the pool cleared (a pooled list must not keep
// frames alive), ready to serve a later burst.
func TestGrowListKeepsOrderAndRecycles(t *testing.T) {
	var pool sync.Pool
	var s [][]byte
	const n = 4 * outboxKeepMax
	for i := range n {
		s = growList(&pool, s, 1)
		s = append(s, []byte(strconv.Itoa(i)))
	}
	for i, b := range s {
		if string(b) != strconv.Itoa(i) {
			t.Fatalf("element %d reads %q", i, b)
		}
	}
	p, _ := pool.Get().(*[][]byte)
	if p == nil {
		// sync.Pool may drop items (always under -race); nothing more to check.
		return
	}
	if cap(*p) <= outboxKeepMax || len(*p) != 0 {
		t.Fatalf("pooled list len %d cap %d", len(*p), cap(*p))
	}
	for i, b := range (*p)[:cap(*p)] {
		if b != nil {
			t.Fatalf("pooled list keeps element %d", i)
		}
	}
}
