package main

import (
	"context"
	"log/slog"
	"time"

	"rfadesk/config"
	"rfadesk/ha"
	"rfadesk/store"
	"rfadesk/store/kv"
)

// backend is where the desk's state lives and who may write it.
type backend struct {
	st *store.DB
	// receiptsPath is the local SMTP receipt log.
	receiptsPath string
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
// the file, locked and migrated. On etcd the schema is only checked here
// (a database newer than this binary is refused); the leader migrates it
// at the start of its term, under its fence.
func openBackend(ctx context.Context, cfg *config.Config, o daemonOptions, log *slog.Logger) (*backend, error) {
	st, err := store.Open(cfg.StorePath, &store.Options{NoSync: o.StoreNoSync})
	if err != nil {
		return nil, err
	}
	return &backend{
		st:           st,
		receiptsPath: store.ReceiptsPath(cfg.StorePath),
		fence:        func(kv.Fence) {},
		begin:        func(context.Context) error { return nil },
		close:        st.Close,
	}, nil
}
