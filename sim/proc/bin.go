package proc

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
)

// BinEnv names the environment variable that points at a directory holding
// built mqnamesrv and mqbroker binaries (as the e2e tests use it).
const BinEnv = "ACTORMQ_BIN"

var built struct {
	once sync.Once
	dir  string
	err  error
}

// BinDir returns the directory with mqnamesrv and mqbroker: $ACTORMQ_BIN when
// set, else a temp dir they are built into with `go build`, once per process
// (later calls return the same dir or the same error). Building needs the Go
// toolchain and a working directory inside the actormq module, as under `go
// test` and `go run ./sim`. The temp dir is left behind for the OS to clean,
// like the e2e tests' one: binaries of a crashed run help debugging.
func BinDir(ctx context.Context) (string, error) {
	if dir := os.Getenv(BinEnv); dir != "" {
		return dir, nil
	}
	built.once.Do(func() { built.dir, built.err = build(ctx) })
	return built.dir, built.err
}

func build(ctx context.Context) (string, error) {
	var out bytes.Buffer
	gomod := exec.CommandContext(ctx, "go", "env", "GOMOD")
	gomod.Stdout, gomod.Stderr = &out, &out
	if err := gomod.Run(); err != nil {
		return "", fmt.Errorf("proc: go env GOMOD: %w: %s", err, out.String())
	}
	modFile := strings.TrimSpace(out.String())
	if modFile == "" || modFile == os.DevNull {
		return "", fmt.Errorf("proc: not inside the actormq module; set %s to a dir with mqnamesrv and mqbroker", BinEnv)
	}
	dir, err := os.MkdirTemp("", "actormq-sim-bin-")
	if err != nil {
		return "", fmt.Errorf("proc: %w", err)
	}
	out.Reset()
	cmd := exec.CommandContext(ctx, "go", "build", "-o", dir+string(filepath.Separator), "./cmd/mqnamesrv", "./cmd/mqbroker")
	cmd.Dir = filepath.Dir(modFile)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("proc: go build: %w: %s", err, out.String())
	}
	return dir, nil
}
