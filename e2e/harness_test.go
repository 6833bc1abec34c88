// Package e2e drives the real mqnamesrv and mqbroker binaries with the real
// RocketMQ Go client (github.com/apache/rocketmq-client-go/v2 v2.1.2). It is a
// nested module so that the client never enters the product's import graph.
//
// Every test starts its own processes on free loopback ports with temp dirs
// and stops only those processes, by PID.
package e2e

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/apache/rocketmq-client-go/v2/primitive"
	"github.com/apache/rocketmq-client-go/v2/rlog"
)

// binDir holds mqnamesrv and mqbroker; set by TestMain.
var binDir string

func TestMain(m *testing.M) {
	rlog.SetLogLevel("error")
	// The Go client panics inside a goroutine when an async send times out
	// (client-quirks A3 item 18); with a handler set it recovers and the test
	// sees the missing callback instead of a crashed process.
	primitive.PanicHandler = func(v interface{}) { fmt.Fprintln(os.Stderr, "rocketmq client panic:", v) }
	binDir = os.Getenv("ACTORMQ_BIN")
	if binDir == "" {
		dir, err := os.MkdirTemp("", "actormq-bin")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		build := exec.Command("go", "build", "-o", dir+"/", "./cmd/...")
		build.Dir = ".."
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "building binaries:", err)
			os.Exit(1)
		}
		binDir = dir
	}
	os.Exit(m.Run())
}

// waitFor polls cond every 20 ms until it holds or timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// process is one started binary.
type process struct {
	t       *testing.T
	name    string
	cmd     *exec.Cmd
	logPath string
	done    chan struct{}
	err     error
}

func startProcess(t *testing.T, name string, args ...string) *process {
	t.Helper()
	logPath := filepath.Join(t.TempDir(), name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(binDir, name), args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.Env = append(os.Environ(), "ACTORMQ_LOG_LEVEL=info")
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	p := &process{t: t, name: name, cmd: cmd, logPath: logPath, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		logFile.Close()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			t.Logf("---- %s log (pid %d) ----\n%s", name, cmd.Process.Pid, p.log())
		}
	})
	return p
}

func (p *process) log() string {
	b, _ := os.ReadFile(p.logPath)
	return string(b)
}

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM and waits for a clean exit (status 0).
func (p *process) stop() {
	p.t.Helper()
	if p.exited() {
		p.t.Fatalf("%s already exited: %v\n%s", p.name, p.err, p.log())
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		p.kill()
		p.t.Fatalf("%s did not exit within 30s of SIGTERM\n%s", p.name, p.log())
	}
	if p.err != nil {
		p.t.Fatalf("%s exited with %v after SIGTERM\n%s", p.name, p.err, p.log())
	}
}

