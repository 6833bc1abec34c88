// Command mqadmin is RocketMQ's admin tool for actormq (and any RocketMQ 4.x
// cluster): the everyday commands with Java mqadmin's names, flags and
// table layouts.
//
//	mqadmin <command> -n 127.0.0.1:9876 [flags]
//
// -n (or NAMESRV_ADDR) lists NameServers separated by ';'. Output goes to
// stdout. A failure prints one line to stderr ("mqadmin: topicRoute: topic
// T: TOPIC_NOT_EXIST (17): ...") and exits 1; a usage error exits 2.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"

	"github.com/spf13/cobra"

	"github.com/actormq/actormq/cmd/mqadmin/internal/admin"
)

// Exit codes.
const (
	exitFailure = 1
	exitUsage   = 2
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run executes one mqadmin invocation and returns its exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := newRoot()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return 0
	}
	prefix, help := "mqadmin: ", "mqadmin --help"
	if cmd != nil && cmd != root.Command {
		prefix, help = "mqadmin: "+cmd.Name()+": ", "mqadmin "+cmd.Name()+" --help"
	}
	var rerr *runtimeError
	if errors.As(err, &rerr) {
		fmt.Fprintf(stderr, "%s%s\n", prefix, oneLine(rerr.err.Error()))
		return exitFailure
	}
	fmt.Fprintf(stderr, "%s%s\nRun '%s' for usage.\n", prefix, oneLine(err.Error()), help)
	return exitUsage
}

// oneLine keeps a message on one line: broker remarks may hold newlines
// or runs of spaces.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// runtimeError marks a failure while running a command (exit 1), as
// opposed to cobra's usage errors and usageError (exit 2).
type runtimeError struct{ err error }

func (e *runtimeError) Error() string { return e.err.Error() }

// usageError is a flag value a command rejects itself.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usageErrorf(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// rootCommand is the mqadmin command with the -n value its subcommands read.
type rootCommand struct {
	*cobra.Command
	namesrv string
}

func newRoot() *rootCommand {
	r := &rootCommand{Command: &cobra.Command{
		Use:           "mqadmin",
		Short:         "RocketMQ admin tool for actormq",
		SilenceErrors: true,
		SilenceUsage:  true,
	}}
	r.CompletionOptions.DisableDefaultCmd = true
	r.PersistentFlags().StringVarP(&r.namesrv, "namesrvAddr", "n", "",
		"name servers, separated by ';' (default $NAMESRV_ADDR)")
	for _, c := range []*cobra.Command{
		clusterListCmd(r), brokerStatusCmd(r), getBrokerConfigCmd(r), updateBrokerConfigCmd(r),
		topicListCmd(r), topicRouteCmd(r), topicStatusCmd(r), updateTopicCmd(r), deleteTopicCmd(r),
		updateSubGroupCmd(r), deleteSubGroupCmd(r), consumerProgressCmd(r), consumerConnectionCmd(r),
		resetOffsetByTimeCmd(r),
		queryMsgByIDCmd(r), queryMsgByKeyCmd(r), queryMsgByOffsetCmd(r), sendMessageCmd(r), printMsgCmd(r),
	} {
		r.AddCommand(c)
	}
	return r
}

// nameServers returns -n, or NAMESRV_ADDR, split on ';'.
func (r *rootCommand) nameServers() []string {
	list := r.namesrv
	if list == "" {
		list = os.Getenv("NAMESRV_ADDR")
	}
	var out []string
	for _, a := range strings.Split(list, ";") {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	return out
}

// streams are where a command prints: its output, and warnings about parts
// that failed without failing the command (as Java prints a stack trace and
// goes on).
type streams struct{ out, err io.Writer }

func (s streams) warnf(format string, args ...any) {
	fmt.Fprintf(s.err, "mqadmin: warning: %s\n", oneLine(fmt.Sprintf(format, args...)))
}

// action is a command body: it talks to the cluster through a and prints to s.
type action func(ctx context.Context, a *admin.Admin, s streams) error

// runE adapts an action to cobra: it connects, runs, closes, and marks
// failures as runtime errors (usage errors stay usage errors).
func (r *rootCommand) runE(act action) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, _ []string) error {
		a, err := admin.New(admin.Config{NameServers: r.nameServers()})
		if err != nil {
			return &runtimeError{err: err}
		}
		defer a.Close()
		err = act(cmd.Context(), a, streams{out: cmd.OutOrStdout(), err: cmd.ErrOrStderr()})
		var uerr *usageError
		if err == nil || errors.As(err, &uerr) {
			return err
		}
		return &runtimeError{err: err}
	}
}
