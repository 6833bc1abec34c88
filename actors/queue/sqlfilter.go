package queue

import (
	"strings"
	"sync"
	"sync/atomic"

	"github.com/actormq/actormq/actors/reply"
	"github.com/actormq/actormq/wire/body"
	"github.com/actormq/actormq/wire/remoting"
	"github.com/actormq/actormq/wire/sql92"
)

// sqlCacheMax bounds the compiled SQL92 expressions kept: at most this many
// selectors of ExprBytesMax each (4 MiB), far more than the distinct
// selectors of a broker's consumers.
const sqlCacheMax = 256

// sqlCache keeps compiled SQL92 selectors (and compile errors) by their
// text, so each selector is compiled once, not on every pull: both the
// heartbeat-registered subscriptions of Go and Java push consumers (pulled
// without the subscription flag) and the selectors pull consumers send
// with every request hit it. Keying by text rather than by group and
// subscription version needs no hook in the client manager, and groups
// sharing a selector share its compiled form.
//
// When full it is emptied and refills from the selectors in use: a
// client cycling through many selectors costs recompiles, not memory. Safe
// from any goroutine; lookups are lock-free (gnet loops call it).
type sqlCache struct {
	m sync.Map // selector text → *sqlCompiled
	n atomic.Int64
}

type sqlCompiled struct {
	expr *sql92.Expr
	err  error
}

// compile returns the compiled selector, compiling it on first use.
func (c *sqlCache) compile(text string) (*sql92.Expr, error) {
	if v, ok := c.m.Load(text); ok {
		e := v.(*sqlCompiled)
		return e.expr, e.err
	}
	// text may view a pooled pull frame (pullnames.go): the key, and the
	// literals the compiled selector may keep, must be a copy.
	text = strings.Clone(text)
	expr, err := sql92.Compile(text)
	if c.n.Add(1) > sqlCacheMax {
		c.m.Clear()
		c.n.Store(1)
	}
	c.m.Store(text, &sqlCompiled{expr: expr, err: err})
	return expr, err
}

// sqlFilter compiles an SQL92 subscription into a pull filter. A selector
// that does not compile is SUBSCRIPTION_PARSE_FAILED. Java's broker lets
// such a pull through unfiltered (its filter data is then missing, which it
// reads as "match all"); refusing it keeps a consumer from receiving what
// it did not ask for. Java clients never get that far: CHECK_CLIENT_CONFIG
// refuses the selector when they subscribe.
func sqlFilter(text string, cache *sqlCache) (filter, error) {
	expr, err := cache.compile(text)
	if err != nil {
		return filter{}, reply.Errorf(reply.ErrSubscriptionParseFailed, "parse the consumer's subscription failed: %v", err)
	}
	return filter{all: true, sql: expr}, nil
}

// errPropertyFilterOff is Java's answer to an SQL92 subscription when
// enablePropertyFilter is false (SYSTEM_ERROR).
func errPropertyFilterOff(expressionType string) error {
	return reply.Errorf(reply.ErrSystem, "The broker does not support consumer to filter message by %s", expressionType)
}

// checkClientBody is the CHECK_CLIENT_CONFIG request body (Java's
// CheckClientRequestBody; namespace is ignored).
type checkClientBody struct {
	ClientID         string                 `json:"clientId"`
	Group            string                 `json:"group"`
	SubscriptionData *body.SubscriptionData `json:"subscriptionData"`
}

// handleCheckClientConfig answers CHECK_CLIENT_CONFIG (46), which Java
// consumers send before subscribing: SUCCESS for tag subscriptions and for
// SQL92 selectors that compile while enablePropertyFilter is on;
// SYSTEM_ERROR when property filtering is off; SUBSCRIPTION_PARSE_FAILED
// for a selector that does not compile or an unknown expression type. It
// runs on the gnet loop: decoding and compiling are bounded by the frame
// and ExprBytesMax.
func (r *Registry) handleCheckClientConfig(c Conn, cmd *remoting.Command) {
	if err := r.checkClientConfig(cmd); err != nil {
		_ = c.Write(reply.Error(cmd, err))
		return
	}
	_ = c.Write(remoting.NewResponse(cmd, remoting.RespSuccess, ""))
}

func (r *Registry) checkClientConfig(cmd *remoting.Command) error {
	var req checkClientBody
	if len(cmd.Body) > 0 {
		if err := body.DecodeJSON(cmd.Body, &req); err != nil {
			return reply.Errorf(reply.ErrSystem, "decode CHECK_CLIENT_CONFIG body: %v", err)
		}
	}
	sd := req.SubscriptionData
	if sd == nil || sd.IsTagType() {
		return nil
	}
	if !r.cfg.Broker.EnablePropertyFilter {
		return errPropertyFilterOff(sd.ExpressionType)
	}
	if !isSQL92(sd.ExpressionType) {
		return reply.Errorf(reply.ErrSubscriptionParseFailed, "unsupported expression type %q", sd.ExpressionType)
	}
	if _, err := r.sqlFilters.compile(sd.SubString); err != nil {
		r.log.Debug().Err(err).Str("group", req.Group).Str("client", req.ClientID).Msg("SQL92 selector does not compile")
		return reply.Errorf(reply.ErrSubscriptionParseFailed, "%v", err)
	}
	return nil
}
