package remoting

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// rawFrame builds a frame by hand around an already encoded header.
func rawFrame(serializeType byte, header, body []byte) []byte {
	f := binary.BigEndian.AppendUint32(nil, uint32(4+len(header)+len(body)))
	f = binary.BigEndian.AppendUint32(f, uint32(serializeType)<<24|uint32(len(header)))
	f = append(f, header...)
	return append(f, body...)
}

// jsonFrame wraps a JSON header text and body into a frame.
func jsonFrame(header string, body string) []byte {
	return rawFrame(SerializeJSON, []byte(header), []byte(body))
}

// diffCommands returns "" when a and b carry the same command, treating a nil
// and an empty map or body alike and an empty Language as GO (what the
// encoders write for it). SerializeType is compared too.
func diffCommands(a, b *Command) string {
	lang := func(c *Command) string {
		if c.Language == "" {
			return LanguageGo
		}
		return c.Language
	}
	var diffs []string
	add := func(field string, x, y any) {
		diffs = append(diffs, fmt.Sprintf("%s: %#v != %#v", field, x, y))
	}
	if a.Code != b.Code {
		add("Code", a.Code, b.Code)
	}
	if lang(a) != lang(b) {
		add("Language", a.Language, b.Language)
	}
	if a.Version != b.Version {
		add("Version", a.Version, b.Version)
	}
	if a.Opaque != b.Opaque {
		add("Opaque", a.Opaque, b.Opaque)
	}
	if a.Flag != b.Flag {
		add("Flag", a.Flag, b.Flag)
	}
	if a.Remark != b.Remark {
		add("Remark", a.Remark, b.Remark)
	}
	if x, y := extMap(a), extMap(b); !maps.Equal(x, y) {
		add("ExtFields", sortedExt(x), sortedExt(y))
	}
	if !bytes.Equal(a.Body, b.Body) {
		add("Body", a.Body, b.Body)
	}
	if a.SerializeType != b.SerializeType {
		add("SerializeType", a.SerializeType, b.SerializeType)
	}
	return strings.Join(diffs, "; ")
}

func sortedExt(m map[string]string) []string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, k+"="+m[k])
	}
	return out
}

// extMap returns c's extFields as one map, whether decoded into ExtFields or
// into the field array of a send header (sendext.go).
func extMap(c *Command) map[string]string {
	if c.send == nil {
		return c.ExtFields
	}
	m := maps.Clone(c.ExtFields)
	if m == nil {
		m = map[string]string{}
	}
	c.send.each(func(k, v string) { m[k] = v })
	return m
}

// flattenExt moves a send header's fields into ExtFields, so that the
// command compares with reflect.DeepEqual against one decoded into a map.
func flattenExt(c *Command) {
	if c.send != nil {
		c.ExtFields = extMap(c)
		c.send = nil
	}
}
