package main

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"rfadesk/bot"
	"rfadesk/store"
)

// The daemon's Prometheus metrics. Events (mail fetched and recorded,
// deliveries, acknowledgement latency) are counted by the callbacks the
// components offer (mailbox.IntakeOptions.Observe,
// bot.DelivererOptions.Observe); state (RFAs by status and severity,
// outbox backlog, SLA points, connections, store size) is read at scrape
// time by stateCollector from indexes and counters the store keeps, so a
// scrape never walks the RFAs.

// purposeAcknowledgement is the OutgoingMail.Purpose of the desk's
// acknowledgement of a new RFA (bot/ack.go).
const purposeAcknowledgement = "acknowledgement"

// slaSoon is how far ahead rfadesk_sla_points_due_soon looks.
const slaSoon = time.Hour

// scrapeTimeout bounds the store read of one scrape.
const scrapeTimeout = 5 * time.Second

// metricsStore is what the metrics read from the store.
type metricsStore interface {
	Gauges(ctx context.Context, now time.Time, within time.Duration) (store.Gauges, error)
	View(ctx context.Context, fn func(bot.Tx) error) error
	// File is the store's bbolt file; false on another backend, where
	// the file-size gauge is left out.
	File() (path string, ok bool)
}

// metrics holds the registry and the event counters fed by callbacks.
// Every method is safe for concurrent use.
type metrics struct {
	registry   *prometheus.Registry
	st         metricsStore
	log        *slog.Logger
	fetched    prometheus.Counter
	ingested   *prometheus.CounterVec // result
	refused    *prometheus.CounterVec // reason
	delivered  *prometheus.CounterVec // kind
	failures   *prometheus.CounterVec // kind, failure
	ackLatency prometheus.Histogram
}

// newMetrics builds the registry: the event counters, the state
// collector over st and connections (component -> up), and the Go and
// process collectors.
func newMetrics(st metricsStore, connections func() map[string]bool, log *slog.Logger) *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		st:       st,
		log:      log,
		fetched: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "rfadesk_mail_fetched_total",
			Help: "Mails fetched from the support mailbox and handed to the desk.",
		}),
		ingested: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rfadesk_mail_ingested_total",
			Help: "Mails recorded on an RFA, by result (created a new RFA, appended to one).",
		}, []string{"result"}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rfadesk_mail_refused_total",
			Help: "Mails recorded on no RFA, by reason (duplicate, dead-letter, bounce, ignored).",
		}, []string{"reason"}),
		delivered: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rfadesk_outbox_delivered_total",
			Help: "Outbox items the far side accepted, by kind (mail, chat).",
		}, []string{"kind"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rfadesk_outbox_failures_total",
			Help: "Failed delivery attempts, by kind and failure (temporary, rate-limited, permanent, auth).",
		}, []string{"kind", "failure"}),
		ackLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "rfadesk_ack_latency_seconds",
			Help:    "From the mail server receiving a new RFA's mail to the mail server accepting its acknowledgement.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 13), // 1 s .. ~68 min
		}),
	}
	for _, r := range []bot.IngestResult{bot.ResultCreated, bot.ResultAppended} {
		m.ingested.WithLabelValues(string(r))
	}
	for _, r := range []bot.IngestResult{bot.ResultDuplicate, bot.ResultDeadLetter, bot.ResultBounce, bot.ResultIgnored} {
		m.refused.WithLabelValues(string(r))
	}
	for _, k := range []bot.OutboxKind{bot.OutboxMail, bot.OutboxChat} {
		m.delivered.WithLabelValues(string(k))
	}
	m.registry.MustRegister(
		m.fetched, m.ingested, m.refused, m.delivered, m.failures, m.ackLatency,
		newStateCollector(st, connections, log),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

// handler serves the registry in the Prometheus text format. A state
// that cannot be read is logged and left out; the rest is served.
func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{
		ErrorLog:      slog.NewLogLogger(m.log.Handler(), slog.LevelWarn),
		ErrorHandling: promhttp.ContinueOnError,
	})
}

// observeIntake counts one committed batch (mailbox.IntakeOptions.Observe).
func (m *metrics) observeIntake(fetched int, outcomes []bot.Outcome) {
	m.fetched.Add(float64(fetched))
	for _, o := range outcomes {
		switch o.Result {
		case bot.ResultCreated, bot.ResultAppended:
			m.ingested.WithLabelValues(string(o.Result)).Inc()
		default:
			m.refused.WithLabelValues(string(o.Result)).Inc()
		}
	}
}

