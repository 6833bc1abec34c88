package store

// DropQueue forgets the queue of key once its owner has destroyed it (topic
// deletion): a later OpenQueue then creates it afresh instead of returning
// the closed one, and Close no longer closes it. Any goroutine.
func (s *Store) DropQueue(key QueueKey) {
	s.impl.mu.Lock()
	delete(s.Queues, key)
	s.impl.mu.Unlock()
}
