package mailbox

import (
	"context"
	"fmt"
	"time"

	"github.com/emersion/go-imap/v2"

	"rfadesk/bot"
)

// IMAPQuota connects and logs in as intake does (a connection of its
// own, each step bounded by ProbeTimeout and ctx) and returns the
// STORAGE usage and limit, in bytes, of cfg.Mailbox's quota root. ok is
// false, with a nil error, when the server does not offer QUOTA or sets
// no storage limit on that mailbox. It changes nothing on the server.
func IMAPQuota(ctx context.Context, cfg IMAPConfig) (used, limit int64, ok bool, err error) {
	in, err := NewIntake(cfg, probeIngester{}, IntakeOptions{
		Parse:     func([]byte) (*bot.Mail, error) { return nil, errProbeOnly },
		DedupeKey: DedupeKey,
	})
	if err != nil {
		return 0, 0, false, err
	}
	cfg = in.cfg // defaults applied
	in.cmdTimeout = ProbeTimeout
	c, err := in.dial(ctx, nil)
	if err != nil {
		return 0, 0, false, err
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	timer := time.AfterFunc(ProbeTimeout, func() { c.Close() })
	defer timer.Stop()
	if !c.Caps().Has(imap.CapQuota) {
		_ = c.Logout().Wait()
		return 0, 0, false, nil
	}
	roots, err := c.GetQuotaRoot(cfg.Mailbox).Wait()
	if err != nil {
		return 0, 0, false, fmt.Errorf("mailbox: imap GETQUOTAROOT %q: %w", cfg.Mailbox, err)
	}
	for _, q := range roots {
		if r, found := q.Resources[imap.QuotaResourceStorage]; found && r.Limit > 0 {
			// STORAGE is counted in units of 1024 octets (RFC 9208).
			used, limit, ok = r.Usage*1024, r.Limit*1024, true
			break
		}
	}
	_ = c.Logout().Wait()
	return used, limit, ok, nil
}
