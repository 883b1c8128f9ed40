package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"rfadesk/bot"
	"rfadesk/store"
)

// scrape serves m's handler once and returns the exposition.
func scrape(t *testing.T, m *metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	b, _ := io.ReadAll(rec.Result().Body)
	if rec.Code != 200 {
		t.Fatalf("/metrics = %d: %s", rec.Code, b)
	}
	return string(b)
}

func TestMetricsCountEventsAndReadState(t *testing.T) {
	st, err := store.Open(filepath.Join(t.TempDir(), "rfadesk.db"), &store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	received := time.Now().Add(-90 * time.Second)
	err = st.Update(context.Background(), func(tx bot.Tx) error {
		for _, r := range []*bot.RFA{
			{Num: 1, Status: bot.StatusNew, Created: received, Token: "a", NextEscalation: time.Now().Add(10 * time.Minute)},
			{Num: 2, Status: bot.StatusOpen, Severity: bot.SeverityCritical, Created: received, Token: "b", NextEscalation: time.Now().Add(-time.Minute),
				Events: []bot.Event{{Kind: bot.EventBreach, Text: "response"}}},
			{Num: 3, Status: bot.StatusOpen, Severity: bot.SeverityCritical, Created: received, Token: "c", NextEscalation: time.Now().Add(2 * time.Hour)},
		} {
			if err := tx.PutRFA(r); err != nil {
				return err
			}
		}
		_, err := tx.Enqueue(&bot.OutboxItem{Kind: bot.OutboxChat, RFA: 1})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	conns := map[string]bool{"imap": true, "smtp": false}
	m := newMetrics(st, func() map[string]bool { return conns }, slog.New(slog.DiscardHandler))

	m.observeIntake(5, []bot.Outcome{{Result: bot.ResultCreated}, {Result: bot.ResultAppended}, {Result: bot.ResultDuplicate}, {Result: bot.ResultDeadLetter}})
	ack := bot.OutboxItem{Kind: bot.OutboxMail, RFA: 1, Mail: &bot.OutgoingMail{Purpose: purposeAcknowledgement}}
	m.observeDelivery(ack, nil)
	m.observeDelivery(bot.OutboxItem{Kind: bot.OutboxMail, RFA: 2, Mail: &bot.OutgoingMail{Purpose: "reply"}}, nil)
	m.observeDelivery(bot.OutboxItem{Kind: bot.OutboxChat, RFA: 1}, nil)
	m.observeDelivery(ack, errors.New("connection reset"))
	m.observeDelivery(ack, &bot.DeliveryError{Failure: bot.DeliveryPermanent})
	m.observeDelivery(ack, &bot.DeliveryError{Failure: bot.DeliveryAuth})
	m.observeDelivery(bot.OutboxItem{Kind: bot.OutboxChat}, &bot.DeliveryError{Failure: bot.DeliveryTemporary, RetryAfter: time.Second})

	body := scrape(t, m)
	for series, want := range map[string]float64{
		`rfadesk_mail_fetched_total`:                                        5,
		`rfadesk_mail_ingested_total{result="created"}`:                     1,
		`rfadesk_mail_ingested_total{result="appended"}`:                    1,
		`rfadesk_mail_refused_total{reason="duplicate"}`:                    1,
		`rfadesk_mail_refused_total{reason="dead-letter"}`:                  1,
		`rfadesk_mail_refused_total{reason="bounce"}`:                       0,
		`rfadesk_outbox_delivered_total{kind="mail"}`:                       2,
		`rfadesk_outbox_delivered_total{kind="chat"}`:                       1,
		`rfadesk_outbox_failures_total{failure="temporary",kind="mail"}`:    1,
		`rfadesk_outbox_failures_total{failure="permanent",kind="mail"}`:    1,
		`rfadesk_outbox_failures_total{failure="auth",kind="mail"}`:         1,
		`rfadesk_outbox_failures_total{failure="rate-limited",kind="chat"}`: 1,
		`rfadesk_ack_latency_seconds_count`:                                 1,
		`rfadesk_ack_latency_seconds_bucket{le="64"}`:                       0,
		`rfadesk_ack_latency_seconds_bucket{le="128"}`:                      1,
		`rfadesk_rfas{severity="none",status="new"}`:                        1,
		`rfadesk_rfas{severity="critical",status="open"}`:                   2,
		`rfadesk_rfas{severity="minor",status="closed"}`:                    0,
		`rfadesk_outbox_backlog{kind="chat"}`:                               1,
		`rfadesk_outbox_backlog{kind="mail"}`:                               0,
		`rfadesk_sla_points_due_soon`:                                       1,
		`rfadesk_sla_points_overdue`:                                        1,
		`rfadesk_sla_breached_rfas`:                                         1,
		`rfadesk_connection_up{component="imap"}`:                           1,
		`rfadesk_connection_up{component="smtp"}`:                           0,
	} {
		if got, ok := metricValue(body, series); !ok || got != want {
			t.Errorf("%s = %v (present %v), want %v", series, got, ok, want)
		}
	}
	if size, _ := metricValue(body, "rfadesk_store_file_bytes"); size <= 0 {
		t.Errorf("rfadesk_store_file_bytes = %v", size)
	}
	if !strings.Contains(body, "go_goroutines") || !strings.Contains(body, "process_") {
		t.Error("no Go runtime or process metrics")
	}
}

func TestHealthStatesListEveryReporter(t *testing.T) {
	h := newHealth()
	imap := h.reporter("imap", "imap: connecting")
	h.reporter("smtp", "")
	if got := h.states(); len(got) != 2 || got["imap"] || !got["smtp"] {
		t.Errorf("states = %v, want imap down, smtp up", got)
	}
	imap(true, "")
	if got := h.states(); !got["imap"] {
		t.Errorf("states after imap reported healthy = %v", got)
	}
}
