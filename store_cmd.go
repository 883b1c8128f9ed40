package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"rfadesk/config"
	"rfadesk/store"
	"rfadesk/store/kv"
)

// cmdStore dispatches "rfadesk store SUBCOMMAND".
func cmdStore(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "copy" {
		fmt.Fprint(stderr, "usage: rfadesk store copy -config FILE -to etcd|bbolt [-path FILE]\n")
		if len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "help") {
			return nil
		}
		return usageError{"store: want the subcommand copy"}
	}
	return cmdStoreCopy(ctx, args[1:], stdout, stderr)
}

// cmdStoreCopy copies the desk's store to the other backend and verifies
// the copy (kv.Copy): the source is the store the configuration names
// (store.backend), the target the etcd cluster of [store] (-to etcd) or a
// new bbolt file (-to bbolt -path FILE). It refuses a target that holds
// anything, a bbolt source a daemon holds (it keeps the source's lock
// until done, so none starts), and a source with receipts not yet
// applied. An etcd source is read from one revision while its instances
// may go on (an online backup), and the target verified against that
// snapshot; it is not written, so it must be at this binary's schema (a
// running leader migrates it). A bbolt source is migrated to this
// binary's schema first, as a daemon would. The target is opened as a
// store once copied, to prove it is one.
func cmdStoreCopy(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("store copy", "store copy -config FILE -to etcd|bbolt [-path FILE]", stderr)
	cfgPath := fs.String("config", "", "configuration `file` of the desk whose store is copied")
	to := fs.String("to", "", "the target backend: etcd (the cluster of [store]) or bbolt (a new file, -path)")
	path := fs.String("path", "", "with -to bbolt: the new bbolt `file`")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *cfgPath == "" || fs.NArg() != 0 {
		fs.Usage()
		return usageError{"store copy: want -config FILE and -to etcd|bbolt"}
	}
	cfg, err := config.Load(*cfgPath, os.Getenv)
	if err != nil {
		return fmt.Errorf("%w\nstore copy: fix the configuration first", err)
	}
	switch {
	case *to != config.BackendEtcd && *to != config.BackendBolt:
		return usageError{fmt.Sprintf("store copy: -to %q: use etcd or bbolt", *to)}
	case *to == cfg.Store.Backend:
		return usageError{fmt.Sprintf("store copy: the desk's store is already %s (store.backend in %s): -to names the other backend (to copy a bbolt file, use rfadesk backup)", *to, *cfgPath)}
	case *to == config.BackendBolt && *path == "":
		return usageError{"store copy: -to bbolt needs -path FILE, the new bbolt file"}
	case *to == config.BackendEtcd && *path != "":
		return usageError{"store copy: -path is for -to bbolt; -to etcd copies to the cluster of [store] endpoints"}
	case *to == config.BackendEtcd && !cfg.Store.Etcd.Configured():
		return fmt.Errorf("store copy: %s names no etcd cluster: set store.endpoints (and its TLS and login) to the cluster to copy to", *cfgPath)
	}

	if *to == config.BackendBolt {
		for _, p := range []string{*path, store.ReceiptsPath(*path)} {
			if _, err := os.Lstat(p); !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("store copy: %s exists: -path names a new file", p)
			}
		}
	}
	if cfg.Store.Backend == config.BackendBolt {
		if _, err := os.Stat(cfg.Store.Path); err != nil {
			return fmt.Errorf("store copy: the store file: %w", err)
		}
	}

	// Local refusals come before the network: a bbolt source is opened
	// (and locked) before etcd is dialled.
	var src *store.DB
	if cfg.Store.Backend == config.BackendBolt {
		if src, err = openBoltSource(cfg); err != nil {
			return err
		}
		defer src.Close()
	}
	etcdCli, err := newEtcdClient(ctx, cfg.Store.Etcd) // store_backend.go
	if err != nil {
		return fmt.Errorf("store copy: %w", err)
	}
	defer etcdCli.Close()
	etcdKV := func() *kv.Etcd {
		return kv.NewEtcd(etcdCli, &kv.EtcdOptions{Prefix: cfg.Store.Etcd.Prefix})
	}
	live := false
	if cfg.Store.Backend == config.BackendEtcd {
		// The instances may keep running: the copy reads one etcd
		// revision and verifies the target against that snapshot
		// (kv.CopyOptions.Live), and nothing is written to the source.
		live = true
		fmt.Fprintf(stderr, "store copy: reading one etcd revision (a snapshot); the instances may keep running\n")
		if src, err = store.Attach(ctx, etcdKV(), cfg.Store.String()); err != nil {
			return fmt.Errorf("store copy: %w", err)
		}
		defer src.Close()
	}

	var dst kv.DB
	var reopen func() (*store.DB, error)
	var target string
	if *to == config.BackendBolt {
		target = "bbolt file " + *path
		bdb, err := bolt.Open(*path, 0o600, &bolt.Options{Timeout: -1})
		if err != nil {
			return fmt.Errorf("store copy: %w", err)
		}
		dst = kv.NewBolt(bdb)
		reopen = func() (*store.DB, error) { return store.Open(*path, &store.Options{Timeout: -1}) }
	} else {
		target = fmt.Sprintf("etcd %v prefix %s", cfg.Store.Etcd.Endpoints, cfg.Store.Etcd.Prefix)
		dst = etcdKV()
		reopen = func() (*store.DB, error) { return store.OpenOn(ctx, etcdKV(), target) }
	}
	fmt.Fprintf(stderr, "store copy: %s -> %s\n", cfg.Store, target)

	step := 0
	rep, err := kv.Copy(ctx, dst, src.KV(), &kv.CopyOptions{Live: live, Progress: func(keys int, _ int64) {
		if keys/50000 > step {
			step = keys / 50000
			fmt.Fprintf(stderr, "store copy: %d keys written\n", keys)
		}
	}})
	if cerr := dst.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("closing the target: %w", cerr)
	}
	if err == nil {
		var copied *store.DB
		if copied, err = reopen(); err != nil {
			err = fmt.Errorf("the copy verified but does not open as a store: %w", err)
		} else {
			err = copied.Close()
		}
	}
	if err != nil {
		if rep.Source.Digest != "" {
			printCopyReport(stdout, rep, target)
		}
		if *to == config.BackendBolt {
			if rerr := os.Remove(*path); rerr == nil {
				return fmt.Errorf("store copy: %w (%s removed)", err, *path)
			}
			return fmt.Errorf("store copy: %w", err)
		}
		if rep.Batches == 0 {
			return fmt.Errorf("store copy: %w", err)
		}
		return fmt.Errorf("store copy: %w (to remove what was written: etcdctl del --prefix %q, with every instance stopped)", err, cfg.Store.Etcd.Prefix)
	}
	printCopyReport(stdout, rep, target)
	if *to == config.BackendEtcd {
		fmt.Fprintf(stdout, "store copy: to run the desk on etcd, set store.backend = \"etcd\" in %s, then start the instances\n", *cfgPath)
	} else {
		fmt.Fprintf(stdout, "store copy: to run the desk on the file, set store.backend = \"bbolt\" and store.path (or desk.store) = %q in %s\n", *path, *cfgPath)
	}
	return nil
}

