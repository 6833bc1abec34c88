package remoting

import "strconv"

// languageNames is RocketMQ's LanguageCode table (wire doc §2.4): the index
// is the byte the ROCKETMQ binary codec carries, the value the name the JSON
// codec carries.
var languageNames = [...]string{
	"JAVA", "CPP", "DOTNET", "PYTHON", "DELPHI", "ERLANG", "RUBY",
	"OTHER", "HTTP", "GO", "PHP", "OMS", "RUST", "NODE_JS",
}

// languageGoCode is the byte of LanguageGo, used when a command leaves
// Language empty.
const languageGoCode byte = 9

// LanguageName returns the name of a binary language code. Codes outside the
// table come back as their decimal text so that nothing is lost and
// LanguageCode maps them back to the same byte.
//
// Safe for concurrent use.
func LanguageName(code byte) string {
	if int(code) < len(languageNames) {
		return languageNames[code]
	}
	return strconv.Itoa(int(code))
}

// LanguageCode returns the binary code for a language name: a table name, or
// the decimal text of any byte (what LanguageName returns for unknown codes).
// An empty name means this broker (GO). ok is false for anything else; the
// binary codec cannot carry such a name, so AppendFrame falls back to JSON.
//
// Safe for concurrent use.
func LanguageCode(name string) (code byte, ok bool) {
	if name == "" {
		return languageGoCode, true
	}
	for i, n := range languageNames {
		if n == name {
			return byte(i), true
		}
	}
	// Decimal text only in its canonical form ("7", not "07" or "+7"), so
	// the name round-trips through LanguageName unchanged.
	n, err := strconv.ParseUint(name, 10, 8)
	if err != nil || strconv.FormatUint(n, 10) != name {
		return 0, false
	}
	return byte(n), true
}

// languageFromJSONNumber maps a JSON number in the "language" field (some
// clients send the ordinal instead of the name) to its name. Numbers that are
// not a byte in the table keep their literal text.
func languageFromJSONNumber(literal string) string {
	n, err := strconv.ParseInt(literal, 10, 64)
	if err != nil || n < 0 || n >= int64(len(languageNames)) {
		return literal
	}
	return languageNames[n]
}
