package main

import (
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"rfadesk/config"
	"rfadesk/ha"
	"rfadesk/mailbox/dovecottest"
	"rfadesk/store/kv/etcdtest"
)

const (
	backendBacklogMails = 1_000
	backendLatencyMails = 50
)

// onEtcd returns a config edit that puts the daemon's store on the etcd
// cluster c under prefix, as instance name, with the receipt log in dir.
func onEtcd(c *etcdtest.Cluster, prefix, name, dir string, lease time.Duration) func(*config.Config) {
	return func(cfg *config.Config) {
		cfg.Store.Backend = config.BackendEtcd
		cfg.Store.Etcd = config.Etcd{Endpoints: c.Endpoints(), Prefix: prefix, DialTimeout: 5 * time.Second}
		cfg.Store.Receipts = filepath.Join(dir, "etcd.receipts")
		cfg.HA.Options = ha.Options{Lease: lease, Name: name, Prefix: prefix}
	}
}

// BenchmarkStoreBackends runs the same intake on each store backend in
// one run — a backlog of 1,000 mails already in Dovecot, then mails
// landing one at a time — and prints mail-to-acknowledgement latency and
// the backlog rate on bbolt (fsynced) beside etcd (a 3-member cluster on
// loopback, fsynced), and the time a standby takes to lead after the
// leader resigns (SIGTERM). The takeover after a SIGKILL (the lease runs
// out) needs the leader's process to vanish: the failover tests measure
// it with the real binary, and go test -bench Takeover ./ha/ with the
// elector alone.
func BenchmarkStoreBackends(b *testing.B) {
	cluster := etcdtest.Start(b, nil)
	type result struct {
		rate     float64
		med, p99 time.Duration
	}
	results := map[string]result{}
	for _, backend := range []string{config.BackendBolt, config.BackendEtcd} {
		srv := dovecottest.Start(b, &dovecottest.Options{Mailboxes: []string{"Processed", "Failed"}})
		smtp := startBenchSMTP(b)
		appendBacklog(b, srv, backendBacklogMails)
		dir := b.TempDir()
		var edits []func(*config.Config)
		if backend == config.BackendEtcd {
			edits = append(edits, onEtcd(cluster, fmt.Sprintf("/bench-%d/", time.Now().UnixNano()), "bench", dir, 5*time.Second))
		}
		start := time.Now()
		stop := startBenchDaemon(b, dir, srv, smtp.Addr(), edits...)
		msgs := waitAcks(b, smtp, backendBacklogMails, 10*time.Minute)
		checkOneAckEach(b, msgs, backendBacklogMails)
		rate := float64(backendBacklogMails) / msgs[len(msgs)-1].At.Sub(start).Seconds()
		time.Sleep(time.Second) // the backlog's moves and records settle
		var lat []time.Duration
		for i := backendBacklogMails + 1; i <= backendBacklogMails+backendLatencyMails; i++ {
			lat = append(lat, landAndWait(b, srv, smtp, i))
			time.Sleep(200 * time.Millisecond)
		}
		stop()
		slices.Sort(lat)
		results[backend] = result{rate, lat[len(lat)/2], lat[(len(lat)*99+99)/100-1]}
	}
	graceful := takeoverTime(b, cluster)

	printHeader()
	for _, backend := range []string{config.BackendBolt, config.BackendEtcd} {
		r := results[backend]
		printRow(fmt.Sprintf("%s: backlog of %d mails, start to last ack accepted", backend, backendBacklogMails), fmt.Sprintf("%.0f mails/s", r.rate), "")
		printRow(fmt.Sprintf("%s: latency, mail lands to ack accepted, median of %d", backend, backendLatencyMails), fmt.Sprintf("%.0f ms", float64(r.med.Microseconds())/1000), "<= 600 ms")
		printRow(fmt.Sprintf("%s: latency, p99 of %d", backend, backendLatencyMails), fmt.Sprintf("%.0f ms", float64(r.p99.Microseconds())/1000), "< 1 s")
	}
	printRow("etcd: takeover after the leader resigns (SIGTERM)", fmt.Sprintf("%.0f ms", float64(graceful.Microseconds())/1000), "")
	b.ReportMetric(results[config.BackendEtcd].rate, "etcd-mails/s")
	b.ReportMetric(results[config.BackendBolt].rate, "bbolt-mails/s")
	b.ReportMetric(graceful.Seconds()*1000, "takeover-ms")
}

// takeoverTime starts two instances on the cluster (startEtcdInstance:
// unreachable mail servers, only leadership is measured), stops the
// leader gracefully and times until the other leads.
func takeoverTime(b *testing.B, c *etcdtest.Cluster) time.Duration {
	prefix := fmt.Sprintf("/bench-takeover-%d/", time.Now().UnixNano())
	leads := func(in *etcdInstance) func() bool {
		return func() bool { code, _ := in.get(b, "/healthz/leader"); return code == http.StatusOK }
	}
	first := startEtcdInstance(b, c, prefix, "first", io.Discard)
	waitUntil(b, "the first instance to lead", leads(first))
	second := startEtcdInstance(b, c, prefix, "second", io.Discard)
	time.Sleep(500 * time.Millisecond) // the second campaigns
	t0 := time.Now()
	first.stop()
	waitUntil(b, "the second instance to lead", leads(second))
	return time.Since(t0)
}
