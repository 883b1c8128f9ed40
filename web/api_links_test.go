package web

import (
	"net/http"
	"strings"
	"testing"
)

// TestAPILinkAndUnlink links RFA-2 (Elm Academy) to RFA-1 (Oak Primary)
// through the admin API: RFA-2's status page says it is linked to a
// known issue without naming RFA-1; clearing RFA-1 clears RFA-2; unlink
// and the refusals answer as the other actions do.
func TestAPILinkAndUnlink(t *testing.T) {
	e := newAPIEnv(t, nil)
	e.logCall(`{"name": "Ann Head", "email": "ann@oak.sch.uk", "subject": "MIS down at Oak", "description": "Nobody can log in."}`)
	child := e.logCall(`{"name": "Eve Bell", "email": "eve@elm.sch.uk", "subject": "MIS down", "description": "Same here."}`)
	e.logCall(`{"name": "Ian Ash", "email": "ian@elm.sch.uk", "subject": "Printer", "description": "Jammed."}`)
	act := func(ref, body string, code int, want string) {
		t.Helper()
		var ae apiError
		res := e.post(adminToken, "/api/rfas/"+ref+"/actions", body, &ae)
		if res.StatusCode != code || !strings.Contains(ae.Error, want) {
			t.Errorf("%s %s: %d %q, want %d mentioning %q", ref, body, res.StatusCode, ae.Error, code, want)
		}
	}
	act("RFA-2", `{"action": "link"}`, 400, "link needs the parent")
	act("RFA-2", `{"action": "link", "parent": "RFA-2"}`, 400, "cannot be linked to itself")
	act("RFA-2", `{"action": "link", "parent": "RFA-9"}`, 400, "there is no RFA-9")
	act("RFA-2", `{"action": "link", "parent": 1}`, 400, `"parent" should be a string`)
	act("RFA-2", `{"action": "link", "parent": "RFA-1", "text": "x"}`, 400, `"text" does not go with link: it takes parent`)
	act("RFA-2", `{"action": "unlink", "parent": "RFA-1"}`, 400, `it takes nothing but "action"`)
	act("RFA-2", `{"action": "unlink"}`, 409, "RFA-2 is not linked")
	act("RFA-9", `{"action": "link", "parent": "RFA-1"}`, 404, "not found")

	status := func() string {
		t.Helper()
		_, page := do(t, e.h, "GET", strings.TrimPrefix(child.StatusURL, "https://support.desk.test"), nil)
		return page
	}
	if strings.Contains(status(), `class="linked"`) {
		t.Error("the status page of an unlinked RFA says it is linked")
	}
	if res := e.post(adminToken, "/api/rfas/RFA-2/actions", `{"action": "link", "parent": "rfa-1"}`, nil); res.StatusCode != http.StatusOK {
		t.Fatalf("link: %d", res.StatusCode)
	}
	if r := e.rfa(2); r.Parent != 1 {
		t.Fatalf("RFA-2's parent = %d after link", r.Parent)
	}
	act("RFA-1", `{"action": "link", "parent": "RFA-2"}`, 409, "loop")
	page := status()
	if !strings.Contains(page, `<p class="linked">This request is linked to a known issue`) {
		t.Errorf("the linked RFA's status page has no note:\n%s", page)
	}
	if strings.Contains(page, "RFA-1") || strings.Contains(page, "Oak") {
		t.Errorf("the linked RFA's status page names the other school's RFA:\n%s", page)
	}

	if res := e.post(adminToken, "/api/rfas/RFA-1/actions", `{"action": "clear", "resolution": "MIS service restarted."}`, nil); res.StatusCode != http.StatusOK {
		t.Fatalf("clear: %d", res.StatusCode)
	}
	if r := e.rfa(2); r.Status != "cleared" {
		t.Errorf("RFA-2 is %s after its parent was cleared", r.Status)
	}
	if strings.Contains(status(), `class="linked"`) {
		t.Error("a cleared RFA's status page still says the issue is under investigation")
	}

	if res := e.post(adminToken, "/api/rfas/RFA-3/actions", `{"action": "link", "parent": "RFA-1"}`, nil); res.StatusCode != http.StatusConflict {
		t.Errorf("link to a cleared parent: %d, want 409", res.StatusCode)
	}
	if res := e.post(adminToken, "/api/rfas/RFA-2/actions", `{"action": "unlink"}`, nil); res.StatusCode != http.StatusOK {
		t.Fatalf("unlink: %d", res.StatusCode)
	}
	if r := e.rfa(2); r.Parent != 0 {
		t.Errorf("RFA-2's parent = %d after unlink", r.Parent)
	}
}
