package index

import (
	"strings"
	"unicode/utf8"
)

// KeyHash is the keyHash of the index key topic#key: |Java
// String.hashCode| over its UTF-16 code units, 0 when that overflows
// (MinInt32). Invalid UTF-8 counts as U+FFFD, as in message.TagsHashCode.
//
// It hashes the three parts one after another instead of joining them:
// String.hashCode folds code units from the left (h = 31·h + c), so
// continuing from the topic's hash over "#" and then the key gives the
// hash of the joined string, and the index actor, which calls it for
// every key of every record, builds no string (topic and key alias the
// mapped record). The parts decode as the joined string would: '#' is
// ASCII, so no UTF-8 sequence runs across it.
func KeyHash(topic, key string) int32 {
	h := hashOn(hashOn(hashOn(0, topic), "#"), key)
	if h < 0 {
		h = -h // stays negative only for MinInt32
	}
	return max(h, 0)
}

// hashOn continues Java's String.hashCode h over s: runes above U+FFFF
// count as their surrogate pair. ASCII goes four bytes a step, as
// h·31⁴ + c₀·31³ + c₁·31² + c₂·31 + c₃ (int32 arithmetic wraps as Java's
// does): the products do not wait on each other, so a 45-byte key costs
// about a quarter of the multiply-add chain a byte at a time takes.
func hashOn(h int32, s string) int32 {
	for len(s) > 0 {
		for len(s) >= 4 && s[0]|s[1]|s[2]|s[3] < utf8.RuneSelf {
			h = h*(31*31*31*31) + int32(s[0])*(31*31*31) + int32(s[1])*(31*31) + int32(s[2])*31 + int32(s[3])
			s = s[4:]
		}
		if len(s) == 0 {
			break
		}
		r, size := utf8.DecodeRuneInString(s) // invalid UTF-8: U+FFFD, one byte
		s = s[size:]
		if r >= 0x10000 {
			r -= 0x10000
			h = 31*h + int32(0xD800+(r>>10))
			h = 31*h + int32(0xDC00+(r&0x3FF))
			continue
		}
		h = 31*h + int32(r)
	}
	return h
}

// EachKeyHash calls f with the hash of each index key of a record of topic
// whose UNIQ_KEY is uniq and whose KEYS is keys, in the order the index
// puts them (Java's buildIndex): topic#uniq, then topic#k for each
// non-empty entry of keys (separated by one space, Java's KEY_SEPARATOR).
// Empty uniq or keys add nothing. The index actor (reading a stored
// record) and the send path (handing the keys over, actors/writer
// IndexBatch) both call it, so the two give the same keys in the same
// order.
func EachKeyHash(topic, uniq, keys string, f func(hash int32)) {
	if uniq != "" {
		f(KeyHash(topic, uniq))
	}
	for keys != "" {
		k := keys
		if i := strings.IndexByte(keys, ' '); i >= 0 {
			k, keys = keys[:i], keys[i+1:]
		} else {
			keys = ""
		}
		if k != "" {
			f(KeyHash(topic, k))
		}
	}
}
