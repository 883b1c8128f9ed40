package ha

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"rfadesk/demo/faultproxy"
	"rfadesk/store/kv"
	"rfadesk/store/kv/etcdtest"
)

// testLease is short so the tests are quick, and long enough that a
// keepalive slowed down by the race detector on a busy machine does not
// end a term by accident (the deadline is 1.6 s after the last good one).
const testLease = 2 * time.Second

// TestElection runs every election scenario against one real 3-member
// etcd cluster; each subtest has its own key prefix.
func TestElection(t *testing.T) {
	cluster := etcdtest.Start(t, nil)
	t.Run("OneLeadsTheOtherStandsBy", func(t *testing.T) { testOneLeads(t, cluster) })
	t.Run("ClientLossHandsOverAfterTheLease", func(t *testing.T) { testClientLoss(t, cluster) })
	t.Run("PartitionedLeaderStopsBeforeAnotherWins/BlackHole", func(t *testing.T) { testPartition(t, cluster, blackHole) })
	t.Run("PartitionedLeaderStopsBeforeAnotherWins/Refuse", func(t *testing.T) { testPartition(t, cluster, refuse) })
	t.Run("FenceOfEndedTermIsRefused", func(t *testing.T) { testFence(t, cluster) })
	t.Run("CancelledCampaignWithdraws", func(t *testing.T) { testCancelledCampaign(t, cluster) })
	t.Run("KeyDeletedOrWrittenEndsTheTerm", func(t *testing.T) { testKeyTampering(t, cluster) })
	// Last: it takes the cluster down and back up.
	t.Run("QuorumLossEndsTheTerm", func(t *testing.T) { testQuorumLoss(t, cluster) })
}

// Two electors on separate clients: one leads, the other waits as a
// standby that names the leader; Resign hands over at once; the elector
// that resigned can campaign again.
func testOneLeads(t *testing.T, cluster *etcdtest.Cluster) {
	ctx := testContext(t)
	one := newTestElector(t, cluster.Client(t), "one")
	two := newTestElector(t, cluster.Client(t), "two")
	if r := one.Role(); r != RoleUnavailable {
		t.Fatalf("role before campaigning = %q, want unavailable", r)
	}
	term1, err := one.Campaign(ctx)
	if err != nil {
		t.Fatal(err)
	}
	second := campaignAsync(ctx, two)
	waitRole(t, two, RoleStandby)
	if r := one.Role(); r != RoleLeader {
		t.Fatalf("leader's role = %q", r)
	}
	select {
	case r := <-second:
		t.Fatalf("second elector won while the first leads: %+v", r)
	default:
	}
	for _, e := range []*Elector{one, two} {
		if name, err := e.Leader(ctx); err != nil || name != "one" {
			t.Fatalf("%s: Leader() = %q, %v; want one", e.Name(), name, err)
		}
	}
	if _, err := one.Campaign(ctx); !errors.Is(err, ErrBusy) {
		t.Fatalf("Campaign during a term: %v, want ErrBusy", err)
	}

	resigned := time.Now()
	if err := term1.Resign(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-term1.Done():
	default:
		t.Fatal("Done still open after Resign returned")
	}
	if !errors.Is(term1.Err(), ErrResigned) {
		t.Fatalf("term ended with %v, want ErrResigned", term1.Err())
	}
	if r := one.Role(); r != RoleStandby {
		t.Fatalf("role after Resign = %q, want standby", r)
	}
	won := awaitCampaign(t, second)
	t.Logf("takeover after Resign: %v", won.at.Sub(resigned).Round(time.Millisecond))
	if r := two.Role(); r != RoleLeader {
		t.Fatalf("new leader's role = %q", r)
	}
	if name, err := one.Leader(ctx); err != nil || name != "two" {
		t.Fatalf("Leader() after hand-over = %q, %v; want two", name, err)
	}
	if won.term.Fence() == term1.Fence() || won.term.Fence() == (kv.Fence{}) {
		t.Fatalf("fences: old %+v, new %+v", term1.Fence(), won.term.Fence())
	}

	// The old leader campaigns again: standby behind "two", then leads
	// when "two" resigns.
	again := campaignAsync(ctx, one)
	waitRole(t, one, RoleStandby)
	if err := won.term.Resign(ctx); err != nil {
		t.Fatal(err)
	}
	if r := awaitCampaign(t, again); r.term.Fence().Rev <= won.term.Fence().Rev {
		t.Fatalf("third term's fence %+v not after the second's %+v", r.term.Fence(), won.term.Fence())
	}
	if r := one.Role(); r != RoleLeader {
		t.Fatalf("role after leading again = %q", r)
	}
}

