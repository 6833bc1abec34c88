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
		// Removal on connection close would also empty the table: the
		// NameServer logs this line only for an UNREGISTER_BROKER request.
		if !logHasLine(ns.log(), `"message":"broker unregistered"`, `"broker":"`+b.addr+`"`) {
			t.Fatalf("%s got no UNREGISTER_BROKER from the stopping broker:\n%s", ns.addr, ns.log())
		}
	}
}

// logHasLine reports whether one line of log contains every one of subs.
func logHasLine(log string, subs ...string) bool {
	for _, line := range strings.Split(log, "\n") {
		if containsAll(line, subs...) {
			return true
		}
	}
	return false
}
