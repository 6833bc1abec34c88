package sql92

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// parser is a recursive-descent parser of the grammar in the package
// comment. depth counts the unary/primary levels being parsed, so deeply
// nested input fails with an error instead of exhausting the stack.
type parser struct {
	toks  []token
	i     int
	depth int
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) peekAt(k int) token {
	if p.i+k < len(p.toks) {
		return p.toks[p.i+k]
	}
	return p.toks[len(p.toks)-1] // tokEOF
}
func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tokEOF {
		p.i++
	}
	return t
}

func (p *parser) errorf(t token, format string, args ...any) error {
	return fmt.Errorf("%w: at %d: %s", ErrInvalid, t.pos, fmt.Sprintf(format, args...))
}

func (p *parser) expect(k tokenKind, what string) (token, error) {
	t := p.next()
	if t.kind != k {
		return t, p.errorf(t, "expected %s, found %s", what, t)
	}
	return t, nil
}

// selector parses the whole input: one boolean expression, nothing after.
func (p *parser) selector() (node, error) {
	start := p.peek()
	n, err := p.or()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tokEOF {
		return nil, p.errorf(t, "unexpected %s after the expression", t)
	}
	if n, err = p.asBoolean(n, start); err != nil {
		return nil, err
	}
	// Trees are built by loops, so only evaluation recurses over their
	// height; bound it here once.
	if n.depth() > DepthMax {
		return nil, p.errorf(start, "nested deeper than %d", DepthMax)
	}
	return n, nil
}

func (p *parser) or() (node, error)  { return p.logic(tokOr, p.and) }
func (p *parser) and() (node, error) { return p.logic(tokAnd, p.equality) }

// logic parses operand { op operand } into one flattened chain.
func (p *parser) logic(op tokenKind, operand func() (node, error)) (node, error) {
	start := p.peek()
	first, err := operand()
	if err != nil || p.peek().kind != op {
		return first, err
	}
	b, err := p.asBoolean(first, start)
	if err != nil {
		return nil, err
	}
	chain := &logic{and: op == tokAnd, xs: []node{b}}
	for p.peek().kind == op {
		p.next()
		start := p.peek()
		x, err := operand()
		if err != nil {
			return nil, err
		}
		if x, err = p.asBoolean(x, start); err != nil {
			return nil, err
		}
		chain.xs = append(chain.xs, x)
	}
	chain.height = heightOf(chain.xs...)
	return chain, nil
}

// equality parses comparison { = | <> | IS [NOT] NULL }.
func (p *parser) equality() (node, error) {
	left, err := p.comparison()
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		switch t.kind {
		case tokEq, tokNe:
			p.next()
			right, err := p.comparison()
			if err != nil {
				return nil, err
			}
			if err := p.checkEqualOperands(t, left, right); err != nil {
				return nil, err
			}
			left = &equal{height: heightOf(left, right), l: left, r: right}
			if t.kind == tokNe {
				left = &not{height: heightOf(left), x: left}
			}
		case tokIs:
			p.next()
			negated := false
			if p.peek().kind == tokNot {
				p.next()
				negated = true
			}
			if _, err := p.expect(tokNull, "NULL"); err != nil {
				return nil, err
			}
			nullLit := &literal{v: null}
			left = &equal{height: heightOf(left, nullLit), l: left, r: nullLit}
			if negated {
				left = &not{height: heightOf(left), x: left}
			}
		default:
			return left, nil
		}
	}
}

