package ha

import (
	"context"
	"fmt"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"rfadesk/store/kv/etcdtest"
)

// BenchmarkTakeover measures how long a standby takes to lead after the
// leader resigns, and after the leader's client vanishes without
// resigning (as when the process is killed), with a 1 s and a 2 s
// lease. It reports ms/takeover; there is no pass or fail.
//
//	go test -run '^$' -bench Takeover -benchtime 5x ./ha/
func BenchmarkTakeover(b *testing.B) {
	cluster := etcdtest.Start(b, nil)
	for _, lease := range []time.Duration{time.Second, 2 * time.Second} {
		b.Run(fmt.Sprintf("Resign/lease=%v", lease), func(b *testing.B) {
			benchTakeover(b, cluster, lease, func(_ *clientv3.Client, term *Term) {
				if err := term.Resign(context.Background()); err != nil {
					b.Fatal(err)
				}
			})
		})
		b.Run(fmt.Sprintf("ClientLoss/lease=%v", lease), func(b *testing.B) {
			benchTakeover(b, cluster, lease, func(cli *clientv3.Client, _ *Term) { cli.Close() })
		})
	}
}

// benchTakeover times, b.N times, from leave(leader's client, term) to
// the standby's Campaign returning.
func benchTakeover(b *testing.B, cluster *etcdtest.Cluster, lease time.Duration, leave func(*clientv3.Client, *Term)) {
	ctx := context.Background()
	var total time.Duration
	for i := range b.N {
		b.StopTimer()
		prefix := fmt.Sprintf("/habench/%s/%d/", b.Name(), i)
		leaderCli, err := clientv3.New(clientv3.Config{Endpoints: cluster.Endpoints(), DialTimeout: 5 * time.Second})
		if err != nil {
			b.Fatal(err)
		}
		standbyCli := cluster.Client(b)
		leader := NewElector(leaderCli, Options{Lease: lease, Name: "leader", Prefix: prefix})
		standby := NewElector(standbyCli, Options{Lease: lease, Name: "standby", Prefix: prefix})
		term, err := leader.Campaign(ctx)
		if err != nil {
			b.Fatal(err)
		}
		won := make(chan campaignResult, 1)
		go func() {
			t, err := standby.Campaign(ctx)
			won <- campaignResult{term: t, err: err, at: time.Now()}
		}()
		for standby.Role() != RoleStandby {
			time.Sleep(5 * time.Millisecond)
		}
		b.StartTimer()
		left := time.Now()
		leave(leaderCli, term)
		r := <-won
		b.StopTimer()
		if r.err != nil {
			b.Fatal(r.err)
		}
		total += r.at.Sub(left)
		r.term.Resign(ctx)
		leaderCli.Close()
	}
	b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms/takeover")
}
