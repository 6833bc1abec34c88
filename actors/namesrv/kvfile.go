package namesrv

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"

	"github.com/actormq/actormq/wire/body"
)

// orderTopicNamespace holds "topic → brokerA:4;brokerB:4" for ordered topics.
const orderTopicNamespace = "ORDER_TOPIC_CONFIG"

// kvTable is namespace → key → value. A published kvTable is immutable:
// the KV actor builds a new one for every change (copying only the outer
// map and the namespace it changes), so readers on other goroutines never
// see it move.
type kvTable map[string]map[string]string

func (t kvTable) get(namespace, key string) (string, bool) {
	v, ok := t[namespace][key]
	return v, ok
}

// namespaceBody is the KVTable JSON of namespace, or nil when it has no keys.
func (t kvTable) namespaceBody(namespace string) []byte {
	ns := t[namespace]
	if len(ns) == 0 {
		return nil
	}
	return body.EncodeJSON(&body.KVTable{Table: ns})
}

// with returns a copy of t with namespace/key set to value.
func (t kvTable) with(namespace, key, value string) kvTable {
	next := maps.Clone(t)
	if next == nil {
		next = kvTable{}
	}
	ns := maps.Clone(t[namespace])
	if ns == nil {
		ns = map[string]string{}
	}
	ns[key] = value
	next[namespace] = ns
	return next
}

// without returns a copy of t without namespace/key; an emptied namespace goes too.
func (t kvTable) without(namespace, key string) kvTable {
	next := maps.Clone(t)
	ns := maps.Clone(t[namespace])
	delete(ns, key)
	if len(ns) == 0 {
		delete(next, namespace)
	} else {
		next[namespace] = ns
	}
	return next
}

// kvFile is the layout of kvConfig.json (Java's KVConfigSerializeWrapper):
//
//	{"configTable":{"<namespace>":{"<key>":"<value>"}}}
type kvFile struct {
	ConfigTable kvTable `json:"configTable"`
}

// loadKV reads kvConfig.json; a missing file is an empty table.
func loadKV(path string) (kvTable, error) {
	buf, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return kvTable{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("namesrv: read %s: %w", path, err)
	}
	var f kvFile
	if err := json.Unmarshal(buf, &f); err != nil {
		return nil, fmt.Errorf("namesrv: parse %s: %w", path, err)
	}
	if f.ConfigTable == nil {
		f.ConfigTable = kvTable{}
	}
	return f.ConfigTable, nil
}

// saveKV writes t to path atomically:
//
//  1. write path.tmp and fsync it,
//  2. rename it over path,
//  3. fsync the directory so the rename survives a crash.
//
// A crash at any step leaves either the old or the new file, never a torn one.
func saveKV(path string, t kvTable) error {
	buf, err := json.MarshalIndent(kvFile{ConfigTable: t}, "", "\t")
	if err != nil {
		return fmt.Errorf("namesrv: encode kv config: %w", err)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("namesrv: create %s: %w", dir, err)
	}
	tmp := path + ".tmp"
	if err := writeSynced(tmp, buf); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("namesrv: rename %s: %w", tmp, err)
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("namesrv: open %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("namesrv: sync %s: %w", dir, err)
	}
	return nil
}

func writeSynced(path string, buf []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("namesrv: create %s: %w", path, err)
	}
	if _, err := f.Write(buf); err != nil {
		f.Close()
		return fmt.Errorf("namesrv: write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("namesrv: sync %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("namesrv: close %s: %w", path, err)
	}
	return nil
}
