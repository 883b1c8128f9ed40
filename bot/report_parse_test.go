package bot_test

import (
	"slices"
	"strings"
	"testing"

	"rfadesk/bot"
)

// TestFieldLabelsReadBack: a school that copies the desk's field labels
// into its reply ("Level(s) of action taken: ...") fills those fields,
// each label its own field and no other.
func TestFieldLabelsReadBack(t *testing.T) {
	sample := map[string]string{
		bot.FieldSite: "Main building", bot.FieldComponents: "Attendance", bot.FieldLevel: "Gold",
		bot.FieldActionTaken: "Level 1: restarted the service", bot.FieldErrorMessage: "E1042", bot.FieldCanReplicate: "Yes",
	}
	var form []string
	for _, f := range bot.ReportFields {
		line := bot.FieldLabel(f) + ": " + sample[f]
		form = append(form, line)
		got := bot.ParseReport("", line)
		for _, g := range bot.ReportFields {
			if v := got.Value(g); (g == f) != (v != "") || g == f && v != sample[f] {
				t.Errorf("%q gave %s = %q", line, g, v)
			}
		}
	}
	rep := bot.ParseReport("", strings.Join(form, "\n"))
	if m := rep.Missing(); len(m) != 0 || rep.Level != "Gold" {
		t.Errorf("the desk's own form read back as %+v, missing %v", rep, m)
	}
}

// TestMissingAsksOnlyForTheContractFields: the support tier is never
// missing, and an empty report misses exactly the contract's fields.
func TestMissingAsksOnlyForTheContractFields(t *testing.T) {
	if m := (bot.Report{}).Missing(); !slices.Equal(m, bot.RequiredFields) {
		t.Errorf("empty report misses %v, want %v", m, bot.RequiredFields)
	}
	if slices.Contains(bot.RequiredFields, bot.FieldLevel) || !slices.Contains(bot.ReportFields, bot.FieldLevel) {
		t.Errorf("the support tier must be shown when given but never required")
	}
	full := bot.Report{Site: "Annexe", Components: []string{"Login"}, ActionTaken: "Level 1: restarted",
		ErrorMessage: "E42", CanReplicate: bot.ReplicateNo}
	if m := full.Missing(); len(m) != 0 {
		t.Errorf("a report without a support tier misses %v", m)
	}
}

// TestMailInTheContractsWords: a mail written with the contract's labels,
// "Level 1 action taken:" among them, is complete.
func TestMailInTheContractsWords(t *testing.T) {
	body := "Hello,\n\n" +
		"Site location: Oak Primary, main office\n" +
		"Service component(s) affected: Attendance\n" +
		"Level 1 action taken: restarted the service and cleared the browser cache\n" +
		"Exact error message: \"Register could not be saved (E2031)\"\n" +
		"Can you replicate the error? Yes, every time\n\nThanks,\nAmy\n"
	got := bot.ParseReport("Registers will not save", body)
	want := bot.Report{Site: "Oak Primary, main office", Components: []string{"Attendance"},
		ActionTaken:  "Level 1: restarted the service and cleared the browser cache",
		ErrorMessage: "Register could not be saved (E2031)", CanReplicate: bot.ReplicateYes}
	if !slices.Equal(got.Components, want.Components) || got.Site != want.Site || got.ActionTaken != want.ActionTaken ||
		got.ErrorMessage != want.ErrorMessage || got.CanReplicate != want.CanReplicate || got.Level != "" {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
	if m := got.Missing(); len(m) != 0 {
		t.Errorf("missing %v from a complete mail", m)
	}
}