// openBoltSource opens the bbolt store cfg names, migrated to this
// binary's schema and held under its lock: refused while a daemon holds
// it, or while its receipt log holds deliveries the store lacks.
func openBoltSource(cfg *config.Config) (*store.DB, error) {
	db, err := store.Open(cfg.Store.Path, &store.Options{Timeout: backupLockWait})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("store copy: %s is held by a running daemon: stop it first (systemctl stop rfadesk)", cfg.Store.Path)
	}
	if err != nil {
		return nil, fmt.Errorf("store copy: %w", err)
	}
	if err := noPendingReceipts(cfg.Store.Receipts); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// noPendingReceipts refuses a receipt log holding receipts: mail the
// SMTP server accepted that the store does not record yet, which the
// copy would leave behind.
func noPendingReceipts(path string) error {
	if path == "" {
		return nil
	}
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	r, err := store.OpenReceipts(path)
	if err != nil {
		return fmt.Errorf("store copy: %w", err)
	}
	defer r.Close()
	recs, err := r.All()
	if err != nil {
		return fmt.Errorf("store copy: %w", err)
	}
	if len(recs) > 0 {
		return fmt.Errorf("store copy: the receipt log %s holds %d deliveries not yet recorded in the store: start the daemon once (it applies them at start) and stop it, then copy", path, len(recs))
	}
	return nil
}

// printCopyReport writes the per-bucket counts and both digests.
func printCopyReport(w io.Writer, rep kv.CopyReport, target string) {
	verdict := "verified"
	if rep.Source.Digest != rep.Target.Digest || rep.Source.Keys != rep.Target.Keys {
		verdict = "NOT VERIFIED: source and target differ"
	}
	fmt.Fprintf(w, "store copy: %d keys (%d bytes) in %d buckets copied to %s in %d batches: %s\n",
		rep.Source.Keys, rep.Source.Bytes, len(rep.Source.Buckets), target, rep.Batches, verdict)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "bucket\tkeys\tsequence\t")
	for _, b := range rep.Source.Buckets {
		fmt.Fprintf(tw, "%s\t%d\t%d\t\n", b.Name, b.Keys, b.Sequence)
	}
	tw.Flush()
	fmt.Fprintf(w, "source digest %s\ntarget digest %s\n", rep.Source.Digest, rep.Target.Digest)
}
