package metadata

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/actormq/actormq/storage/vfs"
)

type testConfig struct {
	Counter int `json:"counter"`
}

// decodeInto returns a decode func that resets cfg before filling it.
func decodeInto(cfg *testConfig) func([]byte) error {
	return func(b []byte) error {
		*cfg = testConfig{}
		return json.Unmarshal(b, cfg)
	}
}

func save(t *testing.T, path string, counter int) {
	t.Helper()
	data, _ := json.Marshal(testConfig{Counter: counter})
	if err := Save(vfs.Default, path, data); err != nil {
		t.Fatalf("Save: %v", err)
	}
}

func load(t *testing.T, path string) (testConfig, bool) {
	t.Helper()
	var cfg testConfig
	found, err := LoadInto(vfs.Default, path, decodeInto(&cfg))
	if err != nil {
		t.Fatalf("LoadInto: %v", err)
	}
	return cfg, found
}

func readString(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestSaveRotatesBackup(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config", "topics.json")
	save(t, path, 1)
	if _, err := os.Stat(path + ".bak"); !os.IsNotExist(err) {
		t.Fatalf("first Save made a .bak: %v", err)
	}
	save(t, path, 2)
	if got := readString(t, path); got != `{"counter":2}` {
		t.Fatalf("file = %s", got)
	}
	if got := readString(t, path+".bak"); got != `{"counter":1}` {
		t.Fatalf(".bak = %s", got)
	}
	if _, err := os.Stat(path + ".tmp"); !os.IsNotExist(err) {
		t.Fatalf(".tmp left behind: %v", err)
	}
	if cfg, found := load(t, path); !found || cfg.Counter != 2 {
		t.Fatalf("LoadInto = %+v, %v", cfg, found)
	}
}

func TestLoadFallsBackToBackup(t *testing.T) {
	cases := []struct {
		name string
		// damage turns the current file into what a crash or bad disk left.
		damage func(path string) error
	}{
		{"truncated", func(p string) error { return os.WriteFile(p, []byte(`{"coun`), 0o644) }},
		{"garbage", func(p string) error { return os.WriteFile(p, []byte("\x00\x17zz"), 0o644) }},
		{"empty", func(p string) error { return os.WriteFile(p, nil, 0o644) }},
		// A crash between the two renames of Save: only the .bak is there.
		{"missing", func(p string) error { return os.Remove(p) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "subscriptionGroup.json")
			save(t, path, 1)
			save(t, path, 2)
			if err := tc.damage(path); err != nil {
				t.Fatal(err)
			}
			if cfg, found := load(t, path); !found || cfg.Counter != 1 {
				t.Fatalf("LoadInto = %+v, %v; want the .bak version", cfg, found)
			}
			// The broken file is gone, so the next Save keeps the good
			// backup instead of rotating the broken file over it.
			if _, err := os.Stat(path); !os.IsNotExist(err) {
				t.Fatalf("broken file kept: %v", err)
			}
			save(t, path, 3)
			if got := readString(t, path+".bak"); got != `{"counter":1}` {
				t.Fatalf(".bak after Save = %s", got)
			}
			if cfg, _ := load(t, path); cfg.Counter != 3 {
				t.Fatalf("after Save: %+v", cfg)
			}
		})
	}
}

func TestLoadNothing(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "consumerOffset.json")
	if cfg, found := load(t, path); found || cfg != (testConfig{}) {
		t.Fatalf("missing files: %+v, %v", cfg, found)
	}
	// Empty files count as no data, like Java's loader.
	for _, p := range []string{path, path + ".bak"} {
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, found := load(t, path); found {
		t.Fatal("empty files reported found")
	}
	// A leftover .tmp from a crash inside Save is never read.
	if err := os.WriteFile(path+".tmp", []byte(`{"counter":9}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, found := load(t, path); found {
		t.Fatal(".tmp was loaded")
	}
}

func TestLoadBothCorrupt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "topics.json")
	for _, p := range []string{path, path + ".bak"} {
		if err := os.WriteFile(p, []byte("not json"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var cfg testConfig
	found, err := LoadInto(vfs.Default, path, decodeInto(&cfg))
	if found || !errors.Is(err, ErrCorrupt) {
		t.Fatalf("LoadInto = %v, %v; want ErrCorrupt", found, err)
	}
	// Nothing is deleted: an operator may still repair the files.
	for _, p := range []string{path, path + ".bak"} {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
	}
}
