package mailbox

import (
	"context"
	"testing"

	"rfadesk/demo"
	"rfadesk/mailbox/dovecottest"
)

// A server without QUOTA has no quota to gauge; a wrong password is an
// error, not "no quota".
func TestIMAPQuotaNotOffered(t *testing.T) {
	s := startProbeIMAP(t, &demo.IMAPOptions{})
	cfg := IMAPConfig{Address: s.Addr(), Security: SecurityNone, Username: s.Username(), Password: s.Password()}
	if _, _, ok, err := IMAPQuota(context.Background(), cfg); ok || err != nil {
		t.Errorf("IMAPQuota = ok %v, %v; want no quota and no error", ok, err)
	}
	cfg.Password = "wrong"
	if _, _, _, err := IMAPQuota(context.Background(), cfg); err == nil {
		t.Error("a wrong password gave no error")
	}
}

// Dovecot without its quota plugin does not offer QUOTA either.
func TestIMAPQuotaDovecot(t *testing.T) {
	d := dovecottest.Start(t, nil)
	cfg := IMAPConfig{Address: d.Addr(), Security: SecurityNone, Username: d.User(), Password: d.Password()}
	used, limit, ok, err := IMAPQuota(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if ok && !(limit > 0 && used >= 0) {
		t.Errorf("quota = %d of %d", used, limit)
	}
}
