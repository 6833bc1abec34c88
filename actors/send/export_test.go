package send

// InboxLen is the number of sends queued for topic's actor and not taken
// yet (inbox.go), for tests that need a turn to find several sends.
func InboxLen(s *Sender, topic string) int {
	v, ok := s.topics.Load(topic)
	if !ok {
		return 0
	}
	b := &v.(*topicEntry).inbox
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.reqs)
}

// Stopping reports whether Stop has closed s to new sends.
func Stopping(s *Sender) bool { return s.gate.Stopped() }
