package remoting

import "sync"

// extPool recycles extFields maps between decodes. A map of more than 8
// entries costs several allocations (the Go client's send header has 13),
// so a handler that is done with a request's header on the event loop
// hands the map back with ReleaseExt and the next decode reuses it.
var extPool sync.Pool

// extPooledEntriesMax keeps maps that grew for a hostile header out of the
// pool.
const extPooledEntriesMax = 64

// newExtFields returns an empty map for a decode, from the pool when it has
// one.
func newExtFields(hint int) map[string]string {
	if m, ok := extPool.Get().(map[string]string); ok {
		return m
	}
	return make(map[string]string, hint)
}

// ReleaseExt hands c.ExtFields (or the fields of a send header,
// sendext.go) back for reuse by a later DecodeFrame and sets it to nil. Only a map DecodeFrame made is recycled; one the caller
// built is left alone. Strings read from the map stay valid (they never
// point into it).
//
// Ownership: call it only from the goroutine that owns c, when nothing else
// holds or will read the map, e.g. a handler that has parsed the header on
// the event loop and passes on only the parsed values (and c, whose
// ExtFields is then nil).
func (c *Command) ReleaseExt() {
	if s := c.send; s != nil {
		c.send = nil
		s.release()
	}
	m := c.ExtFields
	c.ExtFields = nil
	if m == nil || !c.extDecoded {
		return
	}
	c.extDecoded = false
	if len(m) > extPooledEntriesMax {
		return
	}
	clear(m)
	extPool.Put(m)
}
