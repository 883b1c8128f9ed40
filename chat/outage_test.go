package chat_test

import (
	"encoding/json"
	"strings"
	"testing"

	"rfadesk/chat/discordtest"
)

// outageAnswer runs /desk outage <sub> and returns its answer, waiting
// for a deferred one.
func (e *env) outageAnswer(sub string, opts ...discordtest.Option) discordtest.CallbackData {
	e.t.Helper()
	id := e.fake.Slash(channelID, priya, "desk", "outage "+sub, opts...)
	cb := e.callback(id)
	if cb.Type == 5 {
		var d discordtest.CallbackData
		e.wait("the deferred answer", func() bool {
			var ok bool
			d, ok = e.fake.Edited(id)
			return ok
		})
		return d
	}
	return cb.Decode()
}

// TestDeskOutageCommands: /desk outage start emails the school's recent
// requester and posts to the ops channel; update and end follow; a bad
// id is refused. The group is registered as /desk outage.
func TestDeskOutageCommands(t *testing.T) {
	e := newEnv(t)
	e.start()
	str := discordtest.Str

	var cmds []struct {
		Name    string
		Options []struct {
			Name    string
			Type    int
			Options []struct{ Name string }
		}
	}
	e.wait("the commands", func() bool { return len(e.fake.Commands()) > 0 })
	if err := json.Unmarshal(e.fake.Commands(), &cmds); err != nil {
		t.Fatal(err)
	}
	var subs []string
	for _, c := range cmds {
		for _, o := range c.Options {
			if c.Name == "desk" && o.Name == "outage" && o.Type == 2 {
				for _, s := range o.Options {
					subs = append(subs, s.Name)
				}
			}
		}
	}
	if strings.Join(subs, ",") != "start,update,end" {
		t.Errorf("/desk outage subcommands %q", subs)
	}

	e.ingest("o1@oakprimary.sch.uk", "Printer", "It jams.")
	d := e.outageAnswer("start", str("title", "Nobody can log in"), str("components", "Login, SSO"))
	if !strings.Contains(d.Content, "started outage 1") {
		t.Fatalf("start answered %q", d.Content)
	}
	e.wait("the announcement", func() bool { return len(e.mails("Service notice: Nobody can log in")) == 1 })
	e.wait("the ops post", func() bool { return len(e.botMessages(opsID, "Outage 1 started")) == 1 })

	if d := e.outageAnswer("update", str("id", "9"), str("text", "x")); !strings.Contains(d.Content, "no outage 9") {
		t.Errorf("update of an unknown outage answered %q", d.Content)
	}
	if d := e.outageAnswer("update", str("id", "1"), str("text", "Supplier is on it")); !strings.Contains(d.Content, "updated outage 1") {
		t.Errorf("update answered %q", d.Content)
	}
	if d := e.outageAnswer("end", str("id", "1"), str("resolution", "Back up")); !strings.Contains(d.Content, "ended outage 1") {
		t.Errorf("end answered %q", d.Content)
	}
	e.wait("the all-clear", func() bool { return len(e.mails("Resolved: Nobody can log in")) == 1 })
	if n := len(e.mails("Service notice update: Nobody can log in")); n != 1 {
		t.Errorf("%d update mails, want 1", n)
	}
}
