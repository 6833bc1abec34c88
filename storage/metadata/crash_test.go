package metadata

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/actormq/actormq/sim/faultfs"
)

// A crash at every mutating operation of a Save, and every state of the
// directory a journal can leave after it: the next load finds the old
// version or the new one, never an empty, partial or missing config.
func TestCrashDuringSaveLeavesOldOrNew(t *testing.T) {
	const path = "/store/config/topics.json"
	encode := func(counter int) []byte {
		data, _ := json.Marshal(testConfig{Counter: counter})
		return data
	}
	for _, history := range []int{1, 2} { // a first Save, or one with a .bak
		for n := int64(1); ; n++ {
			fs := faultfs.New(uint64(n))
			for v := 1; v <= history; v++ {
				if err := Save(fs, path, encode(v)); err != nil {
					t.Fatal(err)
				}
			}
			fs.Inject(faultfs.Rule{Ops: faultfs.OpsMutating, Nth: n, Kind: faultfs.KindCrash})
			err := Save(fs, path, encode(9))
			if len(fs.Events()) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				break
			}
			if !errors.Is(err, faultfs.ErrCrashed) {
				t.Fatalf("crash at op %d surfaced as %v", n, err)
			}
			for keep := 0; keep <= fs.PendingDirChanges(); keep++ {
				t.Run(fmt.Sprintf("history%d/op%d/keep%d", history, n, keep), func(t *testing.T) {
					var cfg testConfig
					found, err := LoadInto(fs.CrashKeeping(keep), path, decodeInto(&cfg))
					if err != nil || !found || (cfg.Counter != history && cfg.Counter != 9) {
						t.Fatalf("LoadInto = %+v, %v, %v; want counter %d or 9", cfg, found, err, history)
					}
				})
			}
		}
	}
}

// A failed write or sync inside Save is returned, and the file loaded
// afterwards is a whole version: the old one, or the new one when only the
// final directory sync failed.
func TestSaveErrorsSurface(t *testing.T) {
	const path = "/store/config/topics.json"
	for _, kind := range []faultfs.Kind{faultfs.KindEIO, faultfs.KindENOSPC, faultfs.KindShortWrite} {
		for n := int64(1); ; n++ {
			fs := faultfs.New(uint64(n))
			if err := Save(fs, path, []byte(`{"counter":1}`)); err != nil {
				t.Fatal(err)
			}
			fs.Inject(faultfs.Rule{Ops: faultfs.OpsMutating, Nth: n, Kind: kind})
			err := Save(fs, path, []byte(`{"counter":2}`))
			if len(fs.Events()) == 0 {
				break
			}
			if err == nil {
				t.Fatalf("%v at op %d (%v) was not returned", kind, n, fs.Events()[0])
			}
			var cfg testConfig
			if found, err := LoadInto(fs, path, decodeInto(&cfg)); err != nil || !found || (cfg.Counter != 1 && cfg.Counter != 2) {
				t.Fatalf("%v at op %d: LoadInto = %+v, %v, %v; want a whole version", kind, n, cfg, found, err)
			}
		}
	}
}
