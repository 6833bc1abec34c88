package sql92

import (
	"fmt"
	"strings"
)

// tokenKind is a lexical class of SelectorParser's token table.
type tokenKind uint8

const (
	tokEOF tokenKind = iota
	tokNot
	tokAnd
	tokOr
	tokBetween
	tokIn
	tokTrue
	tokFalse
	tokNull
	tokIs
	tokContains
	tokStartsWith
	tokEndsWith
	tokInt    // DECIMAL_LITERAL
	tokFloat  // FLOATING_POINT_LITERAL
	tokString // STRING_LITERAL, text holds the decoded value
	tokID
	tokEq
	tokNe
	tokGt
	tokGe
	tokLt
	tokLe
	tokLParen
	tokComma
	tokRParen
	tokPlus
	tokMinus
)

// keywords are matched case-insensitively against whole identifiers.
var keywords = map[string]tokenKind{
	"NOT": tokNot, "AND": tokAnd, "OR": tokOr, "BETWEEN": tokBetween, "IN": tokIn,
	"TRUE": tokTrue, "FALSE": tokFalse, "NULL": tokNull, "IS": tokIs,
	"CONTAINS": tokContains, "STARTSWITH": tokStartsWith, "ENDSWITH": tokEndsWith,
}

// token is one lexed token; pos is its byte offset in the selector.
type token struct {
	kind tokenKind
	text string
	pos  int
}

func (t token) String() string {
	if t.kind == tokEOF {
		return "end of input"
	}
	return fmt.Sprintf("%q", t.text)
}

// lex splits text into tokens, ending with tokEOF. The selector is at most
// ExprBytesMax bytes, so the slice stays small.
func lex(text string) ([]token, error) {
	var toks []token
	i := 0
	for {
		i = skipSpaceAndComments(text, i)
		if i >= len(text) {
			return append(toks, token{kind: tokEOF, pos: i}), nil
		}
		t, n, err := lexOne(text, i)
		if err != nil {
			return nil, err
		}
		toks = append(toks, t)
		i += n
	}
}

// skipSpaceAndComments returns the offset of the next token at or after i.
func skipSpaceAndComments(text string, i int) int {
	for i < len(text) {
		switch {
		case strings.IndexByte(" \t\n\r\f", text[i]) >= 0:
			i++
		case strings.HasPrefix(text[i:], "--"):
			// To the end of the line, or of the input (see the package
			// comment for Java's difference).
			j := strings.IndexAny(text[i:], "\n\r")
			if j < 0 {
				return len(text)
			}
			i += j
		case strings.HasPrefix(text[i:], "/*"):
			j := strings.Index(text[i+2:], "*/")
			if j < 0 {
				return i // lexOne reports the unterminated comment
			}
			i += 2 + j + 2
		default:
			return i
		}
	}
	return i
}

// lexOne lexes the token at text[i] and returns it with its length.
func lexOne(text string, i int) (token, int, error) {
	c := text[i]
	rest := text[i:]
	switch {
	case strings.HasPrefix(rest, "/*"):
		return token{}, 0, fmt.Errorf("%w: at %d: unterminated comment", ErrInvalid, i)
	case c == '\'':
		return lexString(text, i)
	case isDigit(c) || c == '.':
		return lexNumber(text, i)
	case isIDStart(c):
		n := 1
		for n < len(rest) && isIDPart(rest[n]) {
			n++
		}
		word := rest[:n]
		if k, ok := keywords[strings.ToUpper(word)]; ok {
			return token{kind: k, text: word, pos: i}, n, nil
		}
		return token{kind: tokID, text: word, pos: i}, n, nil
	}
	for _, op := range operators {
		if strings.HasPrefix(rest, op.text) {
			return token{kind: op.kind, text: op.text, pos: i}, len(op.text), nil
		}
	}
	return token{}, 0, fmt.Errorf("%w: at %d: unexpected character %q", ErrInvalid, i, rune(c))
}

// operators, two-byte ones first so the longest match wins.
var operators = []struct {
	text string
	kind tokenKind
}{
	{"<>", tokNe}, {">=", tokGe}, {"<=", tokLe},
	{"=", tokEq}, {">", tokGt}, {"<", tokLt}, {"(", tokLParen}, {",", tokComma},
	{")", tokRParen}, {"+", tokPlus}, {"-", tokMinus},
}

// lexString lexes a quoted string, in which two quotes in a row stand for
// one; text holds the value.
func lexString(text string, i int) (token, int, error) {
	var sb strings.Builder
	j := i + 1
	for {
		k := strings.IndexByte(text[j:], '\'')
		if k < 0 {
			return token{}, 0, fmt.Errorf("%w: at %d: unterminated string", ErrInvalid, i)
		}
		sb.WriteString(text[j : j+k])
		j += k + 1
		if j < len(text) && text[j] == '\'' {
			sb.WriteByte('\'')
			j++
			continue
		}
		return token{kind: tokString, text: sb.String(), pos: i}, j - i, nil
	}
}

// lexNumber lexes the longest DECIMAL_LITERAL or FLOATING_POINT_LITERAL at
// text[i]:
//
//	decimal: "0" | [1-9][0-9]* [lL]?
//	float:   [0-9]+ "." [0-9]* exp? | "." [0-9]+ exp? | [0-9]+ exp
//	exp:     [eE] [+-]? [0-9]+
//
// So "007" is three tokens "0" "0" "7" (a parse error here), as in Java.
func lexNumber(text string, i int) (token, int, error) {
	rest := text[i:]
	digits := countDigits(rest)
	floatLen := 0
	switch {
	case digits < len(rest) && rest[digits] == '.':
		frac := countDigits(rest[digits+1:])
		if digits > 0 || frac > 0 {
			floatLen = digits + 1 + frac
			floatLen += exponentLen(rest[floatLen:])
		}
	case digits > 0:
		if e := exponentLen(rest[digits:]); e > 0 {
			floatLen = digits + e
		}
	}
	decLen := 0
	if digits > 0 {
		decLen = 1
		if rest[0] != '0' {
			decLen = digits
			if decLen < len(rest) && (rest[decLen] == 'l' || rest[decLen] == 'L') {
				decLen++
			}
		}
	}
	switch {
	case floatLen > decLen:
		return token{kind: tokFloat, text: rest[:floatLen], pos: i}, floatLen, nil
	case decLen > 0:
		return token{kind: tokInt, text: rest[:decLen], pos: i}, decLen, nil
	}
	return token{}, 0, fmt.Errorf("%w: at %d: unexpected character '.'", ErrInvalid, i)
}

// exponentLen is the length of an exponent at the start of s, 0 if none.
func exponentLen(s string) int {
	if len(s) == 0 || (s[0] != 'e' && s[0] != 'E') {
		return 0
	}
	n := 1
	if n < len(s) && (s[n] == '+' || s[n] == '-') {
		n++
	}
	d := countDigits(s[n:])
	if d == 0 {
		return 0
	}
	return n + d
}

func countDigits(s string) int {
	n := 0
	for n < len(s) && isDigit(s[n]) {
		n++
	}
	return n
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isIDStart(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_' || c == '$'
}

func isIDPart(c byte) bool { return isIDStart(c) || isDigit(c) }
