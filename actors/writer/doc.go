package writer

// Wiring the data plane (actors/broker does this):
//
//	st, _ := store.Open(...)                       // recovered store
//	qr, _ := queue.Spawn(system, queue.Config{
//		Broker: cfg, Store: st,
//		Topics: meta, Subscriptions: clients, Offsets: offsets,
//		Logger: log,
//	})
//	w, _ := writer.Spawn(system, writer.Config{
//		Broker: cfg, Store: st,
//		Dispatcher:      qr,                    // units → queue actors
//		LogicsTimestamp: qr.FlushedTimestamp,   // checkpoint
//		OnFlushed:       qr.WakeFlushed,        // SYNC_FLUSH pulls wait for the flush
//		Logger: log,
//	})
//	snd, _ := send.Spawn(system, send.Config{
//		Broker: cfg, Topics: meta, Writer: w, Logger: log,
//	})
//	// router: merge snd.Handlers() and qr.Handlers(); the cleaner's disk-full
//	// notice goes to w.SetDiskFull, which the send precheck reads
//	// offsets manager: qr.MinOffset / qr.MaxOffset (lock-free)
//
// Stop in this order, after the netio server stopped taking requests:
//
//	snd.Stop(ctx)  // topic actors drain; their Appends reach the writer
//	w.Stop(ctx)    // append and answer everything, final flush, checkpoint
//	qr.Stop(ctx)   // queue actors drain dispatched units, consume queues flushed
//	st.Close()
//
// Interfaces the control plane implements (all must be non-blocking reads of
// published snapshots, except AutoCreateTopic):
//
//	send.Topics            Topic(name) (body.TopicConfig, bool)
//	                       AutoCreateTopic(ctx, topic, defaultTopic, queueNums) (body.TopicConfig, error)
//	queue.Topics           Topic(name) (body.TopicConfig, bool)
//	queue.Subscriptions    Subscription(group, topic) (body.SubscriptionData, bool)
//	queue.OffsetCommitter  Commit(group, topic, queueID, offset)   // non-blocking Send
//
// Actor names: "writer", "writer-flush", "writer-syncer", "writer-prefault",
// "send-registry", "queue-registry", "queue-longpoll", "queue-flusher" (one
// ActorSystem holds one broker).
