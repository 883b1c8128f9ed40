package bot

import (
	"strings"
	"testing"
)

func TestThreadingAllowed(t *testing.T) {
	for _, tt := range []struct {
		v    AuthVerdict
		want bool
		s    string
	}{
		{AuthUnknown, true, "unknown"},
		{AuthPass, true, "pass"},
		{AuthFail, false, "fail"},
	} {
		m := &Mail{From: Address{Email: "p.shah@willowtree.sch.uk"}, Auth: tt.v}
		if got := threadingAllowed(m); got != tt.want {
			t.Errorf("threadingAllowed(Auth %v) = %v, want %v", tt.v, got, tt.want)
		}
		if tt.v.String() != tt.s {
			t.Errorf("AuthVerdict(%d).String() = %q, want %q", int(tt.v), tt.v.String(), tt.s)
		}
	}
	var zero Mail
	if zero.Auth != AuthUnknown || !threadingAllowed(&zero) {
		t.Errorf("zero Mail: Auth %v, threading allowed %v; want unknown, true", zero.Auth, threadingAllowed(&zero))
	}
}

func TestAuthFlag(t *testing.T) {
	m := &Mail{From: Address{Email: "p.shah@willowtree.sch.uk"}, Auth: AuthFail}
	got := authFlag(m, FormatRef(1061))
	for _, want := range []string{"RFA-1061", "p.shah@willowtree.sch.uk", "failed sender authentication (DMARC)"} {
		if !strings.Contains(got, want) {
			t.Errorf("authFlag = %q, missing %q", got, want)
		}
	}
}
