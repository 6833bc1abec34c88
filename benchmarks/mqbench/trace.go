package main

import (
	"fmt"
	"os"
	"runtime/trace"

	"github.com/spf13/cobra"
)

// registerTrace adds --trace FILE to every command: the generator's Go
// execution trace for the whole run, to tell its own stalls (pacing timer,
// GC, goroutines runnable but not running) from the broker's when a
// latency tail is read. Take the broker's at the same time through its
// -debug-addr (/debug/pprof/trace?seconds=N). The returned stop ends the
// trace and closes the file; main calls it after the command returned,
// failed runs included (cobra skips its post-run hooks on an error).
func registerTrace(root *cobra.Command) (stop func() error) {
	var path string
	var f *os.File
	root.PersistentFlags().StringVar(&path, "trace", "", "write the generator's Go execution trace (runtime/trace) to this file")
	root.PersistentPreRunE = func(*cobra.Command, []string) error {
		if path == "" {
			return nil
		}
		out, err := os.Create(path)
		if err != nil {
			return fmt.Errorf("--trace: %w", err)
		}
		if err := trace.Start(out); err != nil {
			out.Close()
			return fmt.Errorf("--trace: %w", err)
		}
		f = out
		return nil
	}
	return func() error {
		if f == nil {
			return nil
		}
		trace.Stop()
		err := f.Close()
		f = nil
		return err
	}
}
