package bot

import "context"

// reloadEvent replaces the reloadable part of the desk's configuration
// (Desk.Reload), between two transactions.
type reloadEvent struct {
	cfg   DeskConfig
	reply chan error
}

func (reloadEvent) isEvent() {}

// Reload makes the desk work with cfg's name, organisations, staff, SLA
// policy (calendar, targets, escalation points and on-duty contacts),
// managers, alert recipients, contact details, hours, response target
// and templates from its next event on; the transaction in hand
// finishes under the old ones. The other fields of cfg (address, base
// URL, loop value, chat, rate tiers, limits, outages, releases,
// capacity) take effect at the next start only; the address keeps the
// name it had at the start, as the From of outgoing mail. When the
// policy's fingerprint changed, RunJeopardy rebuilds the escalation
// schedule, as it does at start-up. cfg must be validated (package
// config); a nil SLA or Templates means the defaults, as for NewDesk.
//
// SLA() returns the new policy once Reload has returned; what was built
// from the old one before (an OrgLinks, a component's copy of the
// policy) keeps the old one, so the caller rebuilds it (the daemon's
// liveSettings does).
func (d *Desk) Reload(ctx context.Context, cfg DeskConfig) error {
	reply := make(chan error, 1)
	if err := d.send(ctx, reloadEvent{cfg: cfg, reply: reply}); err != nil {
		return err
	}
	err, werr := await(ctx, d, reply)
	if werr != nil {
		return werr
	}
	return err
}

// applyReload runs on the desk goroutine.
func (d *Desk) applyReload(cfg DeskConfig) error {
	if cfg.Templates == nil {
		cfg.Templates = DefaultTemplates()
	}
	d.cfg.Name = cfg.Name
	d.cfg.Organisations = cfg.Organisations
	d.dir = NewDirectory(cfg.Organisations)
	d.cfg.Staff = cfg.Staff
	d.cfg.Managers, d.cfg.ManagerName = cfg.Managers, cfg.ManagerName
	d.cfg.AlertTo = cfg.AlertTo
	d.cfg.Contact, d.cfg.Hours, d.cfg.ResponseTarget = cfg.Contact, cfg.Hours, cfg.ResponseTarget
	if d.cfg.ResponseTarget == "" {
		d.cfg.ResponseTarget = "72 hours"
	}
	d.cfg.Templates = cfg.Templates
	d.cfg.SLA = cfg.SLA
	changed := d.jeop.setPolicy(cfg.SLA)
	if changed {
		d.jeop.askRearm()
	}
	d.log.Info("configuration reloaded", "organisations", len(cfg.Organisations), "policy_changed", changed, "templates_overridden", cfg.Templates.Overridden())
	return nil
}