// A leader whose client goes away without resigning (as when the
// process is killed) is replaced once its lease expires.
func testClientLoss(t *testing.T, cluster *etcdtest.Cluster) {
	ctx := testContext(t)
	cli1 := cluster.Client(t)
	one := newTestElector(t, cli1, "one")
	two := newTestElector(t, cluster.Client(t), "two")
	term1, err := one.Campaign(ctx)
	if err != nil {
		t.Fatal(err)
	}
	second := campaignAsync(ctx, two)
	waitRole(t, two, RoleStandby)
	ended := endedAt(term1)

	closed := time.Now()
	cli1.Close()
	won := awaitCampaign(t, second)
	stopped := awaitTime(t, ended)
	t.Logf("takeover after the leader's client closed: %v (lease %v); old term ended after %v",
		won.at.Sub(closed).Round(time.Millisecond), testLease, stopped.Sub(closed).Round(time.Millisecond))
	if !stopped.Before(won.at) {
		t.Fatalf("old term ended at %v, not before the new one began at %v", stopped, won.at)
	}
	if !errors.Is(term1.Err(), ErrLeaseLost) {
		t.Fatalf("old term ended with %v, want ErrLeaseLost", term1.Err())
	}
	if r := one.Role(); r != RoleUnavailable {
		t.Fatalf("old leader's role = %q, want unavailable", r)
	}
}