// observeDelivery counts one durable delivery result
// (bot.DelivererOptions.Observe). An accepted acknowledgement also
// observes its latency: now less its RFA's creation, which is the
// Received time of the mail that opened it (one summary read).
func (m *metrics) observeDelivery(item bot.OutboxItem, err error) {
	if err != nil {
		failure := bot.DeliveryTemporary.String()
		var de *bot.DeliveryError
		if errors.As(err, &de) {
			failure = de.Failure.String()
			if de.RetryAfter > 0 {
				failure = "rate-limited"
			}
		}
		m.failures.WithLabelValues(string(item.Kind), failure).Inc()
		return
	}
	m.delivered.WithLabelValues(string(item.Kind)).Inc()
	if item.Kind != bot.OutboxMail || item.Mail == nil || item.Mail.Purpose != purposeAcknowledgement || item.RFA == 0 {
		return
	}
	accepted := time.Now()
	var created time.Time
	verr := m.st.View(context.Background(), func(tx bot.Tx) error {
		s, err := tx.RFASummary(item.RFA)
		if err != nil {
			return err
		}
		created = s.Created
		return nil
	})
	if verr != nil {
		m.log.Warn("metrics: acknowledgement latency not observed", bot.RFAAttr(item.RFA), "err", verr)
		return
	}
	m.ackLatency.Observe(max(accepted.Sub(created), 0).Seconds())
}

// stateCollector reads the desk's state at scrape time: the store's
// counters and indexes (store.DB.Gauges), the store file's size and the
// components' connection state.
type stateCollector struct {
	st          metricsStore
	connections func() map[string]bool
	log         *slog.Logger

	rfas, backlog, due, overdue, breached, fileBytes, connected *prometheus.Desc
}

func newStateCollector(st metricsStore, connections func() map[string]bool, log *slog.Logger) *stateCollector {
	return &stateCollector{
		st: st, connections: connections, log: log,
		rfas: prometheus.NewDesc("rfadesk_rfas",
			"RFAs stored, by status and severity (\"none\" before staff set one).", []string{"status", "severity"}, nil),
		backlog: prometheus.NewDesc("rfadesk_outbox_backlog",
			"Outbox items waiting for delivery, by kind.", []string{"kind"}, nil),
		due: prometheus.NewDesc("rfadesk_sla_points_due_soon",
			"SLA escalation points (jeopardy and breach) due within the next hour.", nil, nil),
		overdue: prometheus.NewDesc("rfadesk_sla_points_overdue",
			"SLA escalation points whose time has passed and that have not fired yet (the scheduler is behind or failing).", nil, nil),
		breached: prometheus.NewDesc("rfadesk_sla_breached_rfas",
			"RFAs not closed whose SLA was breached (a breach escalation point fired in their history).", nil, nil),
		fileBytes: prometheus.NewDesc("rfadesk_store_file_bytes",
			"Size of the store file on disk (absent when the store is not a bbolt file).", nil, nil),
		connected: prometheus.NewDesc("rfadesk_connection_up",
			"1 when the component's connection is healthy (imap, smtp, discord), else 0.", []string{"component"}, nil),
	}
}

func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.rfas, c.backlog, c.due, c.overdue, c.breached, c.fileBytes, c.connected} {
		ch <- d
	}
}

func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	for comp, up := range c.connections() {
		ch <- prometheus.MustNewConstMetric(c.connected, prometheus.GaugeValue, boolValue(up), comp)
	}
	if path, ok := c.st.File(); ok { // no file on another backend: no gauge
		if fi, err := os.Stat(path); err != nil {
			ch <- prometheus.NewInvalidMetric(c.fileBytes, err)
		} else {
			ch <- prometheus.MustNewConstMetric(c.fileBytes, prometheus.GaugeValue, float64(fi.Size()))
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	g, err := c.st.Gauges(ctx, time.Now(), slaSoon)
	if err != nil {
		c.log.Warn("metrics: reading the store", "err", err)
		for _, d := range []*prometheus.Desc{c.rfas, c.backlog, c.due, c.overdue, c.breached} {
			ch <- prometheus.NewInvalidMetric(d, err)
		}
		return
	}
	// Every known status, severity and kind has a series, zero or not,
	// so a dashboard sees a count fall to zero rather than vanish.
	type pair struct{ status, severity string }
	counts := map[pair]uint64{}
	for _, s := range []bot.Status{bot.StatusNew, bot.StatusOpen, bot.StatusAwaitingRequester, bot.StatusCleared, bot.StatusClosed} {
		counts[pair{string(s), "none"}] = 0
		for _, sev := range bot.Severities {
			counts[pair{string(s), string(sev)}] = 0
		}
	}
	for _, rc := range g.RFAs {
		sev := string(rc.Severity)
		if sev == "" {
			sev = "none"
		}
		counts[pair{string(rc.Status), sev}] += rc.N
	}
	for p, n := range counts {
		ch <- prometheus.MustNewConstMetric(c.rfas, prometheus.GaugeValue, float64(n), p.status, p.severity)
	}
	backlog := map[bot.OutboxKind]int{}
	for _, k := range []bot.OutboxKind{bot.OutboxMail, bot.OutboxChat} {
		backlog[k] = 0
	}
	for k, n := range g.Backlog {
		backlog[k] = n
	}
	for k, n := range backlog {
		ch <- prometheus.MustNewConstMetric(c.backlog, prometheus.GaugeValue, float64(n), string(k))
	}
	ch <- prometheus.MustNewConstMetric(c.due, prometheus.GaugeValue, float64(g.EscalationsSoon))
	ch <- prometheus.MustNewConstMetric(c.overdue, prometheus.GaugeValue, float64(g.EscalationsOverdue))
	ch <- prometheus.MustNewConstMetric(c.breached, prometheus.GaugeValue, float64(g.BreachedRFAs))
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
