package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"rfadesk/config"
	"rfadesk/store"
	"rfadesk/web"
)

// backupLockWait is how long "rfadesk backup" and "rfadesk restore"
// wait for a store's lock before deciding a daemon holds it.
const backupLockWait = 500 * time.Millisecond

// backupDialTimeout bounds connecting to the daemon's web server.
const backupDialTimeout = 3 * time.Second

// maxBackupReceipts bounds the receipt log a daemon may send.
const maxBackupReceipts = 256 << 20

// cmdBackup writes a consistent copy of the store to OUT: from the
// running daemon's GET /api/backup when one answers at web.listen with
// web.admin_token, otherwise from the store file itself (which no daemon
// may hold meanwhile). OUT and, when receipts were pending, OUT.receipts
// are written atomically with mode 0600 and checked before they replace
// anything.
func cmdBackup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("backup", "backup -config FILE OUT", stderr)
	path := fs.String("config", "", "configuration `file` of the desk to back up")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *path == "" || fs.NArg() != 1 {
		fs.Usage()
		return usageError{"backup: want -config FILE and one OUT file"}
	}
	out := fs.Arg(0)
	cfg, err := config.Load(*path, os.Getenv)
	if err != nil {
		return fmt.Errorf("%w\nbackup: fix the configuration first", err)
	}
	if cfg.Store.Backend == config.BackendEtcd {
		return fmt.Errorf("backup: the desk's store is on etcd: back it up with rfadesk store copy -config %s -to bbolt -path %s (one consistent snapshot; the instances may keep running)", *path, out)
	}
	if sameFile(out, cfg.Store.Path) || sameFile(out, store.ReceiptsPath(cfg.Store.Path)) {
		return fmt.Errorf("backup: %s is the live store (desk.store): write the backup elsewhere", out)
	}
	b, err := newBackupFile(out)
	if err != nil {
		return err
	}
	defer b.discard()

	var from string
	daemonURL := backupURL(cfg.Web.Listen)
	var daemonErr error
	if cfg.Web.AdminToken == "" {
		daemonErr = errors.New("the admin API is off (web.admin_token is empty)")
	} else {
		daemonErr = backupFromDaemon(ctx, daemonURL, cfg.Web.AdminToken, b)
		from = "the running daemon at " + daemonURL
	}
	if daemonErr != nil {
		if err := b.reset(); err != nil {
			return err
		}
		err := backupFromFile(cfg.Store.Path, b)
		if errors.Is(err, store.ErrLocked) {
			return fmt.Errorf("backup: %s is held by a running daemon, and it gave no backup at %s: %v: check web.listen and web.admin_token, or stop the daemon",
				cfg.Store.Path, daemonURL, daemonErr)
		}
		if err != nil {
			return fmt.Errorf("backup: no daemon gave a backup (%v), and copying %s failed: %w", daemonErr, cfg.Store.Path, err)
		}
		from = "the store file " + cfg.Store.Path + " (no daemon answered: " + daemonErr.Error() + ")"
	}
	info, err := b.commit()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "backup: wrote %s from %s: %d RFAs (last RFA %d), schema version %d\n",
		out, from, info.RFAs, info.LastRFANumber, info.SchemaVersion)
	if info.Receipts > 0 {
		fmt.Fprintf(stdout, "backup: %d pending delivery receipts are in %s: keep it with the backup (rfadesk restore copies both)\n",
			info.Receipts, store.ReceiptsPath(out))
	}
	return nil
}

// backupURL is GET /api/backup of a daemon listening on listen; an
// unspecified host (":8080", "0.0.0.0:8080") is reached on loopback.
func backupURL(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return "http://" + listen + "/api/backup"
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
		if ip != nil && ip.To4() == nil {
			host = "::1"
		}
	}
	return "http://" + net.JoinHostPort(host, port) + "/api/backup"
}

