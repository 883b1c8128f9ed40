package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"rfadesk/mailbox/dovecottest"
)

// failoverOutcome is what verify counted at the end of a failover test.
type failoverOutcome struct {
	leader     string
	acks       int            // acknowledgements accepted, duplicates included
	duplicates int            // acknowledgements beyond the first per request
	sentBy     map[string]int // mails accepted, by sending instance
	cards      int            // Discord cards posted (with failoverOptions.discord)
	dupCards   int            // cards beyond the first per RFA
}

// verify waits until the desk is done with mails 1..n (every request
// acknowledged, the outbox empty, INBOX empty) and checks the end state:
// exactly one instance leads; every mail is exactly one RFA (counted
// through the leader's admin API); every request has an acknowledgement
// accepted by the SMTP server, repeats being re-sends of the same
// Message-ID, at most maxDups of them; every mail is in Processed; and,
// with Discord, every RFA has exactly one card. It logs the counts.
func (r *failoverRig) verify(t *testing.T, n, maxDups int) failoverOutcome {
	t.Helper()
	var out failoverOutcome
	waitWithin(t, 3*time.Minute, fmt.Sprintf("an acknowledgement for each of %d mails", n), func() bool { return r.acknowledged(n) == n })
	time.Sleep(time.Second) // let a duplicate, if any is coming, arrive before counting

	out.leader, _ = r.watch.awaitSoleLeader(t, time.Minute)
	leader := r.desks[out.leader]
	waitWithin(t, time.Minute, "an empty outbox", func() bool { return metricSum(leader.webAddr, "rfadesk_outbox_backlog") == 0 })

	subjects := r.rfaSubjects(t, leader)
	total := 0
	for i := 1; i <= n; i++ {
		subject := fmt.Sprintf("Problem number %d", i)
		if refs := subjects[subject]; len(refs) != 1 {
			t.Errorf("mail %d is %d RFAs (%v), want exactly one", i, len(refs), refs)
		}
	}
	for _, refs := range subjects {
		total += len(refs)
	}
	if total != n {
		t.Errorf("the store holds %d RFAs for %d mails", total, n)
	}

	acks := ackIDsByRequest(r.toRequesters())
	for i := 1; i <= n; i++ {
		ids := acks[crashLoopMessageID(i)]
		out.acks += len(ids)
		if len(ids) > 1 {
			out.duplicates += len(ids) - 1
			if distinct := slices.Compact(slices.Sorted(slices.Values(ids))); len(distinct) != 1 {
				t.Errorf("%s was acknowledged %d times under different Message-IDs %q: recorded twice, not re-sent", crashLoopMessageID(i), len(ids), ids)
			}
		}
	}
	out.sentBy = map[string]int{}
	for name, d := range r.desks {
		out.sentBy[name] = len(d.smtp.Messages())
	}
	if out.duplicates > maxDups {
		t.Errorf("%d duplicate acknowledgements, at most %d allowed", out.duplicates, maxDups)
	}

	var inbox, processed uint32
	srv := mailServer{addr: r.mail.Addr(), user: r.mail.User(), pass: r.mail.Password()}
	waitWithin(t, time.Minute, "INBOX to empty", func() bool {
		inbox, processed = countMailboxes(t, srv)
		return inbox == 0
	})
	if processed != uint32(n) {
		t.Errorf("mailbox: %d in Processed, want %d", processed, n)
	}

	if r.discord != nil {
		cards := discordCards(r)
		for _, refs := range subjects {
			for _, ref := range refs {
				switch c := cards[ref]; {
				case c == 0:
					t.Errorf("%s has no Discord card", ref)
				case c > 1:
					out.dupCards += c - 1
					t.Errorf("%s has %d Discord cards: the post was doubled", ref, c)
				}
				out.cards += cards[ref]
			}
		}
	}
	discord := "no Discord"
	if r.discord != nil {
		discord = fmt.Sprintf("Discord cards %d (%d doubled)", out.cards, out.dupCards)
	}
	t.Logf("end state: %s leads; %d RFAs for %d mails; %d acknowledgements accepted (%d duplicates; sent by a: %d, b: %d mails); Processed %d; %s",
		out.leader, total, n, out.acks, out.duplicates, out.sentBy["a"], out.sentBy["b"], processed, discord)
	return out
}

// rfaSubjects pages through d's GET /api/rfas and returns the RFA
// references by subject.
func (r *failoverRig) rfaSubjects(t *testing.T, d *deskInstance) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	after := ""
	for pages := 0; ; pages++ {
		if pages > 1000 {
			t.Fatal("GET /api/rfas: more than 1000 pages")
		}
		q := url.Values{"limit": {"1000"}}
		if after != "" {
			q.Set("after", after)
		}
		var page struct {
			RFAs []struct {
				Ref, Subject string
			} `json:"rfas"`
			Next string `json:"next"`
		}
		adminGet(t, d.webAddr, "/api/rfas?"+q.Encode(), &page)
		for _, rfa := range page.RFAs {
			out[rfa.Subject] = append(out[rfa.Subject], rfa.Ref)
		}
		if page.Next == "" {
			return out
		}
		after = page.Next
	}
}

