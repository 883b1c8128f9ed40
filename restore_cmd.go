package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"rfadesk/config"
	"rfadesk/store"
)

// cmdRestore puts a backup in place of the store desk.store names. It
// checks that the backup opens with a schema version this binary reads,
// refuses while a daemon holds the store (and holds the store's lock
// itself while it works, so none starts), keeps the store it replaces as
// STORE.replaced-TIME (with its receipt log), and writes the new files
// with mode 0600, owned like the store's directory when run as root.
func cmdRestore(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("restore", "restore -config FILE BACKUP", stderr)
	path := fs.String("config", "", "configuration `file` of the desk to restore")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *path == "" || fs.NArg() != 1 {
		fs.Usage()
		return usageError{"restore: want -config FILE and one BACKUP file"}
	}
	backup := fs.Arg(0)
	cfg, err := config.Load(*path, os.Getenv)
	if err != nil {
		return fmt.Errorf("%w\nrestore: fix the configuration first", err)
	}
	if cfg.Store.Backend == config.BackendEtcd {
		return fmt.Errorf("restore: the desk's store is on etcd: restore a bbolt backup into an empty prefix with rfadesk store copy (README, \"Running two instances\")")
	}
	target := cfg.Store.Path
	if sameFile(backup, target) {
		return fmt.Errorf("restore: %s is the live store (desk.store) itself", backup)
	}
	info, err := store.VerifyBackup(backup, backupLockWait)
	if err != nil {
		return fmt.Errorf("restore: %s cannot be restored: %w", backup, err)
	}

	// Hold the live store's lock (shared) while replacing it: a daemon
	// starting meanwhile waits, then fails, rather than open the old file.
	var kept string
	if _, err := os.Stat(target); err == nil {
		snap, err := store.OpenSnapshot(target, backupLockWait)
		switch {
		case errors.Is(err, store.ErrLocked):
			return fmt.Errorf("restore: %s is held by a running daemon: stop it first (systemctl stop rfadesk)", target)
		case err != nil:
			fmt.Fprintf(stderr, "restore: the current store does not open (%v); replacing it\n", err)
		default:
			defer snap.Close()
		}
		kept = target + ".replaced-" + time.Now().UTC().Format("20060102T150405Z")
	}

	dir := filepath.Dir(target)
	tmp, err := copyInto(dir, backup)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer os.Remove(tmp)
	var tmpReceipts string
	if info.Receipts > 0 {
		if tmpReceipts, err = copyInto(dir, store.ReceiptsPath(backup)); err != nil {
			return fmt.Errorf("restore: %w", err)
		}
		defer os.Remove(tmpReceipts)
	}
	if kept != "" {
		if err := os.Link(target, kept); err != nil {
			return fmt.Errorf("restore: keeping the current store as %s: %w", kept, err)
		}
		if err := os.Rename(store.ReceiptsPath(target), store.ReceiptsPath(kept)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("restore: keeping the current receipt log: %w", err)
		}
	}
	if tmpReceipts != "" {
		err = os.Rename(tmpReceipts, store.ReceiptsPath(target))
	} else if err = os.Remove(store.ReceiptsPath(target)); errors.Is(err, os.ErrNotExist) {
		err = nil // no log belongs beside the backup
	}
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	if err := os.Rename(tmp, target); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	fmt.Fprintf(stdout, "restore: %s now holds %s: %d RFAs (last RFA %d), schema version %d, %d pending receipts\n",
		target, backup, info.RFAs, info.LastRFANumber, info.SchemaVersion, info.Receipts)
	if kept != "" {
		fmt.Fprintf(stdout, "restore: the store it replaced is kept as %s\n", kept)
	}
	fmt.Fprintln(stdout, "restore: start the daemon (systemctl start rfadesk)")
	return nil
}

// copyInto copies src to a new temporary file in dir, synced, with mode
// 0600 and, when run as root, dir's owner and group (the service user of
// a StateDirectory), and returns its name.
func copyInto(dir, src string) (string, error) {
	in, err := os.Open(src)
	if err != nil {
		return "", err
	}
	defer in.Close()
	out, err := os.CreateTemp(dir, ".rfadesk-restore-*")
	if err != nil {
		return "", err
	}
	fail := func(err error) (string, error) {
		out.Close()
		os.Remove(out.Name())
		return "", err
	}
	if _, err := io.Copy(out, in); err != nil {
		return fail(fmt.Errorf("copy %s: %w", src, err))
	}
	if err := out.Chmod(0o600); err != nil {
		return fail(err)
	}
	if os.Geteuid() == 0 {
		if fi, err := os.Stat(dir); err == nil {
			if st, ok := fi.Sys().(*syscall.Stat_t); ok {
				if err := out.Chown(int(st.Uid), int(st.Gid)); err != nil {
					return fail(err)
				}
			}
		}
	}
	if err := out.Sync(); err != nil {
		return fail(err)
	}
	if err := out.Close(); err != nil {
		os.Remove(out.Name())
		return "", err
	}
	return out.Name(), nil
}