// backupFromDaemon streams GET /api/backup into b.
func backupFromDaemon(ctx context.Context, url, token string, b *backupFile) error {
	client := &http.Client{Transport: &http.Transport{
		DialContext:           (&net.Dialer{Timeout: backupDialTimeout}).DialContext,
		ResponseHeaderTimeout: time.Minute,
		Proxy:                 nil, // the daemon is local: never through a proxy
	}}
	defer client.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusUnauthorized:
		return errors.New("the daemon refused web.admin_token (401)")
	case http.StatusNotFound:
		return errors.New("no backup route there (404): an older rfadesk, or not rfadesk")
	default:
		return fmt.Errorf("the daemon answered %s", resp.Status)
	}
	size, err1 := strconv.ParseInt(resp.Header.Get(web.BackupStoreSizeHeader), 10, 64)
	rsize, err2 := strconv.ParseInt(resp.Header.Get(web.BackupReceiptsSizeHeader), 10, 64)
	if err1 != nil || err2 != nil || size <= 0 || rsize < 0 || rsize > maxBackupReceipts {
		return fmt.Errorf("the answer has no valid %s and %s headers: not rfadesk's backup", web.BackupStoreSizeHeader, web.BackupReceiptsSizeHeader)
	}
	if n, err := io.Copy(b.db, io.LimitReader(resp.Body, size)); err != nil || n != size {
		return fmt.Errorf("the store copy ended after %d of %d bytes: %v", n, size, err)
	}
	receipts := make([]byte, rsize)
	if _, err := io.ReadFull(resp.Body, receipts); err != nil {
		return fmt.Errorf("the receipt log copy ended early: %v", err)
	}
	b.receipts = receipts
	return nil
}

// backupFromFile copies the store at path, which no daemon may hold.
func backupFromFile(path string, b *backupFile) error {
	snap, err := store.OpenSnapshot(path, backupLockWait)
	if err != nil {
		return err
	}
	defer snap.Close()
	if _, err := snap.WriteTo(b.db); err != nil {
		return err
	}
	b.receipts = snap.Receipts()
	return nil
}

// backupFile is a backup being written: a temporary database file in
// OUT's directory (mode 0600) and the receipts that go beside it.
type backupFile struct {
	out      string
	db       *os.File
	receipts []byte
	done     bool
}

func newBackupFile(out string) (*backupFile, error) {
	f, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, fmt.Errorf("backup: %w", err)
	}
	return &backupFile{out: out, db: f}, nil
}

// reset empties the temporary file after a failed attempt.
func (b *backupFile) reset() error {
	b.receipts = nil
	if err := b.db.Truncate(0); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if _, err := b.db.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	return nil
}

// commit makes the copy durable, checks that it opens as a store this
// binary reads, and renames it (and its receipt log, or the absence of
// one) into place, then syncs the directory.
func (b *backupFile) commit() (store.BackupInfo, error) {
	tmp := b.db.Name()
	if err := b.db.Sync(); err != nil {
		return store.BackupInfo{}, fmt.Errorf("backup: sync %s: %w", tmp, err)
	}
	if err := b.db.Close(); err != nil {
		return store.BackupInfo{}, fmt.Errorf("backup: close %s: %w", tmp, err)
	}
	if len(b.receipts) > 0 {
		if err := writeFileSync(store.ReceiptsPath(tmp), b.receipts); err != nil {
			return store.BackupInfo{}, fmt.Errorf("backup: %w", err)
		}
	}
	info, err := store.VerifyBackup(tmp, backupLockWait)
	if err != nil {
		return info, fmt.Errorf("backup: the copy does not check out, %s is unchanged: %w", b.out, err)
	}
	// The receipt log first: a crash between the renames leaves the new
	// log beside the old copy, whose replay of it only skips items it
	// lacks, never the other way round.
	if len(b.receipts) > 0 {
		err = os.Rename(store.ReceiptsPath(tmp), store.ReceiptsPath(b.out))
	} else if err = os.Remove(store.ReceiptsPath(b.out)); errors.Is(err, os.ErrNotExist) {
		err = nil
	}
	if err == nil {
		err = os.Rename(tmp, b.out)
	}
	if err != nil {
		return info, fmt.Errorf("backup: %w", err)
	}
	b.done = true
	return info, syncDir(filepath.Dir(b.out))
}

// discard removes the temporary files unless commit put them in place.
func (b *backupFile) discard() {
	if b.done {
		return
	}
	b.db.Close()
	os.Remove(b.db.Name())
	os.Remove(store.ReceiptsPath(b.db.Name()))
}

// writeFileSync creates path (mode 0600; it must not exist) with data
// and syncs it.
func writeFileSync(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// syncDir makes the renames in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

// sameFile reports whether a and b name the same existing file.
func sameFile(a, b string) bool {
	fa, err1 := os.Stat(a)
	fb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(fa, fb)
}