// kill sends SIGKILL (kill -9) and waits for the process to be gone.
func (p *process) kill() {
	if p.exited() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// bootLine is what mqnamesrv and mqbroker print once every listener is
// bound. Waiting for it as well as for a connection keeps a process that
// lost its port from passing for started: the connection may reach
// whoever took the port.
const bootLine = "boot success"

// errPortTaken: the process exited at start because one of its ports was
// taken between freePort's check and its bind (another test process, a
// helper's broker, a client's source port).
var errPortTaken = errors.New("port taken before the bind")

// startTries bounds the starts on freshly picked ports after errPortTaken.
const startTries = 3

// waitServing waits until p printed its boot line and addr accepts a
// connection. A process that exits first fails the test, unless it could
// not bind a port: then waitServing returns errPortTaken.
func waitServing(t *testing.T, p *process, addr string) error {
	t.Helper()
	var taken bool
	waitFor(t, 15*time.Second, p.name+" serving on "+addr, func() bool {
		if p.exited() {
			if taken = strings.Contains(p.log(), "address already in use"); taken {
				return true
			}
			t.Fatalf("%s exited early: %v\n%s", p.name, p.err, p.log())
		}
		if !strings.Contains(p.log(), bootLine) {
			return false
		}
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err != nil {
			return false
		}
		c.Close()
		return true
	})
	if taken {
		return fmt.Errorf("%s on %s: %w", p.name, addr, errPortTaken)
	}
	return nil
}

func writeProps(t *testing.T, dir, name string, props map[string]string) string {
	t.Helper()
	var b bytes.Buffer
	for k, v := range props {
		fmt.Fprintf(&b, "%s=%s\n", k, v)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// namesrv is a started NameServer.
type namesrv struct {
	*process
	addr string
}

func startNamesrv(t *testing.T) *namesrv {
	t.Helper()
	return startNamesrvPicking(t, freePort)
}

// startNamesrvPicking starts a NameServer on a port from pick, on a new
// one when the port was taken before the NameServer bound it.
func startNamesrvPicking(t *testing.T, pick func(*testing.T) int) *namesrv {
	t.Helper()
	dir := t.TempDir()
	for try := 1; ; try++ {
		port := pick(t)
		conf := writeProps(t, dir, "namesrv.properties", map[string]string{
			"listenPort":   fmt.Sprint(port),
			"bindAddress":  "127.0.0.1",
			"kvConfigPath": filepath.Join(dir, "kvConfig.json"),
		})
		p := startProcess(t, "mqnamesrv", "-c", conf)
		ns := &namesrv{process: p, addr: fmt.Sprintf("127.0.0.1:%d", port)}
		err := waitServing(t, p, ns.addr)
		if err == nil {
			return ns
		}
		if try == startTries {
			t.Fatalf("%v, %d tries", err, try)
		}
		t.Logf("%v; starting on another port", err)
	}
}

// broker is a started broker; its store survives restarts within a test.
type broker struct {
	*process
	t       *testing.T
	addr    string
	conf    string
	nsAddr  string
	storeAt string
}

type brokerOpts struct {
	flushDiskType   string // default ASYNC_FLUSH
	autoCreateTopic bool
	maxMessageSize  int
	commitLogBytes  int // segment size, default 8 MiB
	cqUnits         int // units per consume-queue file, default 10000
	// extra sets any further broker.properties keys (a feature's short
	// timers, enablePropertyFilter, ...); it wins over everything above.
	extra map[string]string
	// pickPort picks listenPort (port-2 and port+1 go with it); nil:
	// freePort. Tests of the harness pass a taken port first.
	pickPort func(*testing.T) int
}

func defaultBrokerOpts() brokerOpts { return brokerOpts{autoCreateTopic: true} }

func startBroker(t *testing.T, ns *namesrv, o brokerOpts) *broker {
	t.Helper()
	pick := o.pickPort
	if pick == nil {
		pick = freePort
	}
	for try := 1; ; try++ {
		// A fresh dir per try: a broker that failed to bind may have left
		// its store's abort file.
		dir := t.TempDir()
		port := pick(t)
		props := map[string]string{
			"brokerClusterName":     "E2ECluster",
			"brokerName":            "broker-e2e",
			"brokerId":              "0",
			"brokerRole":            "ASYNC_MASTER",
			"flushDiskType":         "ASYNC_FLUSH",
			"listenPort":            fmt.Sprint(port),
			"haListenPort":          fmt.Sprint(port + 1),
			"bindAddress":           "127.0.0.1",
			"brokerIP1":             "127.0.0.1",
			"storePathRootDir":      filepath.Join(dir, "store"),
			"autoCreateTopicEnable": fmt.Sprint(o.autoCreateTopic),
			// Small segments keep temp dirs small and exercise file rolling.
			"mapedFileSizeCommitLog":    fmt.Sprint(8 << 20),
			"mapedFileSizeConsumeQueue": fmt.Sprint(20 * 10000),
		}
		if o.flushDiskType != "" {
			props["flushDiskType"] = o.flushDiskType
		}
		if o.maxMessageSize > 0 {
			props["maxMessageSize"] = fmt.Sprint(o.maxMessageSize)
		}
		if o.commitLogBytes > 0 {
			props["mapedFileSizeCommitLog"] = fmt.Sprint(o.commitLogBytes)
		}
		if o.cqUnits > 0 {
			props["mapedFileSizeConsumeQueue"] = fmt.Sprint(20 * o.cqUnits)
		}
		for k, v := range o.extra {
			props[k] = v
		}
		b := &broker{t: t, addr: fmt.Sprintf("127.0.0.1:%d", port), nsAddr: ns.addr, storeAt: props["storePathRootDir"]}
		b.conf = writeProps(t, dir, "broker.properties", props)
		err := b.launch()
		if err == nil {
			return b
		}
		if try == startTries {
			t.Fatalf("%v, %d tries", err, try)
		}
		t.Logf("%v; starting on other ports", err)
	}
}

// start restarts the broker process on its config, store and ports and
// waits until it is registered with the NameServer.
func (b *broker) start() {
	b.t.Helper()
	if err := b.launch(); err != nil {
		// The ports are the broker's own: a restart cannot move them.
		b.t.Fatalf("restart: %v", err)
	}
}

// launch starts the broker process and waits until it is registered with
// the NameServer; errPortTaken when it could not bind its ports.
func (b *broker) launch() error {
	b.t.Helper()
	b.process = startProcess(b.t, "mqbroker", "-c", b.conf, "-n", b.nsAddr)
	if err := waitServing(b.t, b.process, b.addr); err != nil {
		return err
	}
	for _, ns := range strings.Split(b.nsAddr, ";") {
		waitFor(b.t, 15*time.Second, "broker registered with the NameServer "+ns, func() bool {
			resp, err := rawInvoke(ns, rawRequest{code: 106})
			return err == nil && resp.code == 0 && strings.Contains(string(resp.body), b.addr)
		})
	}
	return nil
}
