package index

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/actormq/actormq/internal/testkit"
)

// BenchmarkPutKeys: putting keys of random hashes into a file of
// RocketMQ's default size (a 20 MB slot table read and stored at random),
// per key: one at a time as Put puts them ("Put", the hash given), and PutKeys in batches of n
// ("PutKeys/n"; the index actor's is 32). The file is warmed by as many
// puts first, so the numbers are of a file in use, not of first-touch page
// faults. cpu-ns/op (user and system time of the process) moves less with
// the machine's load than ns/op.
func BenchmarkPutKeys(b *testing.B) {
	for _, batch := range []int{0, 8, 32, 128} {
		name := "Put"
		if batch > 0 {
			name = fmt.Sprintf("PutKeys/%d", batch)
		}
		b.Run(name, func(b *testing.B) {
			x, err := Open(Config{Dir: filepath.Join(b.TempDir(), "index")})
			if err != nil {
				b.Fatal(err)
			}
			defer x.Close()
			rng := rand.New(rand.NewPCG(1, 2))
			keys := make([]Key, 1<<16)
			for i := range keys {
				keys[i].Hash = rng.Int32()
			}
			step := max(batch, 1)
			var phys int64 = 1
			put := func(n int) {
				for i := 0; i < n; i += step {
					ks := keys[i%len(keys) : i%len(keys)+min(step, n-i)]
					for j := range ks {
						ks[j].Phys, ks[j].StoreTimestamp = phys, 1_700_000_000_000+phys
						phys++
					}
					if batch == 0 {
						if _, err := x.putHash(ks[0].Hash, ks[0].Phys, ks[0].StoreTimestamp); err != nil {
							b.Fatal(err)
						}
						continue
					}
					if _, err := x.PutKeys(ks); err != nil {
						b.Fatal(err)
					}
				}
			}
			put(min(b.N, 2_000_000))
			b.ReportAllocs()
			b.ResetTimer()
			cpu := testkit.ProcessCPU(b)
			put(b.N)
			b.ReportMetric(float64(testkit.ProcessCPU(b)-cpu)/float64(b.N), "cpu-ns/op")
		})
	}
}
