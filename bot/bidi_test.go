package bot

import "testing"

func TestNeutralizeBidi(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"invoice\u202efdp.exe", "invoicefdp.exe"},
		{"plain text\nsecond line", "plain text\nsecond line"},
		{"\u2066isolated\u2069 \u200emark\u200f \u061calm", "isolated mark alm"},
		{"\u202a\u202b\u202c\u202d", ""},
		{"Café ✓", "Café ✓"},
	} {
		if got := NeutralizeBidi(tc.in); got != tc.want {
			t.Errorf("NeutralizeBidi(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
