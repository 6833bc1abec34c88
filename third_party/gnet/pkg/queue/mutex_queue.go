// Copyright (c) 2026 The actormq Authors. Licensed under the Apache License,
// Version 2.0, as the rest of this module.

package queue

import (
	"sync"
	"sync/atomic"
)

// actormq: mutexQueue is the epoll poller's task queue: a ring of tasks
// behind a mutex. The lock-free queue allocates a node per Enqueue (its
// nodes cannot be reused safely), and on a broker whose event loops get a
// task for every flush of a connection's answers (netio) those nodes were
// most of its steady heap garbage while consumers pulled. The ring grows by
// doubling and is kept, so a queue in use allocates nothing. Producers are
// the few goroutines that answer on a loop's connections and the lock is
// held for one store, so it is not contended in practice.
type mutexQueue struct {
	mu     sync.Mutex
	ring   []*Task // len is a power of two
	head   int     // index of the oldest task
	length atomic.Int32
}

// NewMutexQueue returns an empty queue with room for 64 tasks.
func NewMutexQueue() AsyncTaskQueue {
	return &mutexQueue{ring: make([]*Task, 64)}
}

// Enqueue adds task at the tail.
func (q *mutexQueue) Enqueue(task *Task) {
	q.mu.Lock()
	n := int(q.length.Load())
	if n == len(q.ring) {
		bigger := make([]*Task, 2*len(q.ring))
		for i := 0; i < n; i++ {
			bigger[i] = q.ring[(q.head+i)&(len(q.ring)-1)]
		}
		q.ring, q.head = bigger, 0
	}
	q.ring[(q.head+n)&(len(q.ring)-1)] = task
	q.length.Store(int32(n + 1))
	q.mu.Unlock()
}

// Dequeue removes and returns the oldest task, or nil when there is none.
func (q *mutexQueue) Dequeue() *Task {
	if q.length.Load() == 0 {
		return nil
	}
	q.mu.Lock()
	n := q.length.Load()
	if n == 0 {
		q.mu.Unlock()
		return nil
	}
	task := q.ring[q.head]
	q.ring[q.head] = nil
	q.head = (q.head + 1) & (len(q.ring) - 1)
	q.length.Store(n - 1)
	q.mu.Unlock()
	return task
}

// IsEmpty reports whether the queue holds no task.
func (q *mutexQueue) IsEmpty() bool { return q.length.Load() == 0 }

// Length returns the number of tasks queued.
func (q *mutexQueue) Length() int32 { return q.length.Load() }
