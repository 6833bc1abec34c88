package message

// TagsHashCode is the tags code stored in the consume queue
// (wire-protocol.md §11.1): Java's String.hashCode (h = 31*h + c with int32
// overflow) over the UTF-16 code units of tags, sign-extended; 0 for the
// empty tag. Runes above U+FFFF count as their surrogate pair, and invalid
// UTF-8 bytes count as U+FFFD, as Java's UTF-8 decoder would produce.
//
// It iterates runes rather than converting to []uint16 so it never
// allocates. (The Go client hashes UTF-8 bytes instead; for ASCII tags both
// agree.)
func TagsHashCode(tags string) int64 {
	var h int32
	for _, r := range tags { // invalid UTF-8 yields utf8.RuneError = U+FFFD
		if r >= 0x10000 {
			r -= 0x10000
			h = 31*h + int32(0xD800+(r>>10))
			h = 31*h + int32(0xDC00+(r&0x3FF))
			continue
		}
		h = 31*h + int32(r)
	}
	return int64(h)
}
