package proc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/actormq/actormq/netio"
	"github.com/actormq/actormq/wire/remoting"
)

// registerPoll is how often WaitRegistered asks the NameServer.
const registerPoll = 50 * time.Millisecond

// WaitRegistered waits until the NameServer at namesrvAddr lists this broker
// (GET_BROKER_CLUSTER_INFO names its address), or the run exits, or ctx
// ends. namesrvAddr may be a netfault proxy in front of the NameServer.
func (p *Proc) WaitRegistered(ctx context.Context, namesrvAddr string) error {
	if p.program != Broker {
		return errors.New("proc: WaitRegistered is for brokers")
	}
	c := netio.NewClient(netio.ClientConfig{})
	defer c.Close()
	want := []byte(p.Addr())
	tick := time.NewTicker(registerPoll)
	defer tick.Stop()
	done := p.Done()
	for {
		invokeCtx, cancel := context.WithTimeout(ctx, time.Second)
		resp, err := c.Invoke(invokeCtx, namesrvAddr, remoting.NewRequest(remoting.ReqGetBrokerClusterInfo, nil, nil))
		cancel()
		if err == nil && resp.Code == remoting.RespSuccess && bytes.Contains(resp.Body, want) {
			return nil
		}
		select {
		case <-done:
			e, _ := p.Exited()
			return fmt.Errorf("proc: broker %s exited (%s) before registering with %s", p.Addr(), e, namesrvAddr)
		case <-ctx.Done():
			return fmt.Errorf("proc: broker %s not registered with %s: %w", p.Addr(), namesrvAddr, ctx.Err())
		case <-tick.C:
		}
	}
}
