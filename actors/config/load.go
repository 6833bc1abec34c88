package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/magiconair/properties"
)

// readProperties reads a Java .properties file (comments '#'/'!', separators
// '=', ':' or blanks, '\' continuations) and returns its pairs in file order.
// An empty path means no file.
//
// A missing file with a <path>.bak beside it is read from the .bak, with a
// warning: UPDATE_BROKER_CONFIG rewrites the file (metadata.Save), and a crash
// between its two renames leaves only the previous version, in the .bak.
func readProperties(path string) (kvs []KV, warning string, err error) {
	if path == "" {
		return nil, "", nil
	}
	buf, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		if bak, berr := os.ReadFile(path + ".bak"); berr == nil {
			buf, err = bak, nil
			warning = fmt.Sprintf("config file %s missing (a config update was interrupted); read %s.bak", path, path)
		}
	}
	if err != nil {
		return nil, "", fmt.Errorf("config: read %s: %w", path, err)
	}
	if kvs, err = parseProperties(buf); err != nil {
		return nil, "", fmt.Errorf("config: parse %s: %w", path, err)
	}
	return kvs, warning, nil
}

// parseProperties parses .properties text into pairs in file order.
func parseProperties(buf []byte) ([]KV, error) {
	// Expansion of ${key} is a magiconair extension that Java does not have:
	// a value containing "${" must stay as written.
	loader := &properties.Loader{Encoding: properties.UTF8, DisableExpansion: true}
	p, err := loader.LoadBytes(buf)
	if err != nil {
		return nil, err
	}
	kvs := make([]KV, 0, p.Len())
	for _, k := range p.Keys() {
		v, _ := p.Get(k)
		kvs = append(kvs, KV{Key: k, Value: v})
	}
	return kvs, nil
}

// sortedOverrides returns the override map in key order, so that the first
// error reported is deterministic.
func sortedOverrides(overrides map[string]string) []KV {
	kvs := make([]KV, 0, len(overrides))
	for k, v := range overrides {
		kvs = append(kvs, KV{Key: k, Value: v})
	}
	sort.Slice(kvs, func(i, j int) bool { return kvs[i].Key < kvs[j].Key })
	return kvs
}

// apply sets every known key of kvs into fields. Unknown keys become
// warnings (Java ignores them silently); the first bad value is an error
// naming its key.
func apply(fields []field, kvs []KV) (warnings []string, err error) {
	byKey := make(map[string]*field, len(fields)*2)
	for i := range fields {
		f := &fields[i]
		byKey[f.key] = f
		for _, a := range f.aliases {
			byKey[a] = f
		}
	}
	for _, kv := range kvs {
		f, ok := byKey[kv.Key]
		if !ok {
			warnings = append(warnings, fmt.Sprintf("unknown config key %q ignored", kv.Key))
			continue
		}
		if err := f.val.set(kv.Value); err != nil {
			return warnings, invalid(kv.Key, kv.Value, err)
		}
	}
	return warnings, nil
}

// load applies the file, then the overrides, to fields.
func load(fields []field, path string, overrides map[string]string) ([]string, error) {
	kvs, warning, err := readProperties(path)
	if err != nil {
		return nil, err
	}
	warnings, err := apply(fields, kvs)
	if warning != "" {
		warnings = append([]string{warning}, warnings...)
	}
	if err != nil {
		return warnings, err
	}
	more, err := apply(fields, sortedOverrides(overrides))
	return append(warnings, more...), err
}

// checkFields fills zero fields whose zero value is meaningless from defs
// (the same table over a default config) and checks every value.
func checkFields(fields, defs []field) error {
	for i, f := range fields {
		if f.zeroIsDefault && f.val.isZero() {
			if err := f.val.set(defs[i].val.get()); err != nil {
				return invalid(f.key, defs[i].val.get(), err)
			}
		}
		if err := f.val.check(); err != nil {
			return invalid(f.key, f.val.get(), err)
		}
	}
	return nil
}

// listFields lists fields as sorted key=value pairs.
func listFields(fields []field) []KV {
	kvs := make([]KV, 0, len(fields))
	for _, f := range fields {
		kvs = append(kvs, KV{Key: f.key, Value: f.val.get()})
	}
	sort.Slice(kvs, func(i, j int) bool { return kvs[i].Key < kvs[j].Key })
	return kvs
}

// homeDir is Java's user.home; "." when unknown.
func homeDir() string {
	if h, err := os.UserHomeDir(); err == nil && h != "" {
		return h
	}
	return "."
}

func homePath(elem ...string) string {
	return filepath.Join(append([]string{homeDir()}, elem...)...)
}

// Format renders kvs as "key=value" lines, each ending in '\n' (the -p
// printout and the GET_NAMESRV_CONFIG body).
func Format(kvs []KV) string {
	var sb strings.Builder
	for _, kv := range kvs {
		sb.WriteString(kv.Key)
		sb.WriteByte('=')
		sb.WriteString(kv.Value)
		sb.WriteByte('\n')
	}
	return sb.String()
}
