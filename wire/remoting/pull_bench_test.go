package remoting

import "testing"

// BenchmarkDecodePull decodes and releases a Go client's pull, as the pull
// handler does once per pull (a pull answers up to 32 messages).
func BenchmarkDecodePull(b *testing.B) {
	for _, st := range []struct {
		name string
		typ  byte
	}{{"JSON", SerializeJSON}, {"binary", SerializeRocketMQ}} {
		b.Run(st.name, func(b *testing.B) {
			benchDecode(b, pullFrame("BenchGroup", "Bench128", st.typ), (*Command).Release)
		})
	}
}

// benchDecode decodes frame once per iteration and hands each Command to
// done, which ends it as the handler of its code would.
func benchDecode(b *testing.B, frame []byte, done func(*Command)) {
	b.ReportAllocs()
	b.SetBytes(int64(len(frame)))
	for b.Loop() {
		c, err := DecodeFrame(frame)
		if err != nil {
			b.Fatal(err)
		}
		done(c)
	}
}
