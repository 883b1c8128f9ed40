package store

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"rfadesk/bot"
)

func openReceiptsTest(t *testing.T, path string) *Receipts {
	t.Helper()
	r, err := OpenReceipts(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func receiptN(i int) bot.DeliveryReceipt {
	rc := bot.DeliveryReceipt{Item: uint64(i), At: time.Date(2026, 11, 26, 9, 0, i, 0, time.UTC)}
	if i%2 == 0 {
		rc.Result = bot.DeliveryResult{ChatPostID: "post", ChatThreadID: "thread"}
	}
	return rc
}

// appendReceipts appends receiptN(n) for each n, failing t on error.
func appendReceipts(t *testing.T, r *Receipts, ns ...int) {
	t.Helper()
	for _, n := range ns {
		if err := r.Append(receiptN(n)); err != nil {
			t.Fatal(err)
		}
	}
}

func wantReceipts(t *testing.T, got []bot.DeliveryReceipt, items ...int) {
	t.Helper()
	if len(got) != len(items) {
		t.Fatalf("got %d receipts %+v, want items %v", len(got), got, items)
	}
	for i, n := range items {
		want := receiptN(n)
		if got[i].Item != want.Item || !reflect.DeepEqual(got[i].Result, want.Result) || !got[i].At.Equal(want.At) {
			t.Errorf("receipt %d = %+v, want %+v", i, got[i], want)
		}
	}
}

func TestReceiptsAppendAllTruncateReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "desk.db.receipts")
	r := openReceiptsTest(t, path)
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("receipts file: %v, mode %v; want 0600", err, fi.Mode())
	}
	all, err := r.All()
	if err != nil || len(all) != 0 {
		t.Fatalf("new log: %v, %v", all, err)
	}
	appendReceipts(t, r, 1, 2, 3)
	all, err = r.All()
	if err != nil {
		t.Fatal(err)
	}
	wantReceipts(t, all, 1, 2, 3)

	// Reopen: the receipts survive.
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := r.Append(receiptN(9)); err == nil {
		t.Error("Append after Close succeeded")
	}
	r = openReceiptsTest(t, path)
	all, err = r.All()
	if err != nil {
		t.Fatal(err)
	}
	wantReceipts(t, all, 1, 2, 3)

	if err := r.Truncate(); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(path); fi.Size() != 0 {
		t.Errorf("file holds %d bytes after Truncate", fi.Size())
	}
	appendReceipts(t, r, 4)
	all, _ = r.All()
	wantReceipts(t, all, 4)
	r.Close()
	r = openReceiptsTest(t, path)
	all, _ = r.All()
	wantReceipts(t, all, 4)
}

func TestReceiptsTornTailIsIgnoredAndCut(t *testing.T) {
	path := filepath.Join(t.TempDir(), "desk.db.receipts")
	r := openReceiptsTest(t, path)
	appendReceipts(t, r, 1, 2)
	r.Close()
	whole, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// A crash during the third append left part of it.
	r = openReceiptsTest(t, path)
	appendReceipts(t, r, 3)
	r.Close()
	full, _ := os.ReadFile(path)
	for _, cut := range []int{1, 7, 8, 12, len(full) - len(whole) - 1} {
		if err := os.WriteFile(path, full[:len(whole)+cut], 0o600); err != nil {
			t.Fatal(err)
		}
		r = openReceiptsTest(t, path)
		all, err := r.All()
		if err != nil {
			t.Fatal(err)
		}
		wantReceipts(t, all, 1, 2)
		// The torn bytes are gone, so the next receipt follows whole ones.
		appendReceipts(t, r, 4)
		r.Close()
		r = openReceiptsTest(t, path)
		all, _ = r.All()
		wantReceipts(t, all, 1, 2, 4)
		r.Close()
	}
}

func TestReceiptsCorruptRecordEndsTheLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "desk.db.receipts")
	r := openReceiptsTest(t, path)
	appendReceipts(t, r, 1, 2, 3)
	r.Close()
	data, _ := os.ReadFile(path)
	// Flip a byte in the last record's payload: its CRC no longer matches.
	data[len(data)-3] ^= 0xff
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	r = openReceiptsTest(t, path)
	all, err := r.All()
	if err != nil {
		t.Fatal(err)
	}
	wantReceipts(t, all, 1, 2)
}

func TestReceiptsPathIsBesideTheDatabase(t *testing.T) {
	if got := ReceiptsPath("/var/lib/rfadesk/desk.db"); got != "/var/lib/rfadesk/desk.db.receipts" {
		t.Errorf("ReceiptsPath = %q", got)
	}
}

// TestReceiptsRoundTripEveryField appends a receipt with every field of
// bot.DeliveryResult set and reads it back after a reopen (as a replay after a
// crash does): a field the log drops would lose, say, that a recipient
// refused the mail for good.
func TestReceiptsRoundTripEveryField(t *testing.T) {
	want := bot.DeliveryReceipt{
		Item: 7, At: time.Date(2026, 11, 26, 9, 30, 0, 0, time.UTC),
		Result: bot.DeliveryResult{
			ChatPostID: "1001", ChatThreadID: "1002",
			Refused: []string{"gone@school.example", "left@school.example"}, RefusedWhy: "550 5.1.1 no such user",
		},
	}
	rv := reflect.ValueOf(want.Result)
	for i := range rv.NumField() {
		if rv.Field(i).IsZero() {
			t.Fatalf("the test leaves bot.DeliveryResult.%s empty: set it, so the log is shown to keep it", rv.Type().Field(i).Name)
		}
	}
	path := filepath.Join(t.TempDir(), "desk.db.receipts")
	r, err := OpenReceipts(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Append(want); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	all, err := openReceiptsTest(t, path).All()
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 1 || !reflect.DeepEqual(all[0], want) {
		t.Errorf("replayed receipts = %+v\nwant [%+v]", all, want)
	}
}
