package body

// quoteBareKeys rewrites fastjson's unquoted integer object keys into
// standard quoted keys: {0:"a",-1:"b"} → {"0":"a","-1":"b"}. It tracks
// strings (with escapes) and the object/array nesting, and only touches a
// run of digits (optional leading '-') that stands where a key is expected
// (after '{' or ',' inside an object) and is followed by ':'. Anything else,
// valid or not, is copied unchanged for encoding/json to judge. When there
// is nothing to rewrite it returns b itself, so standard JSON costs one scan
// and no copy.
//
// A pre-pass was chosen over a hand-written fastjson parser: encoding/json
// keeps doing all validation and struct mapping, and the dialect difference
// we meet is only the key quoting.
func quoteBareKeys(b []byte) []byte {
	var out []byte // nil until the first rewrite
	copied := 0    // b[:copied] is already in out
	// nesting has one entry per open container, true for an object.
	var nesting []bool
	inString, expectKey := false, false
	for i := 0; i < len(b); i++ {
		c := b[i]
		if inString {
			switch c {
			case '\\':
				i++ // skip the escaped byte
			case '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString, expectKey = true, false
		case '{':
			nesting = append(nesting, true)
			expectKey = true
		case '[':
			nesting = append(nesting, false)
			expectKey = false
		case '}', ']':
			if len(nesting) > 0 {
				nesting = nesting[:len(nesting)-1]
			}
			expectKey = false
		case ',':
			expectKey = len(nesting) > 0 && nesting[len(nesting)-1]
		case ' ', '\t', '\n', '\r':
			// whitespace keeps the current expectation
		default:
			if expectKey && (c == '-' || isDigit(c)) {
				end := i + 1
				for end < len(b) && isDigit(b[end]) {
					end++
				}
				colon := end
				for colon < len(b) && isSpace(b[colon]) {
					colon++
				}
				if colon < len(b) && b[colon] == ':' && (c != '-' || end > i+1) {
					if out == nil {
						out = make([]byte, 0, len(b)+16)
					}
					out = append(out, b[copied:i]...)
					out = append(out, '"')
					out = append(out, b[i:end]...)
					out = append(out, '"')
					copied = end
				}
				i = end - 1
			}
			expectKey = false
		}
	}
	if out == nil {
		return b
	}
	return append(out, b[copied:]...)
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
