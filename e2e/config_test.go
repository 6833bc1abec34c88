package e2e

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// runBinary runs a binary to completion and returns its stdout, stderr and
// exit code.
func runBinary(t *testing.T, name string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(filepath.Join(binDir, name), args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		code = exitErr.ExitCode()
	} else if err != nil {
		t.Fatalf("run %s: %v", name, err)
	}
	return stdout.String(), stderr.String(), code
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "test.properties")
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestBinaryConfiguration(t *testing.T) {
	tests := []struct {
		name       string
		binary     string
		args       func(conf string) []string
		conf       string
		wantCode   int
		wantStdout []string // substrings
		wantStderr []string
	}{
		{
			name: "broker -p prints the effective configuration", binary: "mqbroker",
			conf: "brokerName=broker-x\nlistenPort=20911\nflushDiskType=SYNC_FLUSH\n",
			args: func(c string) []string { return []string{"-c", c, "-n", "127.0.0.1:9876", "-p"} },
			wantStdout: []string{"brokerName=broker-x\n", "listenPort=20911\n", "flushDiskType=SYNC_FLUSH\n",
				"namesrvAddr=127.0.0.1:9876\n", "storePathCommitLog="},
		},
		{
			name: "broker unknown key is a warning", binary: "mqbroker",
			conf:       "brokerName=b\nnoSuchKey=1\n",
			args:       func(c string) []string { return []string{"-c", c, "-p"} },
			wantStdout: []string{"brokerName=b\n"}, wantStderr: []string{"noSuchKey"},
		},
		{
			name: "broker invalid number names the key", binary: "mqbroker",
			conf: "listenPort=abc\n", wantCode: 1,
			args:       func(c string) []string { return []string{"-c", c} },
			wantStderr: []string{"listenPort"},
		},
		{
			name: "broker invalid role names the key", binary: "mqbroker",
			conf: "brokerRole=LEADER\n", wantCode: 1,
			args:       func(c string) []string { return []string{"-c", c} },
			wantStderr: []string{"brokerRole"},
		},
		{
			name: "namesrv -p", binary: "mqnamesrv",
			conf:       "listenPort=19999\n",
			args:       func(c string) []string { return []string{"-c", c, "-p"} },
			wantStdout: []string{"listenPort=19999\n"},
		},
		{
			name: "namesrv invalid value names the key", binary: "mqnamesrv",
			conf: "listenPort=-5\n", wantCode: 1,
			args:       func(c string) []string { return []string{"-c", c} },
			wantStderr: []string{"listenPort"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := runBinary(t, tt.binary, tt.args(writeFile(t, tt.conf))...)
			if code != tt.wantCode {
				t.Fatalf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.wantCode, stdout, stderr)
			}
			for _, s := range tt.wantStdout {
				if !strings.Contains(stdout, s) {
					t.Errorf("stdout lacks %q:\n%s", s, stdout)
				}
			}
			for _, s := range tt.wantStderr {
				if !strings.Contains(stderr, s) {
					t.Errorf("stderr lacks %q:\n%s", s, stderr)
				}
			}
		})
	}
}