// A leader cut off from every etcd member by partition (each member's
// proxy black-holed or refusing) ends its term before the other
// elector, which still reaches etcd, wins; its fence is refused from
// then on; after the partition heals it becomes a standby and can lead
// again.
func testPartition(t *testing.T, cluster *etcdtest.Cluster, partition func(*faultproxy.Proxy)) {
	ctx := testContext(t)
	var proxies []*faultproxy.Proxy
	var endpoints []string
	for i := range cluster.Endpoints() {
		p, err := faultproxy.New(strings.TrimPrefix(cluster.Endpoint(i), "http://"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { p.Close() })
		proxies = append(proxies, p)
		endpoints = append(endpoints, "http://"+p.Addr())
	}
	cli1, err := clientv3.New(clientv3.Config{Endpoints: endpoints, DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli1.Close() })
	cli2 := cluster.Client(t)
	one := newTestElector(t, cli1, "one")
	two := newTestElector(t, cli2, "two")

	term1, err := one.Campaign(ctx)
	if err != nil {
		t.Fatal(err)
	}
	second := campaignAsync(ctx, two)
	waitRole(t, two, RoleStandby)
	ended := endedAt(term1)

	cut := time.Now()
	for _, p := range proxies {
		partition(p)
	}
	won := awaitCampaign(t, second)
	stopped := awaitTime(t, ended)
	t.Logf("partition: old term ended %v after the cut, new term began %v after it (%v later)",
		stopped.Sub(cut).Round(time.Millisecond), won.at.Sub(cut).Round(time.Millisecond),
		won.at.Sub(stopped).Round(time.Millisecond))
	if !stopped.Before(won.at) {
		t.Fatalf("partitioned leader's term ended at %v, not before the new leader's began at %v", stopped, won.at)
	}
	if !errors.Is(term1.Err(), ErrLeaseLost) {
		t.Fatalf("partitioned term ended with %v, want ErrLeaseLost", term1.Err())
	}
	if r := one.Role(); r != RoleUnavailable {
		t.Fatalf("partitioned elector's role = %q, want unavailable", r)
	}
	if ok := fencedPut(t, cli2, term1.Fence()); ok {
		t.Fatal("a write fenced by the partitioned leader's term was committed")
	}
	if ok := fencedPut(t, cli2, won.term.Fence()); !ok {
		t.Fatal("a write fenced by the new leader's term was refused")
	}

	// Campaigning while cut off: no lease, so unavailable.
	again := campaignAsync(ctx, one)
	if r := one.Role(); r != RoleUnavailable {
		t.Fatalf("role while campaigning cut off = %q, want unavailable", r)
	}
	healed := time.Now()
	for _, p := range proxies {
		p.Heal()
	}
	waitRole(t, one, RoleStandby)
	t.Logf("standby again %v after healing", time.Since(healed).Round(time.Millisecond))
	if name, err := one.Leader(ctx); err != nil || name != "two" {
		t.Fatalf("Leader() after healing = %q, %v; want two", name, err)
	}
	if err := won.term.Resign(ctx); err != nil {
		t.Fatal(err)
	}
	awaitCampaign(t, again)
	if r := one.Role(); r != RoleLeader {
		t.Fatalf("healed elector's role after the other resigned = %q", r)
	}
}

// blackHole makes the path to an etcd member silent: open connections
// stop forwarding (requests hang) and new ones are refused.
func blackHole(p *faultproxy.Proxy) {
	p.RefuseNew()
	p.BlackHole()
}

// refuse makes an etcd member unreachable outright: open connections
// are closed and new ones reset.
func refuse(p *faultproxy.Proxy) {
	p.RefuseNew()
	for _, c := range p.Conns() {
		c.Cut()
	}
}

// A fenced etcd transaction commits during the term and is refused with
// the same fence once the term is over.
func testFence(t *testing.T, cluster *etcdtest.Cluster) {
	ctx := testContext(t)
	cli := cluster.Client(t)
	e := newTestElector(t, cli, "one")
	term, err := e.Campaign(ctx)
	if err != nil {
		t.Fatal(err)
	}
	f := term.Fence()
	if !strings.HasPrefix(f.Key, testPrefix(t)+"leader/") || f.Rev <= 0 {
		t.Fatalf("fence %+v", f)
	}
	if !fencedPut(t, cli, f) {
		t.Fatal("write fenced by the live term was refused")
	}
	if err := term.Resign(ctx); err != nil {
		t.Fatal(err)
	}
	if fencedPut(t, cli, f) {
		t.Fatal("write fenced by a resigned term was committed")
	}
	// A new term of the same elector has a new fence, which works.
	term2, err := e.Campaign(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if term2.Fence() == f || !fencedPut(t, cli, term2.Fence()) {
		t.Fatalf("second term's fence %+v (first %+v) does not allow writes", term2.Fence(), f)
	}
}

// A campaign whose context ends returns the context's error and takes
// its key out of the election; the elector can campaign again.
func testCancelledCampaign(t *testing.T, cluster *etcdtest.Cluster) {
	ctx := testContext(t)
	cli := cluster.Client(t)
	one := newTestElector(t, cli, "one")
	two := newTestElector(t, cluster.Client(t), "two")
	term1, err := one.Campaign(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithCancel(ctx)
	second := campaignAsync(cctx, two)
	waitRole(t, two, RoleStandby)
	if n := electionKeys(t, cli); n != 2 {
		t.Fatalf("%d election keys with two candidates", n)
	}
	cancel()
	if r := <-second; !errors.Is(r.err, context.Canceled) {
		t.Fatalf("cancelled Campaign returned %+v", r)
	}
	waitFor(t, "the cancelled candidate's key to go", func() bool { return electionKeys(t, cli) == 1 })
	if err := term1.Resign(ctx); err != nil {
		t.Fatal(err)
	}
	if name, err := one.Leader(ctx); err != nil || name != "" {
		t.Fatalf("Leader() with no candidates = %q, %v", name, err)
	}
	if _, err := two.Campaign(ctx); err != nil {
		t.Fatal(err)
	}
}

// A term ends when someone else deletes its election key, or writes it
// (which would detach it from the lease and let it outlive the leader);
// the written key is removed so the election goes on.
func testKeyTampering(t *testing.T, cluster *etcdtest.Cluster) {
	ctx := testContext(t)
	admin := cluster.Client(t)
	one := newTestElector(t, cluster.Client(t), "one")
	two := newTestElector(t, cluster.Client(t), "two")
	term1, err := one.Campaign(ctx)
	if err != nil {
		t.Fatal(err)
	}
	second := campaignAsync(ctx, two)
	waitRole(t, two, RoleStandby)

	if _, err := admin.Delete(ctx, term1.Fence().Key); err != nil {
		t.Fatal(err)
	}
	won := awaitCampaign(t, second)
	awaitTime(t, endedAt(term1))
	if !errors.Is(term1.Err(), ErrKeyLost) {
		t.Fatalf("term whose key was deleted ended with %v, want ErrKeyLost", term1.Err())
	}
	if r := one.Role(); r != RoleStandby {
		t.Fatalf("role after the key was deleted = %q, want standby", r)
	}

	third := campaignAsync(ctx, one)
	waitRole(t, one, RoleStandby)
	if _, err := admin.Put(ctx, won.term.Fence().Key, "intruder"); err != nil {
		t.Fatal(err)
	}
	awaitCampaign(t, third)
	awaitTime(t, endedAt(won.term))
	if !errors.Is(won.term.Err(), ErrKeyLost) {
		t.Fatalf("term whose key was written ended with %v, want ErrKeyLost", won.term.Err())
	}
	if name, err := two.Leader(ctx); err != nil || name != "one" {
		t.Fatalf("Leader() = %q, %v; want one", name, err)
	}
}

// When etcd loses its quorum, the leader's term ends (renewals fail);
// Campaign keeps retrying, unavailable, and leads again once etcd is
// back.
func testQuorumLoss(t *testing.T, cluster *etcdtest.Cluster) {
	ctx := testContext(t)
	one := newTestElector(t, cluster.Client(t), "one")
	term, err := one.Campaign(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ended := endedAt(term)
	down := time.Now()
	cluster.Kill(1)
	cluster.Kill(2)
	stopped := awaitTime(t, ended)
	t.Logf("term ended %v after etcd lost its quorum", stopped.Sub(down).Round(time.Millisecond))
	if !errors.Is(term.Err(), ErrLeaseLost) {
		t.Fatalf("term ended with %v, want ErrLeaseLost", term.Err())
	}
	again := campaignAsync(ctx, one)
	if r := one.Role(); r != RoleUnavailable {
		t.Fatalf("role without quorum = %q, want unavailable", r)
	}
	up := time.Now()
	cluster.Restart(1)
	cluster.Restart(2)
	won := awaitCampaign(t, again)
	t.Logf("leading again %v after the members restarted", won.at.Sub(up).Round(time.Millisecond))
	if r := one.Role(); r != RoleLeader {
		t.Fatalf("role after etcd came back = %q", r)
	}
}
