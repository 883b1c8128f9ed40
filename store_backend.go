package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"rfadesk/config"
	"rfadesk/ha"
	"rfadesk/store"
	"rfadesk/store/kv"
)

// backend is where the desk's state lives and who may write it.
type backend struct {
	st *store.DB
	// receiptsPath is the local SMTP receipt log; receiptBatch how many
	// receipts it holds before they are applied (bot.DelivererOptions).
	receiptsPath string
	receiptBatch int
	// elector is nil on bbolt (the one process always leads).
	elector *ha.Elector
	// fence hands the etcd driver the term's fence; begin brings the
	// store's schema up to date at the start of each term.
	fence func(kv.Fence)
	begin func(ctx context.Context) error
	lease time.Duration
	close func() error
}

// openBackend opens the store the configuration names. On bbolt that is
// the file, locked and migrated, and this process always leads. On etcd
// the schema is only checked here (a store newer than this binary is
// refused) and every write is fenced: the instance that wins the election
// migrates the store at the start of its term, under its fence, and
// writes nothing before.
func openBackend(ctx context.Context, cfg *config.Config, o daemonOptions, log *slog.Logger) (*backend, error) {
	if cfg.Store.Backend != config.BackendEtcd {
		st, err := store.Open(cfg.Store.Path, &store.Options{NoSync: o.StoreNoSync})
		if err != nil {
			return nil, err
		}
		return &backend{
			st:           st,
			receiptsPath: store.ReceiptsPath(cfg.Store.Path),
			fence:        func(kv.Fence) {},
			begin:        func(context.Context) error { return nil },
			close:        st.Close,
		}, nil
	}
	cli, err := newEtcdClient(ctx, cfg.Store.Etcd)
	if err != nil {
		return nil, err
	}
	etcd := kv.NewEtcd(cli, &kv.EtcdOptions{Prefix: cfg.Store.Etcd.Prefix, RequireFence: true})
	st, err := store.Attach(ctx, etcd, cfg.Store.String())
	if err != nil {
		cli.Close()
		return nil, err
	}
	hopts := cfg.HA.Options
	hopts.Logger = log.With("component", "ha")
	return &backend{
		st:           st,
		receiptsPath: cfg.Store.Receipts,
		receiptBatch: 1,
		elector:      ha.NewElector(cli, hopts),
		fence:        etcd.SetFence,
		begin:        st.Migrate,
		lease:        cfg.HA.Lease,
		close: func() error {
			return errors.Join(st.Close(), cli.Close())
		},
	}, nil
}

// newEtcdClient connects to the cluster [store] names and checks that it
// answers within the dial timeout, so that a wrong endpoint or password
// is reported at start-up with the setting to fix. The client's own log
// is off: the etcd driver and package ha report what matters.
func newEtcdClient(ctx context.Context, e config.Etcd) (*clientv3.Client, error) {
	ccfg := e.ClientConfig(context.WithoutCancel(ctx))
	ccfg.Logger = zap.NewNop()
	// Notice a connection etcd stopped answering (a partition) without
	// waiting for TCP: ping every 5 s (the least etcd's server accepts
	// by default) and give up after 2 s without an answer.
	ccfg.DialKeepAliveTime, ccfg.DialKeepAliveTimeout = 5*time.Second, 2*time.Second
	cli, err := clientv3.New(ccfg)
	if err != nil {
		return nil, fmt.Errorf("store.endpoints: cannot reach etcd at %v: %w", e.Endpoints, err)
	}
	sctx, cancel := context.WithTimeout(ctx, e.DialTimeout)
	defer cancel()
	// One key inside the prefix: a login granted only the desk's prefix
	// (etcd's RBAC) may read it.
	if _, err := cli.Get(sctx, e.Prefix, clientv3.WithCountOnly()); err != nil {
		cli.Close()
		return nil, fmt.Errorf("store.endpoints: etcd at %v does not answer (check the endpoints, store.username and the password): %w", e.Endpoints, err)
	}
	return cli, nil
}
