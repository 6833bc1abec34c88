package namesrv

import (
	"encoding/json"
	"fmt"
	"maps"

	"github.com/actormq/actormq/storage/metadata"
	"github.com/actormq/actormq/storage/vfs"
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

// loadKV reads kvConfig.json through storage/metadata, which falls back to
// kvConfig.json.bak when the file is missing, empty or unreadable; neither
// existing is an empty table.
func loadKV(path string) (kvTable, error) {
	var f kvFile
	if _, err := metadata.LoadInto(vfs.Default, path, func(b []byte) error {
		f = kvFile{}
		return json.Unmarshal(b, &f)
	}); err != nil {
		return nil, fmt.Errorf("namesrv: load %s: %w", path, err)
	}
	if f.ConfigTable == nil {
		f.ConfigTable = kvTable{}
	}
	return f.ConfigTable, nil
}

// saveKV writes t to path with storage/metadata.Save (tmp file, fsync, the
// previous version kept as .bak as Java's MixAll.string2File does, rename,
// directory fsync): a crash leaves the old or the new table, never a torn
// one. Tab-indented, as Java writes it.
func saveKV(path string, t kvTable) error {
	buf, err := json.MarshalIndent(kvFile{ConfigTable: t}, "", "\t")
	if err != nil {
		return fmt.Errorf("namesrv: encode kv config: %w", err)
	}
	if err := metadata.Save(vfs.Default, path, buf); err != nil {
		return fmt.Errorf("namesrv: save %s: %w", path, err)
	}
	return nil
}