// comparison parses unary { > >= < <= | [NOT] BETWEEN | [NOT] IN |
// [NOT] CONTAINS/STARTSWITH/ENDSWITH }. A NOT followed by anything else
// ends the loop (it is then left over and rejected by selector).
func (p *parser) comparison() (node, error) {
	left, err := p.unary()
	for err == nil {
		t := p.peek()
		negated := false
		k := t.kind
		if k == tokNot {
			switch p.peekAt(1).kind {
			case tokBetween, tokIn, tokContains, tokStartsWith, tokEndsWith:
				p.next()
				negated = true
				k = p.peek().kind
			}
		}
		switch k {
		case tokGt, tokGe, tokLt, tokLe:
			p.next()
			var right node
			if right, err = p.unary(); err == nil {
				left, err = p.ordering(t, orderings[k], left, right)
			}
		case tokBetween:
			p.next()
			left, err = p.between(t, left, negated)
		case tokIn:
			p.next()
			left, err = p.in(t, left, negated)
		case tokContains, tokStartsWith, tokEndsWith:
			p.next()
			var s token
			if s, err = p.expect(tokString, "a string literal"); err == nil {
				left = &search{height: heightOf(left), test: stringTests[k], x: left, s: s.text, negate: negated}
			}
		default:
			return left, nil
		}
	}
	return nil, err
}

var orderings = map[tokenKind]ordering{tokGt: opGt, tokGe: opGe, tokLt: opLt, tokLe: opLe}

var stringTests = map[tokenKind]stringTest{
	tokContains: testContains, tokStartsWith: testStartsWith, tokEndsWith: testEndsWith,
}

// ordering builds l op r after Java's checkLessThanOperand on both sides.
func (p *parser) ordering(at token, op ordering, l, r node) (node, error) {
	if err := p.checkOrderOperand(at, l); err != nil {
		return nil, err
	}
	if err := p.checkOrderOperand(at, r); err != nil {
		return nil, err
	}
	return &order{height: heightOf(l, r), op: op, l: l, r: r}, nil
}

// between parses "low AND high" after BETWEEN: (v >= low AND v <= high), or
// for NOT BETWEEN (v < low OR v > high). Constant bounds of BETWEEN must be
// non-NULL and ordered (Java checks NOT BETWEEN's bounds only as operands).
func (p *parser) between(at token, v node, negated bool) (node, error) {
	low, err := p.unary()
	if err != nil {
		return nil, err
	}
	if _, err := p.expect(tokAnd, "AND"); err != nil {
		return nil, err
	}
	high, err := p.unary()
	if err != nil {
		return nil, err
	}
	lo, loConst := low.(*literal)
	hi, hiConst := high.(*literal)
	if !negated && loConst && hiConst {
		if lo.v.k == kindNull || hi.v.k == kindNull {
			return nil, p.errorf(at, "BETWEEN bounds cannot be NULL")
		}
		if c, ok := compare(hi.v, lo.v); !ok || c < 0 {
			return nil, p.errorf(at, "BETWEEN bounds out of order or not comparable")
		}
	}
	first, second := opGe, opLe
	if negated {
		first, second = opLt, opGt
	}
	a, err := p.ordering(at, first, v, low)
	if err != nil {
		return nil, err
	}
	b, err := p.ordering(at, second, v, high)
	if err != nil {
		return nil, err
	}
	return &logic{height: heightOf(a, b), and: !negated, xs: []node{a, b}}, nil
}

// in parses "( 'a', 'b', … )" after IN; the operand must be a property.
func (p *parser) in(at token, x node, negated bool) (node, error) {
	if _, ok := x.(*property); !ok {
		return nil, p.errorf(at, "IN needs a property on its left")
	}
	if _, err := p.expect(tokLParen, "("); err != nil {
		return nil, err
	}
	var values []string
	for {
		s, err := p.expect(tokString, "a string literal")
		if err != nil {
			return nil, err
		}
		values = append(values, s.text)
		if p.peek().kind != tokComma {
			break
		}
		p.next()
	}
	if _, err := p.expect(tokRParen, ")"); err != nil {
		return nil, err
	}
	slices.Sort(values)
	return &in{height: heightOf(x), x: x, values: slices.Compact(values), negate: negated}, nil
}

