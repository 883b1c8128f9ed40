package report

import (
	"strings"
	"testing"
)

// TestContractLabels: the contract's own field labels and their everyday
// variants (numbered and ordinal levels, "L1/L2", plurals, question forms,
// a trailing "?", punctuation and case) are recognised, with the support
// levels an action-taken label names; near misses are not labels.
func TestContractLabels(t *testing.T) {
	type want struct {
		field  fieldKey
		levels string // space-separated
	}
	tests := map[string]want{
		// Site location.
		"Site location:": {fieldSite, ""}, "SITE LOCATION -": {fieldSite, ""}, "site location?": {fieldSite, ""},
		"Site locations:": {fieldSite, ""}, "Which site is affected?": {fieldSite, ""}, "**Campus**:": {fieldSite, ""},
		"3. Where?": {fieldSite, ""}, "Site:": {fieldSite, ""}, "School site / location:": {fieldSite, ""},
		// Service component(s) affected.
		"Service component(s) affected:": {fieldComponents, ""}, "Service Components Affected": {fieldComponents, ""},
		"Which service components are affected?": {fieldComponents, ""}, "Component(s):": {fieldComponents, ""},
		"Affected service(s)": {fieldComponents, ""}, "Areas affected:": {fieldComponents, ""},
		"What part of the system is affected?": {fieldComponents, ""}, "Service component's affected:": {fieldComponents, ""},
		// [LEVEL(s)] action taken.
		"[LEVEL(s)] action taken:":                          {fieldActionTaken, ""},
		"Level(s) of action taken:":                         {fieldActionTaken, ""},
		"Level 1 action taken:":                             {fieldActionTaken, "1"},
		"LEVEL 1 ACTION TAKEN -":                            {fieldActionTaken, "1"},
		"level one action taken":                            {fieldActionTaken, "1"},
		"Level 2 actions taken?":                            {fieldActionTaken, "2"},
		"1st line action taken:":                            {fieldActionTaken, "1"},
		"First-line actions taken:":                         {fieldActionTaken, "1"},
		"L2 actions taken:":                                 {fieldActionTaken, "2"},
		"L1/L2 actions taken:":                              {fieldActionTaken, "1 2"},
		"Levels 1 and 2 actions taken:":                     {fieldActionTaken, "1 2"},
		"Level 1-3 actions taken:":                          {fieldActionTaken, "1 2 3"},
		"first level support:":                              {fieldActionTaken, "1"},
		"2nd line support:":                                 {fieldActionTaken, "2"},
		"Second-level checks:":                              {fieldActionTaken, "2"},
		"What level 1 actions have been taken?":             {fieldActionTaken, "1"},
		"What action has already been taken?":               {fieldActionTaken, ""},
		"Action(s) already taken:":                          {fieldActionTaken, ""},
		"Action already taken (e.g. Level 1 action taken):": {fieldActionTaken, ""},
		"What have you tried so far?":                       {fieldActionTaken, ""},
		"- Troubleshooting done:":                           {fieldActionTaken, ""},
		// The exact error message or a precise description of the problem.
		"Exact error message:": {fieldErrorMessage, ""}, "Error message(s):": {fieldErrorMessage, ""},
		"What is the exact error message?":                           {fieldErrorMessage, ""},
		"Exact error message or precise description of the problem:": {fieldErrorMessage, ""},
		"Description of the problem:":                                {fieldErrorMessage, ""},
		"Message shown:":                                             {fieldErrorMessage, ""}, "Error text |": {fieldErrorMessage, ""}, "Errors:": {fieldErrorMessage, ""},
		// Whether the school can replicate the error.
		"Can you replicate it?": {fieldCanReplicate, ""}, "Can you replicate the error?": {fieldCanReplicate, ""},
		"Can the school replicate the error?":  {fieldCanReplicate, ""},
		"Are you able to reproduce the error?": {fieldCanReplicate, ""},
		"Is it reproducible":                   {fieldCanReplicate, ""}, "Replicable (Y/N):": {fieldCanReplicate, ""},
		"Q6) Is the problem replicable?": {fieldCanReplicate, ""}, "Able to reproduce:": {fieldCanReplicate, ""},
		// A support tier the school volunteers: an optional extra.
		"Support level:": {fieldLevel, ""}, "Support tier (optional):": {fieldLevel, ""}, "Level of support =": {fieldLevel, ""},
		"Contract level –": {fieldLevel, ""}, "SLA:": {fieldLevel, ""},
		// Not labels.
		"Steps to reproduce:": {}, "Message:": {}, "Level 3 corridor:": {}, "Time of error:": {}, "Name:": {},
		"Email:": {}, "Action:": {}, "Support:": {}, "Action required:": {}, "Level 1:": {}, "Description:": {},
		"Operating system:": {}, "Done:": {}, "Date replicated:": {}, "Website:": {}, "Next steps:": {},
		"We have a problem with the level of support": {},
	}
	for line, w := range tests {
		got, levels, _, ok := labelLine(line)
		if got != w.field || ok != (w.field != "") || strings.Join(levels, " ") != w.levels {
			t.Errorf("labelLine(%q) = %q levels %q, %v; want %q levels %q", line, got, levels, ok, w.field, w.levels)
		}
	}
}

