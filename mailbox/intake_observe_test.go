package mailbox

import (
	"maps"
	"sync"
	"testing"

	"rfadesk/bot"
)

// TestIntakeObservesEveryCommittedBatch: Observe hears each batch the
// desk committed, with its size and the desk's outcomes.
func TestIntakeObservesEveryCommittedBatch(t *testing.T) {
	forEachServer(t, []string{}, func(t *testing.T, s *server) {
		s.appendMsg(t, "INBOX", msg("a@x"))
		s.appendMsg(t, "INBOX", badMsg("bad@x"))
		s.appendMsg(t, "INBOX", msg("b@x"))
		var mu sync.Mutex
		fetched, batches := 0, 0
		results := map[bot.IngestResult]int{}
		runIntake(t, s, newRecorder(), nil, func(_ *IMAPConfig, in *Intake) {
			in.opts.Observe = func(n int, outcomes []bot.Outcome) {
				mu.Lock()
				defer mu.Unlock()
				fetched, batches = fetched+n, batches+1
				for _, o := range outcomes {
					results[o.Result]++
				}
			}
		})
		s.waitIDs(t, "Processed", "a@x", "b@x")
		s.waitIDs(t, "Failed", "bad@x")
		mu.Lock()
		defer mu.Unlock()
		want := map[bot.IngestResult]int{bot.ResultCreated: 2, bot.ResultDeadLetter: 1}
		if fetched != 3 || batches != 2 || !maps.Equal(results, want) {
			t.Errorf("observed %d messages in %d batches, results %v; want 3 in 2 (batch size 2), %v", fetched, batches, results, want)
		}
	})
}
