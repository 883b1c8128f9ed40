package mailbox

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"rfadesk/bot"
)

// TestReportFieldsFromRealMail runs every .eml in testdata/mime (and the
// demo's example mail) through the whole reading path — MIME, HTML to
// text, quote stripping, then the report parser — and compares the report
// fields with NAME.report.json (rewritten by go test -update). This is
// the table the desk's parsed fields stand on.
func TestReportFieldsFromRealMail(t *testing.T) {
	files, _ := filepath.Glob("testdata/mime/*.eml")
	seeds, _ := filepath.Glob("../demo/seeds/*.eml")
	files = append(files, seeds...)
	if len(files) < 30 {
		t.Fatalf("corpus has %d files, want at least 30", len(files))
	}
	var withFields int
	for _, path := range files {
		name := strings.TrimSuffix(filepath.Base(path), ".eml")
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			m, err := Parse(raw, ParseOptions{})
			if err != nil {
				return // unparsable mail is a dead letter, covered by the MIME goldens
			}
			rep := bot.ParseReport(m.Subject, m.Reply)
			if len(rep.Components) == 0 {
				rep.Components = []string{}
			}
			if rep.CanReplicate == "" {
				rep.CanReplicate = bot.ReplicateUnknown
			}
			if len(rep.Missing()) < len(bot.RequiredFields) {
				withFields++
			}
			got, _ := json.MarshalIndent(rep, "", "  ")
			golden := strings.TrimSuffix(path, ".eml") + ".report.json"
			if strings.HasPrefix(path, "../") {
				golden = filepath.Join("testdata", "demo-seeds", name+".report.json")
			}
			if *update {
				if err := os.WriteFile(golden, append(got, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if strings.TrimSpace(string(want)) != strings.TrimSpace(string(got)) {
				t.Errorf("report fields of %s:\ngot  %s\nwant %s", path, got, want)
			}
		})
	}
	if withFields < 8 {
		t.Errorf("only %d mails yield any report field: the corpus no longer exercises the parser", withFields)
	}
}
