package bot

import (
	"bytes"
	"context"
	"fmt"
	"time"
)

// RateKeyMonthReport is the rate state of the monthly report mail: its
// Told is the first moment of the latest month whose report was mailed,
// written in the transaction that enqueues the mail, so each month's
// report goes out exactly once across restarts.
const RateKeyMonthReport = "report:monthly"

// MonthReportDue returns the month whose report is due at now, and when
// it is due: the previous month, at the opening of this month's first
// working day on cal's calendar.
func (p *SLAPolicy) MonthReportDue(now time.Time) (Month, time.Time) {
	loc := p.Calendar.Location()
	local := now.In(loc)
	this := Month{local.Year(), local.Month()}
	from, _ := this.Bounds(loc)
	prev := Month{from.AddDate(0, -1, 0).Year(), from.AddDate(0, -1, 0).Month()}
	return prev, p.Calendar.NextOpen(from)
}

// MailMonthReport mails month's report to the managers (DeskConfig.
// Managers): the HTML report as the body, the CSV attached. It does
// nothing and returns false when there are no managers or the report of
// month (or a later one) was mailed already; the check and the enqueue
// are one transaction, run on the desk goroutine (the managers, the
// desk's name and the templates are what a reload last set).
func (d *Desk) MailMonthReport(ctx context.Context, month Month) (bool, error) {
	var managers bool
	if err := d.run(ctx, func(context.Context) error { managers = len(d.cfg.Managers) > 0; return nil }); err != nil || !managers {
		return false, err
	}
	rep, err := d.MonthReport(ctx, month)
	if err != nil {
		return false, err
	}
	var html, csv bytes.Buffer
	if err := WriteReport(&html, rep, ReportHTML); err != nil {
		return false, err
	}
	if err := WriteReport(&csv, rep, ReportCSV); err != nil {
		return false, err
	}
	from, _ := month.Bounds(d.SLA().Calendar.Location())
	sent := false
	err = d.run(ctx, func(ctx context.Context) error {
		return d.store.Update(ctx, func(tx Tx) error {
			st, err := tx.RateState(RateKeyMonthReport)
			if err != nil {
				return err
			}
			if !st.Told.IsZero() && !st.Told.Before(from) || len(d.cfg.Managers) == 0 {
				return nil
			}
			v := monthReportView{Desk: d.cfg.Name, Month: month.String(), Logged: rep.All.Logged, Breaches: len(rep.All.Breaches)}
			name := "rfadesk-report-" + month.String() + ".csv"
			if _, err := d.enqueueMail(tx, 0, &OutgoingMail{
				To: d.cfg.Managers, Subject: d.subject("monthly_report", v), Text: d.render("monthly_report.txt.tmpl", v), HTML: html.String(),
				Auto: true, Purpose: "monthly report",
				Attachments: []Attachment{{Name: name, ContentType: "text/csv", Size: int64(csv.Len()), Data: csv.Bytes(), Stored: true}},
			}); err != nil {
				return err
			}
			st.Told, sent = from, true
			return tx.PutRateState(RateKeyMonthReport, st)
		})
	})
	return sent, err
}

// RunMonthlyReports mails each month's report (MailMonthReport) when it
// falls due, at the opening of the next month's first working day, and
// at start-up if that moment has passed and the mail has not gone yet.
// A desk's first report is of the month it first ran in: on a store
// that never mailed one, the month before is recorded as done, not
// mailed. It returns when ctx ends. A failure is logged and retried an
// hour later.
func (d *Desk) RunMonthlyReports(ctx context.Context) error {
	first, _ := d.SLA().MonthReportDue(d.now())
	from, _ := first.Bounds(d.SLA().Calendar.Location())
	managers := false
	err := d.run(ctx, func(ctx context.Context) error {
		if managers = len(d.cfg.Managers) > 0; !managers {
			return nil
		}
		return d.store.Update(ctx, func(tx Tx) error {
			st, err := tx.RateState(RateKeyMonthReport)
			if err != nil || !st.Told.IsZero() {
				return err
			}
			st.Told = from
			return tx.PutRateState(RateKeyMonthReport, st)
		})
	})
	if err == nil && !managers {
		return nil
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("bot: monthly reports: %w", err)
	}
	for {
		now := d.now()
		month, due := d.SLA().MonthReportDue(now)
		wait := due.Sub(now)
		if wait <= 0 {
			if _, err := d.MailMonthReport(ctx, month); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				d.log.Error("bot: monthly report not mailed", "month", month.String(), "err", err)
				wait = time.Hour
			} else {
				// Sleep until the next month's report is due.
				_, next := d.SLA().MonthReportDue(month.Next().firstOfNext(d.SLA()))
				wait = max(next.Sub(now), time.Minute)
			}
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

// firstOfNext is the first moment of the month after m.
func (m Month) firstOfNext(p *SLAPolicy) time.Time {
	_, to := m.Bounds(p.Calendar.Location())
	return to
}