// unary parses + unary | - unary | NOT unary | primary. Each level counts
// towards DepthMax.
func (p *parser) unary() (node, error) {
	t := p.peek()
	if p.depth++; p.depth > DepthMax {
		return nil, p.errorf(t, "nested deeper than %d", DepthMax)
	}
	defer func() { p.depth-- }()
	switch t.kind {
	case tokPlus:
		p.next()
		return p.unary()
	case tokMinus:
		p.next()
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		return &negate{height: heightOf(x), x: x}, nil
	case tokNot:
		p.next()
		start := p.peek()
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		if x, err = p.asBoolean(x, start); err != nil {
			return nil, err
		}
		return &not{height: heightOf(x), x: x}, nil
	}
	return p.primary()
}

// primary parses a literal, a property or a parenthesized expression.
func (p *parser) primary() (node, error) {
	t := p.next()
	switch t.kind {
	case tokString:
		return &literal{v: value{k: kindString, s: t.text}}, nil
	case tokInt:
		return p.integer(t)
	case tokFloat:
		f, err := strconv.ParseFloat(t.text, 64)
		if err != nil && !isRangeError(err) || math.IsInf(f, 0) {
			return nil, p.errorf(t, "float %s out of range", t.text)
		}
		return &literal{v: value{k: kindDouble, f: f}}, nil
	case tokTrue:
		return &literal{v: valTrue}, nil
	case tokFalse:
		return &literal{v: valFalse}, nil
	case tokNull:
		return &literal{v: null}, nil
	case tokID:
		return &property{name: t.text}, nil
	case tokLParen:
		x, err := p.or()
		if err != nil {
			return nil, err
		}
		if _, err := p.expect(tokRParen, ")"); err != nil {
			return nil, err
		}
		return x, nil
	}
	return nil, p.errorf(t, "unexpected %s", t)
}

// integer is ConstantExpression.createFromDecimal: a Long, narrowed to an
// Integer when it fits.
func (p *parser) integer(t token) (node, error) {
	n, err := strconv.ParseInt(strings.TrimRight(t.text, "lL"), 10, 64)
	if err != nil {
		return nil, p.errorf(t, "integer %s out of range", t.text)
	}
	if n >= math.MinInt32 && n <= math.MaxInt32 {
		return &literal{v: value{k: kindInt, n: n}}, nil
	}
	return &literal{v: value{k: kindLong, n: n}}, nil
}

// asBoolean is SelectorParser.asBooleanExpression: boolean expressions
// pass, a property is cast, anything else is an error.
func (p *parser) asBoolean(n node, at token) (node, error) {
	if isBoolean(n) {
		return n, nil
	}
	if _, ok := n.(*property); ok {
		return &booleanCast{height: heightOf(n), x: n}, nil
	}
	return nil, p.errorf(at, "expression will not result in a boolean value")
}

// isBoolean reports whether n is one of Java's BooleanExpressions.
func isBoolean(n node) bool {
	switch n := n.(type) {
	case *literal:
		return n.v.k == kindBool || n.v.k == kindNull
	case *logic, *not, *booleanCast, *equal, *order, *in, *search:
		return true
	}
	return false
}

// checkEqualOperands is checkEqualOperand on both sides and
// checkEqualOperandCompatability.
func (p *parser) checkEqualOperands(at token, l, r node) error {
	ll, lConst := l.(*literal)
	rl, rConst := r.(*literal)
	if lConst && ll.v.k == kindNull || rConst && rl.v.k == kindNull {
		return p.errorf(at, "NULL cannot be compared with %s", at)
	}
	if lConst && rConst && ll.v.k == kindBool && rl.v.k != kindBool {
		return p.errorf(at, "a boolean cannot be compared with a non-boolean")
	}
	return nil
}

// checkOrderOperand is checkLessThanOperand: a literal must be a number,
// and boolean expressions are not ordered.
func (p *parser) checkOrderOperand(at token, n node) error {
	if l, ok := n.(*literal); ok {
		if !l.v.isNumber() {
			return p.errorf(at, "only numbers can be compared with %s", at)
		}
		return nil
	}
	if isBoolean(n) {
		return p.errorf(at, "a condition cannot be compared with %s", at)
	}
	return nil
}
