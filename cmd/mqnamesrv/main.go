// Command mqnamesrv runs an actormq NameServer:
//
//	mqnamesrv [-c namesrv.properties] [-p]
//
// It reads RocketMQ's NameServer property keys (listenPort, bindAddress,
// kvConfigPath, scanNotActiveBrokerInterval, ...); -p prints the effective
// configuration and exits.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/actormq/actormq/actors/config"
	"github.com/actormq/actormq/actors/namesrv"
	"github.com/actormq/actormq/cmd/internal/cli"
)

// shutdownTimeout bounds a SIGTERM shutdown; the NameServer only has to
// answer what is queued and write nothing but kvConfig.json.
const shutdownTimeout = 10 * time.Second

func main() {
	confPath := flag.String("c", "", "NameServer configuration file (Java properties)")
	printConfig := flag.Bool("p", false, "print the effective configuration and exit")
	flag.Parse()

	cfg, warnings, err := config.LoadNamesrv(*confPath, nil)
	if err != nil {
		cli.Fatal("mqnamesrv: %v", err)
	}
	log := cli.Logger("namesrv")
	for _, w := range warnings {
		log.Warn().Msg(w)
	}
	if *printConfig {
		fmt.Print(config.Format(cfg.Properties()))
		return
	}

	// Subscribe before Start: a SIGTERM sent right after the boot line (as
	// scripts and tests do) must reach us, not the default action.
	sigs := cli.ShutdownSignals()

	s := namesrv.New(cfg, log)
	if err := s.Start(); err != nil {
		log.Error().Err(err).Msg("name server failed to start")
		os.Exit(1)
	}
	fmt.Printf("The Name Server boot success. serializeType=JSON, address %s\n", s.Addr())

	sig := <-sigs
	log.Info().Str("signal", sig.String()).Msg("shutting down")
	ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		log.Error().Err(err).Msg("shutdown incomplete")
		os.Exit(1)
	}
}
