package main

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// TestDebugServer serves the profiles and an execution trace on a loopback
// port and stops listening when stopped.
func TestDebugServer(t *testing.T) {
	d, err := startDebugServer("127.0.0.1:0", zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	defer func() {
		if !stopped {
			d.stop()
		}
	}()
	get := func(path string) []byte {
		t.Helper()
		client := http.Client{Timeout: 30 * time.Second}
		resp, err := client.Get("http://" + d.addr.String() + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %s: %s", path, resp.Status, b)
		}
		return b
	}
	if b := get("/debug/pprof/"); !bytes.Contains(b, []byte("goroutine")) {
		t.Fatalf("index lists no goroutine profile: %.200s", b)
	}
	// An execution trace starts with its version line, "go 1.NN trace".
	if b := get("/debug/pprof/trace?seconds=0.1"); !bytes.HasPrefix(b, []byte("go 1.")) {
		t.Fatalf("trace starts %q", b[:min(len(b), 16)])
	}
	d.stop()
	stopped = true
	if c, err := net.DialTimeout("tcp", d.addr.String(), time.Second); err == nil {
		c.Close()
		t.Fatal("still listening after stop")
	}
}

// TestDebugServerBadAddress fails at start, not later on its goroutine.
func TestDebugServerBadAddress(t *testing.T) {
	if d, err := startDebugServer("127.0.0.1:-1", zerolog.Nop()); err == nil {
		d.stop()
		t.Fatal("started on a bad address")
	}
}
