package bot

// templateSamples returns realistic views for every stem: the first is
// the one RenderSamples (and the golden files) show; every one is
// rendered when an override is checked, so the variants cover the
// branches a template may take (an empty optional value, a flag set).
func templateSamples() map[string][]any {
	const (
		ref, link, desk = "RFA-000042", "https://desk.example.org/rfa/42?t=k3Jq9vX2", "Example Service Desk"
		subject         = "Printer in the staff room not printing"
		record          = "https://desk.example.org/api/rfas/RFA-000042"
	)
	ack := ackView{
		Desk: desk, Ref: ref, Subject: subject, Name: "Jane",
		Fields: []ackField{
			{"Organisation", "Northgate Primary School (Northgate Academy Trust)"},
			{"Contact phone", "01603 555 0142"},
		},
		Missing: []string{"Computer or device name"},
		Target:  "72 hours", Hours: "We are open Monday to Friday, 08:00 to 17:00",
		Link: link,
		Contact: Contact{
			Phone: "01603 631436 (option 1)", KnowledgeBaseURL: "https://help.example.org",
			PostalAddress: "Example Service Desk\nCounty Hall\nNorwich NR1 2DH",
		},
	}
	unknownAck := ackView{Desk: desk, Ref: ref, Target: "72 hours", Hours: "We are open Monday to Friday, 08:00 to 17:00", Link: link,
		Missing: []string{"Computer or device name", "Contact phone"}}
	prompt := confirmPromptView{
		Ref: ref, FixedURL: link + "&action=fixed#fixed", BrokenURL: link + "&action=broken#broken",
		CloseBy: "Mon 11 Jan 2027 09:00 GMT",
	}
	notice := noticeView{Ref: ref, Subject: subject, Link: link, Desk: desk}
	with := func(f func(*noticeView)) noticeView { v := notice; f(&v); return v }
	staff := staffNoticeView{
		Ref: ref, Subject: subject, Organisation: "Northgate Primary School",
		Requester: "Jane Smith <jane.smith@northgate.sch.uk>", Assignee: "Sam Patel (sam.patel@example.org)",
		Severity: "High", Status: "open", Link: link, Desk: desk,
		What: ref + " (High, Northgate Primary School) \"" + subject + "\": the workaround clock has used 75% of its 1 working day; due Tue 5 Jan 2027 12:30 GMT.",
	}
	unassigned := staff
	unassigned.Assignee = ""
	escalation := staff
	escalation.Via, escalation.Owner, escalation.Within = "on the status page", "Alex Morgan", "2 working hours"
	escalation.Reason = "> Nobody has answered for two days and the\n> whole school cannot print reports."
	noReason := escalation
	noReason.Reason, noReason.Organisation = "", ""
	page := staff
	page.Link, page.Sender = record, "head@northgate.sch.uk"
	page.Subject = "Outage: no internet at the whole school"
	outage := outageView{
		ID: 7, Title: "Email delivery delayed for all schools", Components: "Email, Web filtering",
		By: "Sam Patel (discord:81234)", StatusURL: "https://desk.example.org/status", Desk: desk, Told: 214,
		Text: "Mail is flowing again for most schools; the backlog should clear by 14:00.",
	}
	scoped := outage
	scoped.Organisations, scoped.Cleared = "Northgate Primary School, Oak Primary", 12
	point := slaPointView{
		Ref: ref, Severity: "High", Organisation: "Northgate Primary School", Subject: subject,
		Clock: "workaround", Target: "1 working day", Percent: "75", Due: "Tue 5 Jan 2027 12:30 GMT",
	}
	runOut := point
	runOut.RunOut, runOut.Organisation, runOut.Due = true, "", ""
	dead := deadLetterView{
		Mailbox: "INBOX", ID: 318, From: "\"Billing\" <billing@invoices.example.net>",
		Subject: "Your invoice 2027-0113", Reason: "mime: too many parts (100000 over the cap of 1000)", Interval: "10m",
	}
	more := dead
	more.More = true
	return map[string][]any{
		"ack": {ack, unknownAck},
		"staff_reply": {
			staffReplyView{
				Text:     "We have replaced the toner cartridge and the printer prints again.",
				MailOnly: "Is it fixed? Please tell us:\n  It's fixed:   " + prompt.FixedURL,
				Signer:   "Sam Patel", Desk: desk, Ref: ref, Link: link, Subject: subject, Kind: "clearance",
			},
			staffReplyView{Text: "Could you tell us the printer's name?", Signer: "Sam Patel", Desk: desk, Ref: ref, Link: link, Subject: subject, Kind: "question"},
			staffReplyView{Text: "We are on it.", Signer: "Sam Patel", Desk: desk, Ref: ref, Link: link, Subject: subject, Kind: "reply"},
		},
		"confirm_prompt":   {prompt, confirmPromptView{Ref: ref, FixedURL: prompt.FixedURL, BrokenURL: prompt.BrokenURL}},
		"confirm_reminder": {with(func(v *noticeView) { v.Prompt = "Is it fixed? Please tell us:\n  It's fixed:   " + prompt.FixedURL })},
		"closure":          {with(func(v *noticeView) { v.ReopenBy = "Mon 18 Jan 2027 09:00 GMT" }), notice},
		"reopen":           {notice},
		"severity_notice": {
			severityView{
				Ref: ref, Subject: subject, Link: link, Desk: desk, Severity: "High", Changed: true,
				WorkaroundTarget: "1 working day", WorkaroundDue: "Tue 5 Jan 2027 12:30 GMT",
			},
			severityView{Ref: ref, Subject: subject, Link: link, Desk: desk, Severity: "Low"},
		},
		"fields_reminder":    {with(func(v *noticeView) { v.Missing = []string{"Computer or device name", "Contact phone"} })},
		"escalation_confirm": {with(func(v *noticeView) { v.Owner = "the Service Desk Manager" })},
		"submission_confirm": {submissionView{Desk: desk, ConfirmURL: "https://desk.example.org/new/confirm?t=Xb7kP2qLm9Rt"}},
		"release_notice": {
			releaseView{Ref: ref, Subject: subject, Link: link, Desk: desk, Release: "2027.1.2", Ships: "Thursday 14 January 2027"},
			releaseView{Ref: ref, Subject: subject, Link: link, Desk: desk, Release: "2027.1.3", Ships: "Thursday 28 January 2027", Moved: true},
		},
		"outage_notice":    {outage, scoped},
		"outage_update":    {outage, scoped},
		"outage_resolved":  {scoped, outage},
		"outage_ack_note":  {outage},
		"outage_page":      {page},
		"escalation_staff": {escalation, noReason},
		"sla_point":        {point, runOut},
		"sla_note":         {staff, unassigned},
		"sla_duty":         {staff, unassigned},
		"sla_jeopardy":     {staff, unassigned},
		"sla_breach":       {staff, unassigned},
		"release_cadence": {
			releaseCadenceView{Desk: desk, Minor: true, Since: "Thu 17 Dec 2026 12:00 GMT"},
			releaseCadenceView{Desk: desk, Since: "Mon 4 Jan 2027"},
		},
		"monthly_report":      {monthReportView{Desk: desk, Month: "2027-01", Logged: 182, Breaches: 3}},
		"capacity":            {capacityView{Service: "mailbox-storage", Percent: "91.5%", Used: "915", Limit: "1000", Threshold: "85.0%"}},
		"surge":               {surgeView{Service: "web-filtering", Until: "2027-01-11 17:00 UTC", By: "Sam Patel (discord:81234)", Reason: "exam week: every school online at once"}},
		"dependency_down":     {dependencyView{Name: "smtp", Since: "2027-01-04 09:12 UTC", For: "12m30s", Reason: "dial tcp 192.0.2.25:587: connection refused"}, dependencyView{Name: "discord", Since: "2027-01-04 09:12 UTC", For: "5m", Discord: true}},
		"dependency_up":       {dependencyView{Name: "smtp", Since: "2027-01-04 09:12 UTC", For: "47m10s"}},
		"unknown_acks_paused": {alertView{Max: 50, Window: "1h"}},
		"sender_flood":        {alertView{Max: 10, Window: "1h", Sender: "printer@northgate.sch.uk", Ref: ref}},
		"dead_letter":         {dead},
		"dead_letters":        {dead, more},
		"staff_unaddressed":   {staffMailView{Address: "support@example.org", Subject: "Printer at Northgate"}},
		"staff_too_long":      {staffMailView{Address: "support@example.org", Subject: "Received: " + subject, Ref: ref, Limit: 65536}},
	}
}
