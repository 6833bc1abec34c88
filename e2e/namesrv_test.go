package e2e

import (
	"strings"
	"testing"
)

// TestBrokerRegistersWithEveryNameServer: a broker started with two
// NameServers in -n is routed by both, and a SIGTERM unregisters it from both.
func TestBrokerRegistersWithEveryNameServer(t *testing.T) {
	ns1, ns2 := startNamesrv(t), startNamesrv(t)
	both := &namesrv{process: ns1.process, addr: ns1.addr + ";" + ns2.addr}
	b := startBroker(t, both, defaultBrokerOpts())

	clusterHas := func(ns *namesrv) bool {
		resp, err := rawInvoke(ns.addr, rawRequest{code: 106})
		return err == nil && resp.code == 0 && strings.Contains(string(resp.body), b.addr)
	}
	for _, ns := range []*namesrv{ns1, ns2} {
		resp, err := rawInvoke(ns.addr, rawRequest{code: 105, ext: map[string]string{"topic": "TBW102"}})
		if err != nil || resp.code != 0 || !strings.Contains(string(resp.body), `"brokerAddrs":{"0":"`+b.addr+`"}`) {
			t.Fatalf("TBW102 route at %s: %v %d %s", ns.addr, err, resp.code, resp.body)
		}
	}
	b.stop()
	for _, ns := range []*namesrv{ns1, ns2} {
		if clusterHas(ns) {
			t.Fatalf("broker still registered with %s after SIGTERM", ns.addr)
		}
	}
}
