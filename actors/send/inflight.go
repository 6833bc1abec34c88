package send

// Inflight is the number of sends accepted and not answered yet: the
// closest thing this broker has to Java's send thread-pool queue
// (GET_BROKER_RUNTIME_INFO sendThreadPoolQueueSize). Any goroutine.
func (s *Sender) Inflight() int64 { return s.gate.Inflight() }

// InflightMax is the bound on Inflight (sendThreadPoolQueueCapacity).
func (s *Sender) InflightMax() int64 { return s.gate.Max() }
