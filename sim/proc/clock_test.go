package proc

import (
	"strings"
	"testing"
	"time"

	"github.com/actormq/actormq/internal/testkit"
	"github.com/actormq/actormq/internal/wallclock"
	"github.com/actormq/actormq/netio"
	"github.com/actormq/actormq/wire/message"
	"github.com/actormq/actormq/wire/remoting"
)

// TestRestartWithAJumpedClock stores a message of the 1 h delay level, and
// restarts the broker with its clock 2 h ahead: the message is overdue and
// delivered at once.
func TestRestartWithAJumpedClock(t *testing.T) {
	_, br := startCluster(t, Options{Props: map[string]string{"messageDelayLevel": "1s 1h"}})
	c := netio.NewClient(netio.ClientConfig{})
	defer c.Close()
	req := sendRequest(1, 100)
	req.ExtFields["properties"] = message.FormatProperties(map[string]string{message.PropertyDelay: "2"})
	if resp, err := c.Invoke(testkit.Context(t), br.Addr(), req); err != nil || resp.Code != remoting.RespSuccess {
		t.Fatalf("send: %v %+v", err, resp)
	}
	if e, err := br.Term(testkit.Timeout); err != nil || e.Code != 0 {
		t.Fatalf("Term = %v, %v", e, err)
	}
	br.SetEnv([]string{wallclock.Env(2 * time.Hour)})
	if err := br.Restart(testkit.ContextWithin(t, startTimeout)); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, "the overdue message delivered", func() bool { return maxOffset(t, c, br.Addr()) == 1 })
}

func TestBadClockOffsetStopsTheStart(t *testing.T) {
	ctx := testkit.ContextWithin(t, startTimeout)
	_, err := StartBroker(ctx, Options{Dir: t.TempDir(), Env: []string{wallclock.EnvVar + "=2 hours"}})
	if err == nil || !strings.Contains(err.Error(), wallclock.EnvVar) || !strings.Contains(err.Error(), "exit status 2") {
		t.Fatalf("start with a bad clock offset = %v, want exit status 2 naming %s", err, wallclock.EnvVar)
	}
}
