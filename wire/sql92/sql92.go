// Package sql92 compiles and evaluates RocketMQ's SQL92 message selectors
// (wire-protocol.md §11.2): the subset a consumer subscribes with
// expressionType SQL92, evaluated by the broker against each message's
// properties. It does no I/O and keeps no state; a compiled *Expr is
// immutable and safe for concurrent use.
//
// Grammar (keywords case-insensitive, precedence from loosest to tightest):
//
//	selector   = or
//	or         = and { OR and }
//	and        = equality { AND equality }
//	equality   = comparison { "=" comparison | "<>" comparison
//	                        | IS NULL | IS NOT NULL }
//	comparison = unary { (">" | ">=" | "<" | "<=") unary
//	                   | [NOT] BETWEEN unary AND unary
//	                   | [NOT] IN "(" string { "," string } ")"
//	                   | [NOT] (CONTAINS | STARTSWITH | ENDSWITH) string }
//	unary      = "+" unary | "-" unary | NOT unary | primary
//	primary    = literal | identifier | "(" or ")"
//	literal    = string | integer | float | TRUE | FALSE | NULL
//
// Tokens: strings are quoted with ' (doubled inside); integers are 0 or
// [1-9][0-9]* with an optional L (int range: Java Integer, beyond: Long);
// floats have a point or an exponent (Java Double); identifiers are
// [A-Za-z_$][A-Za-z0-9_$]* naming properties; whitespace is " \t\n\r\f";
// comments are -- to the end of the line and /* */.
//
// Semantics follow RocketMQ's filter module (SelectorParser and the
// expression classes), which the broker of reference runs:
//
//   - A property is its string value, or NULL when the message lacks it.
//   - Compared with a number or boolean, a string is converted to that type
//     (Integer.valueOf, Long.valueOf, Double.valueOf, Boolean.valueOf); a
//     failed conversion aborts the evaluation: the message does not match,
//     even when an OR branch not yet evaluated would have been TRUE.
//   - >, >=, <, <= between two strings compare them as doubles (abort when
//     either is not a number); between mixed numbers the narrower is
//     widened (Integer → Long → Double).
//   - NULL on either side of a comparison, IN or NOT yields NULL; AND/OR use
//     three-valued logic; a message matches only when the whole selector is
//     TRUE. CONTAINS/STARTSWITH/ENDSWITH (and their NOT forms) are FALSE for
//     NULL, non-strings and an empty search string.
//   - A bare property used as a condition is FALSE (NULL when absent): its
//     value is a string, never a boolean.
//   - Compile-time checks as in Java: literal NULL cannot be compared with
//     = or <>; a boolean literal on the left of = only with a boolean
//     literal; only numbers (or non-boolean expressions) around >, >=, <, <=;
//     constant BETWEEN bounds must be non-NULL and ordered (NOT BETWEEN is
//     not checked); IN needs a property on its left; AND, OR, NOT and the
//     selector itself need boolean operands or properties.
//
// Deviations from Java, all stricter or more lenient in corner cases only:
// tokens left over after a complete selector are rejected (Java ignores
// them, so "a = 1 b = 2" means "a = 1" there); a -- comment may end the
// input without a line break (Java then lexes "--" as two minus signs); the
// float literal 0.0 (and literals that underflow to 0) are accepted (Java
// rejects floats below Double.MIN_VALUE, 0.0 included); integer literals
// beyond the Long range are rejected (Java keeps them as BigDecimals, which
// compare with nothing, so -9223372036854775808 is the one such literal a
// Java selector can use); numbers in property values are read with ASCII
// digits only.
//
// Limits: a selector is at most ExprBytesMax bytes; at most DepthMax
// parentheses and unary operators nest (the parser's recursion), and the
// compiled tree is at most DepthMax high (the evaluator's recursion), so
// neither recurses without bound. AND/OR chains are flattened into one
// node, so long chains do not count towards the height.
package sql92

import (
	"errors"
	"fmt"
	"unsafe"
)

// Limits of a selector.
const (
	// ExprBytesMax bounds the selector text. Java sets no limit; 16 KiB
	// leaves room for IN lists of hundreds of values.
	ExprBytesMax = 16 << 10
	// DepthMax bounds nested parentheses and unary operators, and the
	// height of the compiled tree.
	DepthMax = 64
)

// ErrInvalid is wrapped by every compile error.
var ErrInvalid = errors.New("sql92: invalid expression")

// Expr is a compiled selector. Immutable; any goroutine.
type Expr struct {
	root node
}

// Compile parses and checks a selector. Errors wrap ErrInvalid and name
// the byte offset of the problem.
func Compile(text string) (*Expr, error) {
	if len(text) > ExprBytesMax {
		return nil, fmt.Errorf("%w: %d bytes, at most %d", ErrInvalid, len(text), ExprBytesMax)
	}
	toks, err := lex(text)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	root, err := p.selector()
	if err != nil {
		return nil, err
	}
	return &Expr{root: root}, nil
}

// Match reports whether the selector is TRUE for a message whose encoded
// properties string (key\x01value\x02…, wire-protocol.md §9.1) is props.
// Property lookups scan props in place: nothing is allocated per message.
func (e *Expr) Match(props string) bool {
	v, ok := e.root.eval(props)
	return ok && v.k == kindBool && v.b
}

// MatchBytes is Match over properties held in a byte slice, such as the
// properties of a record in a mapped commit-log segment, without copying
// them. props is only read during the call: no value computed from it
// outlives the evaluation.
func (e *Expr) MatchBytes(props []byte) bool {
	return e.Match(unsafe.String(unsafe.SliceData(props), len(props)))
}