// adminGet decodes the JSON answer to GET path on addr with the admin
// token into v; anything but a 200 fails the test.
func adminGet(t *testing.T, addr, path string, v any) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), "GET", "http://"+addr+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+failoverToken)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, res.StatusCode, b)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("GET %s: %v in %.200s", path, err, b)
	}
}

// metricSum reads GET /metrics on addr with the admin token and sums
// every sample of the metric name; -1 when it cannot be read.
func metricSum(addr, name string) float64 {
	req, err := http.NewRequest("GET", "http://"+addr+"/metrics", nil)
	if err != nil {
		return -1
	}
	req.Header.Set("Authorization", "Bearer "+failoverToken)
	client := http.Client{Timeout: 5 * time.Second}
	res, err := client.Do(req)
	if err != nil {
		return -1
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != http.StatusOK {
		return -1
	}
	var total float64
	found := false
	for _, line := range strings.Split(string(body), "\n") {
		rest, ok := strings.CutPrefix(line, name)
		if !ok || (!strings.HasPrefix(rest, "{") && !strings.HasPrefix(rest, " ")) {
			continue
		}
		f := strings.Fields(line)
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err != nil {
			return -1
		}
		total += v
		found = true
	}
	if !found && name == "rfadesk_outbox_backlog" {
		return 0 // no item of any kind waits
	}
	return total
}

// cardTitle is how a card's embed title begins: "RFA-12 · ".
var cardTitle = regexp.MustCompile(`^(RFA-\d+) · `)

// discordCards counts the RFA cards the bot posted in the desk channel,
// by RFA reference.
func discordCards(r *failoverRig) map[string]int {
	cards := map[string]int{}
	for _, m := range r.discord.Messages("200") {
		if !m.Bot || m.Body == nil {
			continue
		}
		var body struct {
			Embeds []struct {
				Title string `json:"title"`
			} `json:"embeds"`
		}
		if json.Unmarshal(m.Body, &body) != nil {
			continue
		}
		for _, e := range body.Embeds {
			if sm := cardTitle.FindStringSubmatch(e.Title); sm != nil {
				cards[sm[1]]++
				break
			}
		}
	}
	return cards
}

// appendMails appends schoolMail(from..to) to srv's INBOX.
func appendMails(t *testing.T, srv *dovecottest.Server, from, to int) {
	t.Helper()
	c := srv.Dial(t)
	defer c.Close()
	if err := appendRange(c, from, to); err != nil {
		t.Fatal(err)
	}
}

// checkStandbyWeb checks what a standby's web server does: it answers
// reads from the store (the admin API's view of RFA-1) and refuses a
// state-changing request with 503 and a Retry-After header. The request
// refused carries an empty action, so a standby that failed to refuse it
// would answer 400 and change nothing.
func checkStandbyWeb(t *testing.T, d *deskInstance) {
	t.Helper()
	var one struct {
		Ref string `json:"ref"`
	}
	adminGet(t, d.webAddr, "/api/rfas/RFA-1", &one)
	if one.Ref != "RFA-1" {
		t.Errorf("standby %s: GET /api/rfas/RFA-1 gave ref %q", d.name, one.Ref)
	}
	req, err := http.NewRequestWithContext(t.Context(), "POST", "http://"+d.webAddr+"/api/rfas/RFA-1/actions", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+failoverToken)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("standby %s: POST an action: %v", d.name, err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") == "" {
		t.Errorf("standby %s: POST an action: %d, Retry-After %q (%.100s); want 503 with Retry-After",
			d.name, res.StatusCode, res.Header.Get("Retry-After"), b)
	}
}

// rfadeskDowntime reads the instance's GET /api/availability: rfadesk's
// own downtime this month, or -1 when it cannot be read.
func rfadeskDowntime(addr string) time.Duration {
	req, err := http.NewRequest("GET", "http://"+addr+"/api/availability", nil)
	if err != nil {
		return -1
	}
	req.Header.Set("Authorization", "Bearer "+failoverToken)
	client := http.Client{Timeout: 5 * time.Second}
	res, err := client.Do(req)
	if err != nil {
		return -1
	}
	defer res.Body.Close()
	var av struct {
		Rfadesk struct {
			Down time.Duration `json:"down"`
		} `json:"rfadesk"`
	}
	if res.StatusCode != http.StatusOK || json.NewDecoder(res.Body).Decode(&av) != nil {
		return -1
	}
	return av.Rfadesk.Down
}
