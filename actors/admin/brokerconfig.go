package admin

import (
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"

	"github.com/actormq/actormq/actors/config"
	"github.com/actormq/actormq/actors/reply"
	"github.com/actormq/actormq/storage/metadata"
	"github.com/actormq/actormq/wire/body"
	"github.com/actormq/actormq/wire/remoting"
)

// UPDATE_BROKER_CONFIG (25) and GET_BROKER_CONFIG (26).
//
// Java writes any key into its config objects and lets each component read
// it whenever it does; many keys silently take effect only after a restart.
// Here components copy their config at start, so an update is limited to
// the keys whose readers take the new value at once — runtimeKeys — and
// everything else is refused:
//
//	blackListKeys (Java's configBlackList)   NO_PERMISSION
//	a known key outside runtimeKeys          NO_PERMISSION ("restart-only"):
//	                                         like the black list, a valid
//	                                         key this broker will not change
//	                                         remotely
//	unknown key, or a value that does not
//	validate as at load                      INVALID_PARAMETER
//
// An update is all or nothing. Like Java, an accepted update is persisted
// so that it holds after a restart: into the file mqbroker was started with
// (-c), else <storePathRootDir>/config/broker.properties (Java's default
// brokerConfigPath, which nothing reads at start; start with -c on it to
// keep the changes). Unlike Java, which rewrites the file with every key it
// has, only the updated keys' lines change (config.SetProperties): the
// operator's comments, unknown keys and derived values stay as written. The
// file is replaced atomically with a .bak of the previous version
// (metadata.Save; mqbroker reads the .bak should a crash interrupt the
// replacement), and the change is applied only once it is on disk.

// runtimeKeys are the keys UPDATE_BROKER_CONFIG may change, each with the
// component that reads it live.
var runtimeKeys = map[string]string{
	"storeReplyMessageEnable":        "request-reply reads it for every reply",
	"notifyConsumerIdsChangedEnable": "the client manager takes it through ApplyRuntimeConfig",
}

// blackListKeys may never be updated remotely (Java's configBlackList).
var blackListKeys = map[string]bool{
	"brokerConfigPath": true, "configBlackList": true, "rocketmqHome": true,
}

// brokerConfig is GET_BROKER_CONFIG (26): the effective config as properties
// text, and the config's data version in the `version` header.
// Admin actor.
func (x *adminActor) brokerConfig(cmd *remoting.Command) *remoting.Command {
	cfg := x.a.Config()
	resp := remoting.NewResponse(cmd, remoting.RespSuccess, "")
	resp.SetExt("version", string(body.EncodeJSON(x.version)))
	resp.Body = []byte(config.Format(cfg.Properties()))
	return resp
}

// updateBrokerConfig is UPDATE_BROKER_CONFIG (25). Admin actor.
func (x *adminActor) updateBrokerConfig(cmd *remoting.Command) *remoting.Command {
	a := x.a
	if len(cmd.Body) == 0 {
		return remoting.NewResponse(cmd, remoting.RespSuccess, "")
	}
	kvs, err := config.ParseProperties(cmd.Body)
	if err != nil {
		return reply.Error(cmd, reply.Errorf(reply.ErrInvalidParameter, "%v", err))
	}
	for _, kv := range kvs {
		if blackListKeys[kv.Key] {
			return reply.Error(cmd, reply.Errorf(reply.ErrNoPermission, "Can not update config in black list."))
		}
	}
	cur := a.Config()
	next, err := cur.With(kvs)
	switch {
	case errors.Is(err, config.ErrUnknownKey), errors.Is(err, config.ErrInvalid):
		return reply.Error(cmd, reply.Errorf(reply.ErrInvalidParameter, "%v", err))
	case err != nil:
		return reply.Error(cmd, err)
	}
	var restartOnly []string
	for _, kv := range kvs {
		if _, ok := runtimeKeys[kv.Key]; !ok {
			restartOnly = append(restartOnly, kv.Key)
		}
	}
	if len(restartOnly) > 0 {
		return reply.Error(cmd, reply.Errorf(reply.ErrNoPermission,
			"config keys %s cannot change while the broker runs; edit the config file and restart (runtime keys: %s)",
			strings.Join(restartOnly, ","), strings.Join(sortedKeys(runtimeKeys), ",")))
	}
	path := a.configPath()
	if err := a.persistConfig(path, next, kvs); err != nil {
		a.log.Error().Err(err).Str("path", path).Msg("broker config update not persisted; not applied")
		return reply.Error(cmd, fmt.Errorf("%w: persist %s: %w", reply.ErrSystem, path, err))
	}
	a.live.Store(&next)
	x.version = x.version.Next()
	ctx, cancel := a.callCtx()
	defer cancel()
	if err := a.cfg.Clients.ApplyRuntimeConfig(ctx, next); err != nil {
		a.log.Error().Err(err).Msg("client manager did not take the new config")
		return reply.Error(cmd, fmt.Errorf("%w: config saved but not applied to the client manager: %w", reply.ErrSystem, err))
	}
	a.log.Info().Interface("keys", kvs).Str("path", path).Msg("broker config updated")
	return remoting.NewResponse(cmd, remoting.RespSuccess, "")
}

// configPath is where an update is persisted (brokerConfigPath).
func (a *Admin) configPath() string {
	if p := a.cfg.Broker.ConfigPath; p != "" {
		return p
	}
	return filepath.Join(a.cfg.Broker.StorePathRootDir, "config", "broker.properties")
}

// persistConfig sets the keys of kvs, with their values as next has them,
// in the config file at path (created when missing).
func (a *Admin) persistConfig(path string, next config.Broker, kvs []config.KV) error {
	var text []byte
	if _, err := metadata.LoadInto(a.cfg.FS, path, func(b []byte) error {
		text = b
		return nil
	}); err != nil {
		return err
	}
	values := make(map[string]string)
	for _, kv := range next.Properties() {
		values[kv.Key] = kv.Value
	}
	set := make([]config.KV, len(kvs))
	for i, kv := range kvs {
		set[i] = config.KV{Key: kv.Key, Value: values[kv.Key]}
	}
	return metadata.Save(a.cfg.FS, path, config.SetProperties(text, set))
}

func sortedKeys(m map[string]string) []string { return slices.Sorted(maps.Keys(m)) }
