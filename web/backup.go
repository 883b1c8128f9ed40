package web

import (
	"io"
	"net/http"
	"strconv"
	"time"
)

// BackupSnapshot is a consistent view of the store being copied out
// (store.Snapshot): the database file and the receipt log's pending
// records, taken at one instant.
type BackupSnapshot interface {
	// Size is how many bytes WriteTo writes.
	Size() int64
	// WriteTo writes the database file as of the snapshot.
	WriteTo(w io.Writer) (int64, error)
	// Receipts is the receipt log's whole records as of the snapshot.
	Receipts() []byte
	// Close ends the snapshot.
	Close() error
}

// Headers of GET /api/backup that say how the body splits: the first
// BackupStoreSizeHeader bytes are the database file, the
// BackupReceiptsSizeHeader bytes after them the receipt log (written
// beside the copy, at store.ReceiptsPath).
const (
	BackupStoreSizeHeader    = "Rfadesk-Store-Size"
	BackupReceiptsSizeHeader = "Rfadesk-Receipts-Size"
)

// backupWriteTimeout bounds writing one backup. The snapshot holds a read
// transaction until the copy is written, and a store write that must grow
// the file waits for it, so a stalled client must not hold it for long.
const backupWriteTimeout = 5 * time.Minute

// apiBackup answers GET /api/backup (admin): the database as of one
// read transaction, followed by the receipt log's pending records, as
// application/octet-stream, never cached. With an empty receipt log the
// body is exactly a bbolt file.
func (h *handler) apiBackup(w http.ResponseWriter, r *http.Request) {
	snap, err := h.backup()
	if err != nil {
		h.log.Error("web: backup snapshot", "err", err)
		writeJSON(w, http.StatusInternalServerError, apiError{Error: "internal error"})
		return
	}
	defer snap.Close()
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(backupWriteTimeout))
	size, receipts := snap.Size(), snap.Receipts()
	hd := w.Header()
	hd.Set("Content-Type", "application/octet-stream")
	hd.Set("Cache-Control", "no-store")
	hd.Set("Content-Disposition", `attachment; filename="rfadesk-`+h.now().UTC().Format("20060102-150405")+`.db"`)
	hd.Set("Content-Length", strconv.FormatInt(size+int64(len(receipts)), 10))
	hd.Set(BackupStoreSizeHeader, strconv.FormatInt(size, 10))
	hd.Set(BackupReceiptsSizeHeader, strconv.Itoa(len(receipts)))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	start := time.Now()
	if _, err := snap.WriteTo(w); err != nil {
		// The status is sent: the client sees a short body.
		h.log.Warn("web: backup not written out", "err", err)
		return
	}
	if _, err := w.Write(receipts); err != nil {
		h.log.Warn("web: backup receipts not written out", "err", err)
		return
	}
	h.log.Info("web: backup written", "bytes", size, "receipt_bytes", len(receipts), "took", time.Since(start))
}
