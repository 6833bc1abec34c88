package transaction

import "time"

// Scan runs one check scan now, as a tick of the timer does, and returns
// once it has ended with its copies and discards stored and its checks
// written (answerScan). A scan already running counts instead of a new one.
func Scan(s *Service, timeout time.Duration) error {
	_, err := s.system.Root.RequestFuture(s.pid, &scanRequest{}, timeout).Result()
	return err
}
