package bot

import "strings"

// RecordURL is where staff read RFA r in full: the admin API's
// GET /api/rfas/RFA-N, which needs the admin token. It carries no status
// token, so unlike StatusURL it may go where a requester's secret must
// not: the staff chat, which never carries a requester's token.
func (d *Desk) RecordURL(r *RFA) string {
	return strings.TrimRight(d.cfg.BaseURL, "/") + "/api/rfas/" + r.Ref()
}
