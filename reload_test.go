package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"rfadesk/bot"
	"rfadesk/chat/discordtest"
	"rfadesk/config"
	"rfadesk/store"
)

const reloadAdminToken = "reload-test-admin-token"

// reloadFixture is a daemon with chat on a fake Discord, its mail
// servers unreachable, and a configuration file a test rewrites and
// reloads.
type reloadFixture struct {
	t        *testing.T
	path     string
	base     string // the file as first written, without [calendar] closures
	fake     *discordtest.Server
	web      string // the web side's address
	logs     *syncBuffer
	reload   chan struct{}
	holidays string // closures = [...] for the fortnight from today
	// closedUntil is the start of the first day after those closures,
	// in the desk's zone.
	closedUntil time.Time
}

// discordTOML is a [discord] section for the fake.
func discordTOML(fake *discordtest.Server) string {
	return fmt.Sprintf("[discord]\ntoken = \"reload-test-token\"\nguild_id = \"100\"\nchannel_id = \"200\"\nstaff_role_id = \"700\"\nops_channel_id = \"300\"\napi_base = %q\n", fake.APIBase())
}

// writeChatConfig writes a loopback configuration (mail servers
// unreachable) with chat on fake, deskKeys added to [desk] and extra
// appended, and returns its path.
func writeChatConfig(t *testing.T, fake *discordtest.Server, deskKeys, extra string) string {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "rfadesk.toml")
	writeLoopbackConfig(t, path, filepath.Join(dir, "rfadesk.db"), "127.0.0.1:1", "support@example.org", "pw", "127.0.0.1:1")
	body, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Replace(string(body), "[desk]\n", "[desk]\n"+deskKeys+"\n", 1)
	s += discordTOML(fake) + extra
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func startReloadFixture(t *testing.T) *reloadFixture {
	t.Helper()
	f := &reloadFixture{t: t, fake: discordtest.New(&discordtest.Options{GuildID: "100"}), logs: &syncBuffer{}, reload: make(chan struct{})}
	t.Cleanup(f.fake.Close)
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Skip("no Europe/London zone:", err)
	}
	today := time.Now().In(london)
	var days []string
	for i := range 14 {
		days = append(days, strconv.Quote(today.AddDate(0, 0, i).Format(time.DateOnly)))
	}
	f.holidays = "closures = [" + strings.Join(days, ", ") + "]\n"
	f.closedUntil = time.Date(today.Year(), today.Month(), today.Day()+14, 0, 0, 0, 0, london)

	f.path = writeChatConfig(t, f.fake, `phone = "01603 111111"`,
		"[outages]\ndependency_grace = \"1h\"\n[calendar]\ntimezone = \"Europe/London\"\n")
	body, err := os.ReadFile(f.path)
	if err != nil {
		t.Fatal(err)
	}
	f.base = strings.Replace(string(body), "[web]\n", "[web]\nadmin_token = \""+reloadAdminToken+"\"\n", 1)
	f.write(f.base)
	cfg, err := config.Load(f.path, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f.web = ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	// The log goes to a buffer shown if the test fails, not to
	// t.Output(): discordgo's gateway goroutine may log its disconnect
	// after runDaemon returned.
	t.Cleanup(func() {
		if t.Failed() {
			t.Log("daemon log:\n" + f.logs.String())
		}
	})
	go func() {
		done <- runDaemon(ctx, cfg, daemonOptions{
			Logger:   newLogger(f.logs, slog.LevelInfo),
			Listener: ln, StoreNoSync: true, Reload: f.reload, ConfigPath: f.path,
		})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("daemon: %v", err)
		}
	})
	return f
}

func (f *reloadFixture) write(body string) {
	f.t.Helper()
	if err := os.WriteFile(f.path, []byte(body), 0o600); err != nil {
		f.t.Fatal(err)
	}
}

// reloadAndWait sends one reload and waits for a new logLine.
func (f *reloadFixture) reloadAndWait(logLine string) {
	f.t.Helper()
	before := strings.Count(f.logs.String(), logLine)
	f.reload <- struct{}{}
	waitUntil(f.t, "a "+strconv.Quote(logLine)+" log line", func() bool { return strings.Count(f.logs.String(), logLine) > before })
}

