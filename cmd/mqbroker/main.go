// Command mqbroker runs an actormq broker:
//
//	mqbroker -c broker.properties [-n "host:port;host:port"] [-p] [-debug-addr 127.0.0.1:6060]
//
// It reads RocketMQ's broker property keys; -n overrides namesrvAddr and -p
// prints the effective configuration and exits. -debug-addr (actormq's own,
// off by default) serves net/http/pprof there, execution traces included.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/actormq/actormq/actors/broker"
	"github.com/actormq/actormq/actors/config"
	"github.com/actormq/actormq/cmd/internal/cli"
)

// shutdownTimeout bounds a SIGTERM shutdown: in-flight sends are answered
// within the client's 3 s send timeout, so this is generous.
const shutdownTimeout = 30 * time.Second

func main() {
	gcPercent, memoryLimit := tuneGC() // before the broker allocates
	confPath := flag.String("c", "", "broker configuration file (Java properties)")
	namesrv := flag.String("n", "", `NameServer address list, e.g. "127.0.0.1:9876;127.0.0.2:9876"`)
	printConfig := flag.Bool("p", false, "print the effective configuration and exit")
	debugAddr := flag.String("debug-addr", "", "serve net/http/pprof (profiles, /debug/pprof/trace) on this address, e.g. 127.0.0.1:6060 (off when empty)")
	flag.Parse()

	overrides := map[string]string{}
	if *namesrv != "" {
		overrides["namesrvAddr"] = *namesrv
	}
	cfg, warnings, err := config.LoadBroker(*confPath, overrides)
	if err != nil {
		cli.Fatal("mqbroker: %v", err)
	}
	cfg.ConfigPath = *confPath
	log := cli.Logger("broker")
	for _, w := range warnings {
		log.Warn().Msg(w)
	}
	if *printConfig {
		fmt.Print(config.Format(cfg.Properties()))
		return
	}

	log.Info().Int("gcPercent", gcPercent).Int64("memoryLimitBytes", memoryLimit).Msg("garbage collector settings (GOGC, GOMEMLIMIT)")
	sigs := cli.ShutdownSignals() // before Start, so no SIGTERM is missed
	if *debugAddr != "" {
		d, err := startDebugServer(*debugAddr, log)
		if err != nil {
			cli.Fatal("mqbroker: -debug-addr: %v", err)
		}
		defer d.stop()
		log.Info().Str("addr", d.addr.String()).Msg("debug server (net/http/pprof) listening")
	}
	b := broker.New(cfg, log)
	if err := b.Start(); err != nil {
		log.Error().Err(err).Msg("broker failed to start")
		os.Exit(1)
	}
	fmt.Printf("The broker[%s, %s] boot success. serializeType=JSON and name server is %s\n",
		cfg.BrokerName, b.Addr(), cfg.NamesrvAddr)

	sig := <-sigs
	log.Info().Str("signal", sig.String()).Msg("shutting down")
	ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := b.Shutdown(ctx); err != nil {
		log.Error().Err(err).Msg("shutdown incomplete")
		os.Exit(1)
	}
	log.Info().Msg("broker stopped")
}
