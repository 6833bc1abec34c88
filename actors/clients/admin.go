package clients

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/actormq/actormq/actors/config"
	"github.com/actormq/actormq/actors/reply"
	"github.com/actormq/actormq/netio"
	"github.com/actormq/actormq/wire/body"
	"github.com/actormq/actormq/wire/remoting"
	"github.com/asynkron/protoactor-go/actor"
)

// What the admin requests (package actors/admin) and request-reply (package
// actors/requestreply) ask of the client manager: the connections of a
// client, GET_PRODUCER_CONNECTION_LIST (204), the groups that subscribe a
// topic, and runtime config changes.

// query runs fn on the actor and answers the future with its result: the
// callers are control-plane actors that wait with a timeout.
type query struct{ fn func(a *managerActor) any }

// askTimeoutDefault bounds a query whose ctx has no deadline.
const askTimeoutDefault = 5 * time.Second

// Channel is one registered client connection of a group.
type Channel struct {
	ClientID string
	Conn     *netio.Conn
	Version  int32 // the client's MQVersion ordinal
}

// ConsumerChannels returns the connections of consumer group, sorted by
// client id; none when the group has no live consumer. Blocking (future to
// the actor); never on a gnet loop.
func (m *Manager) ConsumerChannels(ctx context.Context, group string) ([]Channel, error) {
	res, err := m.ask(ctx, func(a *managerActor) any {
		g := a.consumers[group]
		if g == nil {
			return []Channel(nil)
		}
		out := make([]Channel, 0, len(g.channels))
		for _, ch := range g.channels {
			out = append(out, Channel{ClientID: ch.clientID, Conn: ch.conn, Version: ch.version})
		}
		sort.Slice(out, func(i, j int) bool { return out[i].ClientID < out[j].ClientID })
		return out
	})
	if err != nil {
		return nil, err
	}
	return res.([]Channel), nil
}

// ProducerChannel returns the connection of the producer client clientID
// (Java's ProducerManager.findChannel: any producer group of that client),
// the most recently registered one when it has several. Lock-free (a
// snapshot the actor publishes on joins and leaves); any goroutine.
func (m *Manager) ProducerChannel(clientID string) (Channel, bool) {
	v, ok := m.producerClients.Load(clientID)
	if !ok {
		return Channel{}, false
	}
	return v.(Channel), true
}

// ApplyRuntimeConfig takes the keys of cfg the client manager reads while it
// runs (notifyConsumerIdsChangedEnable) after UPDATE_BROKER_CONFIG. Blocking
// (future to the actor); never on a gnet loop.
func (m *Manager) ApplyRuntimeConfig(ctx context.Context, cfg config.Broker) error {
	_, err := m.ask(ctx, func(a *managerActor) any {
		a.cfg.NotifyConsumerIDsChanged = cfg.NotifyConsumerIDsChanged
		return nil
	})
	return err
}

// SubscribedTopics returns the topics group's live consumers subscribe,
// sorted; none when the group has no live consumer. Lock-free; any
// goroutine.
func (m *Manager) SubscribedTopics(group string) []string {
	v, ok := m.views.Load(group)
	if !ok {
		return nil
	}
	topics := make([]string, 0, len(v.(*groupView).subs))
	for t := range v.(*groupView).subs {
		topics = append(topics, t)
	}
	sort.Strings(topics)
	return topics
}

// GroupsSubscribing returns the consumer groups with a live consumer
// subscribed to topic, sorted. Lock-free; any goroutine.
func (m *Manager) GroupsSubscribing(topic string) []string {
	var groups []string
	m.views.Range(func(k, v any) bool {
		if _, ok := v.(*groupView).subs[topic]; ok {
			groups = append(groups, k.(string))
		}
		return true
	})
	sort.Strings(groups)
	return groups
}

// ask runs fn on the actor and waits for its result until ctx's deadline.
func (m *Manager) ask(ctx context.Context, fn func(a *managerActor) any) (any, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrStopped, err)
	}
	timeout := askTimeoutDefault
	if dl, ok := ctx.Deadline(); ok {
		if timeout = time.Until(dl); timeout <= 0 {
			return nil, fmt.Errorf("%w: %w", ErrStopped, context.DeadlineExceeded)
		}
	}
	res, err := m.system.Root.RequestFuture(m.pid, &query{fn: fn}, timeout).Result()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrStopped, err)
	}
	return res, nil
}

// answerQuery runs a query. Actor goroutine.
func (a *managerActor) answerQuery(ctx actor.Context, q *query) {
	ctx.Respond(q.fn(a))
}

// ProducerConnection is the GET_PRODUCER_CONNECTION_LIST body (wire doc
// §6.6).
type ProducerConnection struct {
	ConnectionSet []body.Connection `json:"connectionSet"`
}

// producerConnections is GET_PRODUCER_CONNECTION_LIST (204). Java answers a
// group without producers SYSTEM_ERROR with this remark.
func (a *managerActor) producerConnections(cmd *remoting.Command) *remoting.Command {
	group, err := cmd.RequiredString("producerGroup")
	if err != nil {
		return reply.Error(cmd, err)
	}
	g := a.producers[group]
	if g == nil || len(g.channels) == 0 {
		return reply.Error(cmd, reply.Errorf(reply.ErrSystem, "the producer group[%s] not exist", group))
	}
	pc := ProducerConnection{ConnectionSet: connections(g.channels)}
	resp := remoting.NewResponse(cmd, remoting.RespSuccess, "")
	resp.Body = body.EncodeJSON(pc)
	return resp
}

// connections lists channels as body.Connection entries sorted by client id
// and address.
func connections(chs map[uint64]*channel) []body.Connection {
	out := make([]body.Connection, 0, len(chs))
	for _, ch := range chs {
		out = append(out, body.Connection{ClientID: ch.clientID, ClientAddr: ch.conn.RemoteAddr(), Language: ch.language, Version: ch.version})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].ClientID != out[j].ClientID {
			return out[i].ClientID < out[j].ClientID
		}
		return out[i].ClientAddr < out[j].ClientAddr
	})
	return out
}
