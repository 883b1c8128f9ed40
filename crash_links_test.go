package main

import (
	"context"
	"net/http"
	"testing"

	"rfadesk/bot"
	"rfadesk/store"
)

// TestParentClearanceReachesEveryChildOnceAcrossSIGKILL links six RFAs
// to a seventh through the admin API of a daemon running as a child
// process and clears that parent; the daemon is SIGKILLed as the SMTP
// server accepts the third clearance mail (killMidSend). Every requester
// ends with exactly one clearance, every RFA is cleared and linked.
func TestParentClearanceReachesEveryChildOnceAcrossSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("crash tests start child processes")
	}
	const rfas = 7
	cfg := killMidSend{n: rfas, killAt: 3, subject: "] Cleared: ", act: func(t *testing.T, webAddr, token string) {
		for i := 2; i <= rfas; i++ {
			if code := apiAction(t, webAddr, token, i, `{"action": "link", "parent": "RFA-1"}`); code != http.StatusOK {
				t.Fatalf("link RFA-%d: %d", i, code)
			}
		}
		// The daemon may die before it answers: the clearance is
		// committed before any of its mail goes out.
		apiAction(t, webAddr, token, 1, `{"action": "clear", "resolution": "The MIS service is fixed."}`)
	}}.run(t)

	db, err := store.Open(cfg.Store.Path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.View(context.Background(), func(tx bot.Tx) error {
		for i := uint64(1); i <= rfas; i++ {
			r, err := tx.RFA(i)
			if err != nil {
				return err
			}
			if r.Status != bot.StatusCleared || (i > 1 && r.Parent != 1) {
				t.Errorf("%s: %s, parent %d; want cleared", r.Ref(), r.Status, r.Parent)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
