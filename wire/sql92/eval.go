package sql92

import (
	"slices"
	"strings"

	"github.com/actormq/actormq/wire/message"
)

// node is a compiled expression. eval returns the node's value for the
// message whose properties string is props; ok false means Java would
// throw, which aborts the whole evaluation (no match). depth is the height
// of the node's tree, bounded by DepthMax.
type node interface {
	eval(props string) (v value, ok bool)
	depth() int
}

// height is embedded by every node with children.
type height int

func (h height) depth() int { return int(h) }

func heightOf(children ...node) height {
	h := 0
	for _, c := range children {
		h = max(h, c.depth())
	}
	return height(h + 1)
}

// literal is a ConstantExpression (TRUE, FALSE and NULL are
// BooleanConstantExpressions).
type literal struct{ v value }

func (n *literal) eval(string) (value, bool) { return n.v, true }
func (n *literal) depth() int                { return 1 }

// property is a PropertyExpression: the property's string value, or NULL.
type property struct{ name string }

func (n *property) eval(props string) (value, bool) {
	s, ok := message.PropertyValue(props, n.name)
	if !ok {
		return null, true
	}
	return value{k: kindString, s: s}, true
}
func (n *property) depth() int { return 1 }

// negate is unary minus: numbers change sign, anything else is NULL.
type negate struct {
	height
	x node
}

func (n *negate) eval(props string) (value, bool) {
	v, ok := n.x.eval(props)
	if !ok {
		return null, false
	}
	switch v.k {
	case kindInt:
		v.n = int64(-int32(v.n)) // Java int arithmetic wraps
	case kindLong:
		v.n = -v.n
	case kindDouble:
		v.f = -v.f
	default:
		return null, true
	}
	return v, true
}

// not is NOT over a boolean expression; NULL stays NULL.
type not struct {
	height
	x node
}

func (n *not) eval(props string) (value, bool) {
	v, ok := n.x.eval(props)
	if !ok || v.k == kindNull {
		return null, ok
	}
	return boolValue(!v.b), true
}

// booleanCast turns a property used as a condition into a boolean: NULL
// when absent, else FALSE (a property is a string, never a Boolean).
type booleanCast struct {
	height
	x node
}

func (n *booleanCast) eval(props string) (value, bool) {
	v, ok := n.x.eval(props)
	switch {
	case !ok || v.k == kindNull:
		return null, ok
	case v.k != kindBool:
		return valFalse, true
	}
	return v, true
}

// logic is a chain of AND (or OR) operands, evaluated left to right with
// three-valued logic. A chain is equivalent to Java's left-nested binary
// LogicExpressions, including which operands are evaluated.
type logic struct {
	height
	and bool
	xs  []node
}

func (n *logic) eval(props string) (value, bool) {
	sawNull := false
	for _, x := range n.xs {
		v, ok := x.eval(props)
		switch {
		case !ok:
			return null, false
		case v.k == kindNull:
			sawNull = true
		case v.b != n.and: // FALSE decides an AND, TRUE an OR
			return v, true
		}
	}
	if sawNull {
		return null, true
	}
	return boolValue(n.and), true
}

// equal is Java's doCreateEqual (=, and IS NULL against a NULL literal).
type equal struct {
	height
	l, r node
}

func (n *equal) eval(props string) (value, bool) {
	lv, ok := n.l.eval(props)
	if !ok {
		return null, false
	}
	rv, ok := n.r.eval(props)
	if !ok {
		return null, false
	}
	switch {
	case lv.k == kindNull && rv.k == kindNull:
		return valTrue, true
	case lv.k == kindNull:
		return null, true
	case rv.k == kindNull:
		return valFalse, true
	}
	c, ok := compare(lv, rv)
	if !ok {
		return null, false
	}
	return boolValue(c == 0), true
}

// ordering is one of >, >=, <, <=.
type ordering uint8

const (
	opGt ordering = iota
	opGe
	opLt
	opLe
)

// order is a >, >=, <, <= comparison. Two strings compare as doubles.
type order struct {
	height
	op   ordering
	l, r node
}

func (n *order) eval(props string) (value, bool) {
	lv, ok := n.l.eval(props)
	if !ok || lv.k == kindNull {
		return null, ok
	}
	rv, ok := n.r.eval(props)
	if !ok || rv.k == kindNull {
		return null, ok
	}
	if lv.k == kindString && rv.k == kindString {
		if lv, ok = parseDouble(lv.s); !ok {
			return null, false
		}
		if rv, ok = parseDouble(rv.s); !ok {
			return null, false
		}
	}
	c, ok := compare(lv, rv)
	if !ok {
		return null, false
	}
	switch n.op {
	case opGt:
		return boolValue(c > 0), true
	case opGe:
		return boolValue(c >= 0), true
	case opLt:
		return boolValue(c < 0), true
	default:
		return boolValue(c <= 0), true
	}
}

// in is [NOT] IN over string literals; NULL for an absent property.
type in struct {
	height
	x      node
	values []string // sorted
	negate bool
}

func (n *in) eval(props string) (value, bool) {
	v, ok := n.x.eval(props)
	if !ok || v.k != kindString {
		return null, ok
	}
	_, found := slices.BinarySearch(n.values, v.s)
	return boolValue(found != n.negate), true
}

// stringTest is one of CONTAINS, STARTSWITH, ENDSWITH.
type stringTest uint8

const (
	testContains stringTest = iota
	testStartsWith
	testEndsWith
)

// search is [NOT] CONTAINS / STARTSWITH / ENDSWITH: FALSE for NULL, a
// non-string or an empty search string, in both the plain and NOT forms.
type search struct {
	height
	test   stringTest
	x      node
	s      string
	negate bool
}

func (n *search) eval(props string) (value, bool) {
	if n.s == "" {
		return valFalse, true
	}
	v, ok := n.x.eval(props)
	if !ok {
		return null, false
	}
	if v.k != kindString {
		return valFalse, true
	}
	var hit bool
	switch n.test {
	case testContains:
		hit = strings.Contains(v.s, n.s)
	case testStartsWith:
		hit = strings.HasPrefix(v.s, n.s)
	default:
		hit = strings.HasSuffix(v.s, n.s)
	}
	return boolValue(hit != n.negate), true
}