// get answers GET path with the admin token and Accept: application/json.
func (f *reloadFixture) get(path string, v any) int {
	f.t.Helper()
	req, err := http.NewRequestWithContext(f.t.Context(), "GET", "http://"+f.web+path, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+reloadAdminToken)
	req.Header.Set("Accept", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer res.Body.Close()
	if v != nil && res.StatusCode == http.StatusOK {
		if err := json.NewDecoder(res.Body).Decode(v); err != nil {
			f.t.Fatalf("GET %s: %v", path, err)
		}
	}
	return res.StatusCode
}

// board is GET /status as JSON.
func (f *reloadFixture) board() (phone string, open bool, nextOpen time.Time) {
	f.t.Helper()
	var b struct {
		Open     bool   `json:"open"`
		NextOpen string `json:"next_open"`
		Phone    string `json:"phone"`
	}
	if code := f.get("/status", &b); code != http.StatusOK {
		f.t.Fatalf("GET /status: %d", code)
	}
	next, _ := time.Parse(time.RFC3339, b.NextOpen)
	return b.Phone, b.Open, next
}

// triageDue is RFA num's triage due as the admin API shows it.
func (f *reloadFixture) triageDue(num int) time.Time {
	f.t.Helper()
	var r struct {
		Clocks map[string]struct {
			Due string `json:"due"`
		} `json:"clocks"`
	}
	if code := f.get(fmt.Sprintf("/api/rfas/RFA-%d", num), &r); code != http.StatusOK {
		f.t.Fatalf("GET RFA-%d: %d", num, code)
	}
	due, err := time.Parse(time.RFC3339, r.Clocks[string(bot.ClockTriage)].Due)
	if err != nil {
		f.t.Fatalf("RFA-%d's triage due: %v (clocks %+v)", num, err, r.Clocks)
	}
	return due
}

// logCall logs RFA num by telephone and waits for its card on the fake.
func (f *reloadFixture) logCall(num int) string {
	f.t.Helper()
	body := fmt.Sprintf(`{"name": "Ann Head", "email": "ann@oakprimary.sch.uk", "subject": "Call %d", "description": "The hall projector shows nothing."}`, num)
	if code := apiPost(f.t, f.web, reloadAdminToken, "/api/rfas", body); code != http.StatusCreated {
		f.t.Fatalf("logging call %d: %d", num, code)
	}
	var card string
	ref := fmt.Sprintf("RFA-%d ", num)
	waitUntil(f.t, "the card of "+ref, func() bool {
		for _, m := range f.fake.Messages("200") {
			if strings.Contains(string(m.Body), ref) {
				card = string(m.Body)
				return true
			}
		}
		return false
	})
	return card
}

// discordTime is how a card shows t.
// (JSON escapes the angle brackets around it).
func discordTime(t time.Time) string { return "t:" + strconv.FormatInt(t.Unix(), 10) + ":f" }

// SIGHUP with a new phone number, a fortnight of closures, a new school
// and a shorter dependency grace: the status board shows the new phone
// and stays closed through the fortnight, the web's clocks and the chat
// cards use the new calendar, an organisation link may name the new
// school, and the mailbox (unreachable all along) is reported to the
// ops channel once the new grace has passed. A file that does not
// validate then changes nothing, and a restart-only change is logged as
// such.
func TestReloadReachesWebChatAndWatcher(t *testing.T) {
	f := startReloadFixture(t)
	if phone, _, _ := f.board(); phone != "01603 111111" {
		t.Fatalf("board phone before the reload = %q", phone)
	}
	card1 := f.logCall(1)
	before := f.triageDue(1)
	if !before.Before(f.closedUntil) {
		t.Fatalf("triage due %s before the closures were configured; the test needs it within the fortnight", before)
	}
	if !strings.Contains(card1, discordTime(before)) {
		t.Fatalf("RFA-1's card does not show its triage due %s:\n%s", discordTime(before), card1)
	}
	if code := apiPost(t, f.web, reloadAdminToken, "/api/org-links", `{"organisation": "New School"}`); code != http.StatusBadRequest {
		t.Fatalf("a link to a school not configured: %d, want 400", code)
	}

	reloaded := strings.Replace(f.base, `phone = "01603 111111"`, `phone = "01603 222222"`, 1)
	reloaded = strings.Replace(reloaded, `dependency_grace = "1h"`, `dependency_grace = "30s"`, 1)
	reloaded = strings.Replace(reloaded, "[calendar]\n", "[calendar]\n"+f.holidays, 1)
	reloaded += "[[organisation]]\nname = \"New School\"\ndomains = [\"newschool.sch.uk\"]\n"
	f.write(reloaded)
	f.reloadAndWait("reload: configuration applied")
	if strings.Contains(f.logs.String(), "needs a restart") {
		t.Errorf("a reload of reloadable settings only says something needs a restart:\n%s", f.logs.String())
	}

	phone, open, next := f.board()
	if phone != "01603 222222" || open || next.Before(f.closedUntil) {
		t.Errorf("board after the reload: phone %q, open %v, next opening %s; want 01603 222222, closed until %s", phone, open, next, f.closedUntil)
	}
	if after := f.triageDue(1); after.Before(f.closedUntil) {
		t.Errorf("RFA-1's triage due %s after the reload, want it after the closures (%s)", after, f.closedUntil)
	}
	var cal struct {
		Closed []struct{ Date string } `json:"closed"`
	}
	if code := f.get("/api/calendar?year="+strconv.Itoa(time.Now().In(f.closedUntil.Location()).Year()), &cal); code != http.StatusOK || len(cal.Closed) == 0 {
		t.Errorf("GET /api/calendar after the reload: %d %+v", code, cal)
	}
	card2 := f.logCall(2)
	due2 := f.triageDue(2)
	if due2.Before(f.closedUntil) || !strings.Contains(card2, discordTime(due2)) {
		t.Errorf("RFA-2's card should show its triage due %s (after the closures, %s):\n%s", discordTime(due2), f.closedUntil, card2)
	}
	if code := apiPost(t, f.web, reloadAdminToken, "/api/org-links", `{"organisation": "New School"}`); code != http.StatusCreated {
		t.Errorf("a link to the reloaded school: %d, want 201", code)
	}

	// A file that does not validate changes nothing.
	f.write(strings.Replace(reloaded, `phone = "01603 222222"`, "phone = \"01603 333333\"\nresponse_tagret = \"1 hour\"", 1))
	f.reloadAndWait("reload refused")
	if phone, _, _ := f.board(); phone != "01603 222222" {
		t.Errorf("board phone after a refused reload = %q, want 01603 222222", phone)
	}
	if after := f.triageDue(1); after.Before(f.closedUntil) {
		t.Errorf("a refused reload changed the calendar: RFA-1's triage due %s", after)
	}

	// A restart-only setting is logged, never applied.
	f.write(strings.Replace(reloaded, `address = "127.0.0.1:1"`+"\nsecurity = \"none\"\n[web]", `address = "127.0.0.1:2"`+"\nsecurity = \"none\"\n[web]", 1))
	f.reloadAndWait("reload: configuration applied")
	if !strings.Contains(f.logs.String(), "needs a restart; the running value stays until then\" setting=[smtp]") {
		t.Errorf("no line saying [smtp] needs a restart:\n%s", f.logs.String())
	}

	// The mailbox has been down since the start: under the reloaded 30s
	// grace (not the 1h one the daemon started with) staff are told.
	wait, stop := context.WithTimeout(t.Context(), 2*time.Minute)
	defer stop()
	if err := f.fake.Wait(wait, func() bool {
		for _, m := range f.fake.Messages("300") {
			if strings.Contains(m.Content, "cannot reach imap") || strings.Contains(string(m.Body), "cannot reach imap") {
				return true
			}
		}
		return false
	}); err != nil {
		t.Errorf("no notice that imap is down in the ops channel after the reloaded grace: %v", err)
	}
}

// reload on its own, over a real desk: the settings every component
// reads change together, a reload of the same file needs no restart,
// and the restart-only keys a file changes are named.
func TestLiveSettingsReload(t *testing.T) {
	fake := discordtest.New(nil)
	defer fake.Close()
	path := writeChatConfig(t, fake, `phone = "01603 111111"`, "[calendar]\ntimezone = \"Europe/London\"\n")
	cfg, err := config.Load(path, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(cfg.Store.Path, &store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	desk := bot.NewDesk(st, cfg.Desk, &bot.DeskOptions{Logger: newLogger(t.Output(), slog.LevelWarn)})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- desk.Run(ctx) }()
	defer func() { cancel(); <-done }()
	live := newLiveSettings(cfg, desk)

	same, err := config.Load(path, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if keys := needsRestart(cfg, same); len(keys) != 0 {
		t.Errorf("the same file again needs a restart for %v", keys)
	}

	body, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	next := strings.Replace(string(body), `phone = "01603 111111"`, "phone = \"01603 222222\"\nshutdown_grace = \"42s\"", 1)
	next = strings.Replace(next, `name = "Test Desk"`, `name = "Reloaded Desk"`, 1)
	next = strings.Replace(next, "[calendar]\ntimezone = \"Europe/London\"\n", "[calendar]\ntimezone = \"Europe/Paris\"\n[outages]\ndependency_grace = \"90s\"\n", 1)
	next = strings.Replace(next, `rfadesk.db"`, `elsewhere.db"`, 1)
	next = strings.Replace(next, `token = "reload-test-token"`, `token = "another-token"`, 1)
	if err := os.WriteFile(path, []byte(next), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg2, err := config.Load(path, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	if err := live.reload(ctx, cfg2, newLogger(io.MultiWriter(logs, t.Output()), slog.LevelInfo)); err != nil {
		t.Fatal(err)
	}
	ws, cs := live.web(), live.chat()
	if ws.Contact.Phone != "01603 222222" || ws.DeskName != "Reloaded Desk" || ws.Location.String() != "Europe/Paris" || cs.Location.String() != "Europe/Paris" {
		t.Errorf("after the reload: web %q %q %s, chat %s", ws.Contact.Phone, ws.DeskName, ws.Location, cs.Location)
	}
	if ws.Opening != desk.SLA().Calendar || cs.Clocks != desk.SLA() {
		t.Error("the web's calendar or the chat's clocks are not the desk's reloaded policy")
	}
	if live.dependencyGrace() != 90*time.Second || live.shutdownGrace() != 42*time.Second {
		t.Errorf("graces after the reload: dependency %s, shutdown %s", live.dependencyGrace(), live.shutdownGrace())
	}
	for _, key := range []string{"setting=desk.store", "setting=[discord]"} {
		if !strings.Contains(logs.String(), key) {
			t.Errorf("the log does not name %s as needing a restart:\n%s", key, logs.String())
		}
	}
	if strings.Contains(logs.String(), "another-token") {
		t.Error("the log shows the new Discord token")
	}
}