// TestFormerLabelPhrases: every exact phrase the parser used to list is
// still recognised by its words, as the same field.
func TestFormerLabelPhrases(t *testing.T) {
	former := map[fieldKey][]string{
		fieldSite: {"site", "site location", "location", "school site", "campus", "building", "where",
			"site name", "which site", "school site location", "site campus", "campus site", "site affected",
			"affected site", "location of issue", "location of problem", "location of the issue", "which campus",
			"campus location", "building name", "school location", "site building", "premises", "site or campus"},
		fieldComponents: {"component", "components", "service component", "service components", "service component affected",
			"service components affected", "component affected", "components affected", "affected component",
			"affected components", "module", "modules", "module affected", "modules affected", "affected module",
			"affected modules", "system", "systems", "system affected", "affected system", "service", "services",
			"service affected", "services affected", "affected service", "affected services", "area affected",
			"areas affected", "affected area", "affected areas", "product", "product affected",
			"application", "feature", "features", "feature affected", "which module", "which system",
			"which component", "which service", "part of the system", "service component's affected"},
		fieldLevel: {"support level", "level of support", "support tier", "tier", "contract level", "level", "service level",
			"sla level", "sla", "support package", "support contract", "contract", "support plan", "support type",
			"contract type", "sla tier", "level of service", "support level tier"},
		fieldActionTaken: {"action taken", "actions taken", "action already taken", "actions already taken", "steps taken",
			"step taken", "steps already taken", "steps tried", "what have you tried", "what have you tried so far",
			"what you have tried", "what we have tried", "what has been tried", "what has been done",
			"what have you done", "what have you done so far", "troubleshooting done", "troubleshooting",
			"troubleshooting steps", "troubleshooting so far", "troubleshooting already done", "tried so far",
			"already tried", "things tried", "things we have tried", "actions so far", "action so far",
			"steps so far", "what we've tried", "what i've tried", "what we tried", "what i have tried",
			"attempted fixes", "done so far", "what have you already tried"},
		fieldErrorMessage: {"error", "errors", "error message", "error messages", "exact error message", "exact error",
			"error text", "message shown", "message displayed", "error shown", "error displayed", "error received",
			"error message shown", "error message received", "error message displayed", "error seen",
			"error details", "error code", "on screen message", "on screen error", "what error do you see",
			"what does the error say", "error wording", "exact wording of error", "exact message", "exact wording",
			"warning message", "what is the error", "screen message", "exact error text", "error message text"},
	}
	for want, phrases := range former {
		for _, p := range phrases {
			for _, line := range []string{p + ":", strings.ToUpper(p[:1]) + p[1:] + "?"} {
				if got, _, _, _ := labelLine(line); got != want {
					t.Errorf("labelLine(%q) = %q, want %q", line, got, want)
				}
			}
		}
	}
}

func TestSingular(t *testing.T) {
	for in, want := range map[string]string{"actions": "action", "entries": "entry", "fixes": "fix", "process": "process",
		"campus": "campus", "diagnosis": "diagnosis", "premises": "premise", "has": "has", "errors": "error", "messages": "message"} {
		if got := singular(in); got != want {
			t.Errorf("singular(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestLevelActionsAccumulate: action-taken labels at different support
// levels each add a line led by their level; the tier stays empty and a
// repeated label at the same level does not overwrite the first.
func TestLevelActionsAccumulate(t *testing.T) {
	body := "Level 1 action taken: restarted the service\n" +
		"L2 actions taken: reinstalled the client\n" +
		"Level 1 action taken: something else\n" +
		"Level 3 action taken: n/a\n"
	got := Parse("", body)
	want := "Level 1: restarted the service\nLevel 2: reinstalled the client"
	if got.ActionTaken != want || got.Level != "" {
		t.Errorf("ActionTaken = %q, Level = %q; want %q and no tier", got.ActionTaken, got.Level, want)
	}
	got = Parse("", "first level support: restarted the server\nSupport level: Gold\n")
	if got.ActionTaken != "Level 1: restarted the server" || got.Level != "Gold" {
		t.Errorf("got %+v", got)
	}
	got = Parse("", "Levels 1 and 2 action taken: Level 1 - cleared the cache; level 2 - rebuilt the index\n")
	if got.ActionTaken != "Level 1 - cleared the cache; level 2 - rebuilt the index" {
		t.Errorf("an answer that names its levels got another lead: %q", got.ActionTaken)
	}
	if p := levelPhrase([]string{"1", "2", "3"}); p != "Levels 1, 2 and 3" {
		t.Errorf("levelPhrase = %q", p)
	}
}
