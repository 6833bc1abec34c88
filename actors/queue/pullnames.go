package queue

import (
	"strings"
	"sync"

	"github.com/actormq/actormq/wire/body"
)

// A pull request's header strings live in its pooled frame, which
// handlePull releases before it returns (wire/remoting's framepool.go). A
// pullReq outlives it (held by a long poll, answered by a queue actor) and
// its group and topic become keys of long-lived maps: the offset table,
// the per-group get counters, a new queue's registry entry. So validatePull
// gives the request strings that own their memory: the topic name of the
// topic table's snapshot, the group name from groupNames. Rejected: a
// strings.Clone of both per pull (two allocations per pull, the garbage
// pooling removed); keeping the frame alive until the answer (a held pull
// would pin a pooled buffer for up to its suspend timeout, and the map keys
// would still alias it).

// groupNamesMax bounds groupNames: consumer group names come from clients,
// and a broker serves far fewer groups than this. Past it, a pull of a new
// group gets a copy of its own (an allocation), never a table entry. Names
// longer than a valid group's (body.GroupBytesMax; pulls do not validate
// them) are copied, never interned, so the table holds at most ~4 MiB
// rather than 16,384 names as long as a frame allows.
const groupNamesMax = 1 << 14

// internTable hands out one owned copy per distinct string. Any goroutine:
// the gnet loops read it under a read lock; an insert (a group's first
// pull) takes the write lock.
type internTable struct {
	mu sync.RWMutex
	m  map[string]string
}

// groupNames interns consumer group names for every Registry of the
// process: the names are immutable copies, so sharing them between
// brokers (tests run several) is harmless.
var groupNames = internTable{m: make(map[string]string)}

// get returns a string equal to s that does not alias s's memory: the
// table's copy, a new one added to the table, or, when the table is full
// or s too long for a group name, a plain copy.
func (t *internTable) get(s string) string {
	if len(s) > body.GroupBytesMax {
		return strings.Clone(s)
	}
	t.mu.RLock()
	v, ok := t.m[s]
	t.mu.RUnlock()
	if ok {
		return v
	}
	v = strings.Clone(s)
	t.mu.Lock()
	defer t.mu.Unlock()
	if old, ok := t.m[s]; ok {
		return old
	}
	if len(t.m) < groupNamesMax {
		t.m[v] = v
	}
	return v
}
