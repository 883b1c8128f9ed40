package etcdtest

import (
	"context"
	"testing"
	"time"
)

// A value written through one member is read through another, and the
// cluster still serves after one member is killed.
func TestClusterReplicatesAndSurvivesAMember(t *testing.T) {
	c := Start(t, nil)
	cli := c.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := cli.Put(ctx, "k", "v1"); err != nil {
		t.Fatal(err)
	}
	c.Kill(0)
	// The killed member may have been the raft leader: the first
	// request after it can time out while the others elect a new one.
	for {
		_, err := cli.Put(ctx, "k", "v2")
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("put with one member down: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	resp, err := cli.Get(ctx, "k")
	if err != nil || len(resp.Kvs) != 1 || string(resp.Kvs[0].Value) != "v2" {
		t.Fatalf("get = %v, %v; want v2", resp, err)
	}
	c.Restart(0)
}
