package commitlog

import "testing"

// BenchmarkReadMessage measures the broker-internal readers' decode (delay
// levels, retries, transaction commits): CRC check, decode, body copied.
// testRecord(3, 128) is a 128-byte body with one KEYS property.
func BenchmarkReadMessage(b *testing.B) {
	l := openTest(b, b.TempDir(), nil)
	defer l.Close()
	off, err := l.Append(testRecord(3, 128), 0, 1_800_000_000_000)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := l.ReadMessage(off); err != nil {
			b.Fatal(err)
		}
	}
}
