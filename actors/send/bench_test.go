package send_test

import (
	"context"
	"testing"

	"github.com/actormq/actormq/wire/remoting"
)

// BenchmarkSend measures a send through the whole data plane (netio, topic
// actor, writer, dispatch) with concurrent producers on one connection.
func BenchmarkSend(b *testing.B) {
	br := startBrokerSized(b, b.TempDir(), testConfig(), newFakeMeta(), 256<<20)
	body := make([]byte, 1024)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	b.SetParallelism(16) // producers in flight per CPU
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			cmd := sendV1(msg{topic: "TopicTest", queueID: -1, body: string(body)})
			resp, err := br.cl.Invoke(context.Background(), br.addr, cmd)
			if err != nil || resp.Code != remoting.RespSuccess {
				b.Errorf("send: %v %v", err, resp)
				return
			}
		}
	})
}
