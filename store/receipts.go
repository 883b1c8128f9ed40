package store

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"sync"
	"time"

	"rfadesk/bot"
)

// Receipts is the delivery-receipt log (format in schema.go): a file of
// records appended one at a time, each made durable (fdatasync) before
// Append returns. A mail deliverer appends a receipt the moment the mail
// server accepts a mail, and applies the receipts to the database in
// batches; the log is what keeps an accepted mail from being sent again
// after a crash that came before its batch was applied.
//
// A Receipts is safe for concurrent use (its methods are serialised),
// though one deliverer is its only user. It relies on the database's
// file lock: open it only after Open succeeded on the database beside it.
type Receipts struct {
	path string
	mu   sync.Mutex
	f    *os.File
	// size is the end of the last whole record: Append writes there, so
	// whatever a failed write left beyond it is overwritten.
	size int64
}

var _ bot.ReceiptLog = (*Receipts)(nil)

// ReceiptsPath is where the receipt log of the database at dbPath lives.
func ReceiptsPath(dbPath string) string { return dbPath + ".receipts" }

// OpenReceipts opens the receipt log at path, creating it with mode 0600
// if needed. A torn last record (a crash during Append) is cut off, and
// the cut made durable, so later records follow whole ones.
func OpenReceipts(path string) (*Receipts, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("store: open receipts %s: %w", path, err)
	}
	r := &Receipts{path: path, f: f}
	_, end, err := r.read(-1)
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("store: receipts %s: %w", path, err)
	}
	if fi.Size() != end {
		if err := r.cut(end); err != nil {
			_ = f.Close()
			return nil, err
		}
	}
	r.size = end
	return r, nil
}

// Path returns the file path given to OpenReceipts.
func (r *Receipts) Path() string { return r.path }

// receiptRecord is the JSON payload of one record.
type receiptRecord struct {
	Item         uint64 `json:"item"`
	ChatPostID   string `json:"chat_post_id,omitempty"`
	ChatThreadID string `json:"chat_thread_id,omitempty"`
	// Refused and RefusedWhy: recipients the server refused for good.
	Refused    []string  `json:"refused,omitempty"`
	RefusedWhy string    `json:"refused_why,omitempty"`
	At         time.Time `json:"at"`
}

// receiptHeader is the length and CRC-32C that precede each payload.
const receiptHeader = 8

// maxReceipt bounds a payload, so a corrupt length cannot make All
// allocate without limit.
const maxReceipt = 1 << 16

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Append writes rc as one record and syncs the file: when it
// returns nil the receipt survives a crash. On error the record may or
// may not be durable (a replay of it is harmless: applying a receipt
// is idempotent) and the log stays usable.
func (r *Receipts) Append(rc bot.DeliveryReceipt) error {
	payload, err := json.Marshal(receiptRecord{
		Item: rc.Item, ChatPostID: rc.Result.ChatPostID, ChatThreadID: rc.Result.ChatThreadID,
		Refused: rc.Result.Refused, RefusedWhy: rc.Result.RefusedWhy, At: rc.At,
	})
	if err != nil {
		return fmt.Errorf("store: encode receipt: %w", err)
	}
	if len(payload) > maxReceipt {
		return fmt.Errorf("store: receipt of %d bytes is too large", len(payload))
	}
	rec := make([]byte, receiptHeader, receiptHeader+len(payload))
	binary.BigEndian.PutUint32(rec[0:4], uint32(len(payload)))
	binary.BigEndian.PutUint32(rec[4:8], crc32.Checksum(payload, castagnoli))
	rec = append(rec, payload...)

	r.mu.Lock()
	defer r.mu.Unlock()
	if r.f == nil {
		return fmt.Errorf("store: receipts %s: closed", r.path)
	}
	if _, err := r.f.WriteAt(rec, r.size); err != nil {
		return fmt.Errorf("store: append receipt to %s: %w", r.path, err)
	}
	// fsync: an append changes the file's size, which fdatasync would
	// have to flush as well, so the two cost the same here.
	if err := r.f.Sync(); err != nil {
		return fmt.Errorf("store: sync receipts %s: %w", r.path, err)
	}
	r.size += int64(len(rec))
	return nil
}

// All returns every whole record, oldest first. A torn or corrupt
// record ends the log: it and anything after it are ignored.
func (r *Receipts) All() ([]bot.DeliveryReceipt, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.f == nil {
		return nil, fmt.Errorf("store: receipts %s: closed", r.path)
	}
	all, _, err := r.read(r.size)
	return all, err
}

// read decodes the records in the first limit bytes of the file (all of
// it if limit < 0) and returns them with the offset where the whole
// records end.
func (r *Receipts) read(limit int64) ([]bot.DeliveryReceipt, int64, error) {
	if limit < 0 {
		limit = 1 << 62
	}
	data, err := io.ReadAll(io.NewSectionReader(r.f, 0, limit))
	if err != nil {
		return nil, 0, fmt.Errorf("store: read receipts %s: %w", r.path, err)
	}
	var all []bot.DeliveryReceipt
	off := 0
	for len(data)-off >= receiptHeader {
		n := int(binary.BigEndian.Uint32(data[off : off+4]))
		sum := binary.BigEndian.Uint32(data[off+4 : off+8])
		if n > maxReceipt || len(data)-off-receiptHeader < n {
			break
		}
		payload := data[off+receiptHeader : off+receiptHeader+n]
		if crc32.Checksum(payload, castagnoli) != sum {
			break
		}
		var rec receiptRecord
		if err := json.Unmarshal(payload, &rec); err != nil {
			break
		}
		all = append(all, bot.DeliveryReceipt{
			Item: rec.Item, At: rec.At,
			Result: bot.DeliveryResult{
				ChatPostID: rec.ChatPostID, ChatThreadID: rec.ChatThreadID,
				Refused: rec.Refused, RefusedWhy: rec.RefusedWhy,
			},
		})
		off += receiptHeader + n
	}
	return all, int64(off), nil
}

// Truncate empties the log durably (truncate, then fsync). Call it only
// once every receipt in it has been applied to the database.
func (r *Receipts) Truncate() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.f == nil {
		return fmt.Errorf("store: receipts %s: closed", r.path)
	}
	if err := r.cut(0); err != nil {
		return err
	}
	r.size = 0
	return nil
}

// cut truncates the file to size and fsyncs it.
func (r *Receipts) cut(size int64) error {
	if err := r.f.Truncate(size); err != nil {
		return fmt.Errorf("store: truncate receipts %s: %w", r.path, err)
	}
	if err := r.f.Sync(); err != nil {
		return fmt.Errorf("store: sync receipts %s: %w", r.path, err)
	}
	return nil
}

// Close closes the file; the receipts in it stay for the next
// OpenReceipts. Further calls fail.
func (r *Receipts) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.f == nil {
		return errors.New("store: receipts already closed")
	}
	err := r.f.Close()
	r.f = nil
	if err != nil {
		return fmt.Errorf("store: close receipts %s: %w", r.path, err)
	}
	return nil
}
