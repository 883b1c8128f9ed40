// Package bot is rfadesk's domain: RFAs (Requests For Assistance), their
// SLA clocks in working time, jeopardy escalation and the desk's
// policies. It does no network I/O of its own and never reads the wall
// clock directly (DeskOptions.Now), so it is tested with tables and
// testing/synctest against a real store.
//
// # Who owns the state
//
// One goroutine, Desk.Run, is the only writer of desk state. Intake, the
// deliverers, the jeopardy scheduler, the chat console and the web send it
// typed events (the closed set below) and wait for its reply; reads
// (Desk.RFA, Desk.RFAPage, Desk.ForEachOpenRFA, ...) run in their own
// short read transactions beside it. The store is the Store interface
// (store.go), implemented by package store over bbolt; every Update is
// one transaction, so a change and its side effects commit together or
// not at all.
//
// # Events
//
//	ingestEvent      a batch of fetched mail to record (Desk.Ingest)
//	deliveryEvent    one outbox item's delivery result (Desk.RecordDelivery)
//	deliveriesEvent  accepted items from the receipt log, in a batch
//	actionEvent      a staff or requester action on one RFA (Desk.Do, Escalate, ...)
//	phoneEvent       an RFA taken by telephone (Desk.LogCall)
//	jeopardyEvent    the scheduler's "fire what is due" and "rebuild a page"
//	capacityEvent    a capacity gauge, a surge, a health change (capacity.go), a leader heartbeat (leader_heartbeat.go) or a dependency notice (dependency.go)
//	reloadEvent      a reloaded configuration (Desk.Reload, reload.go)
//
// # How side effects leave
//
// Nothing is sent from inside a transaction. A mail or chat post is an
// OutboxItem written with Tx.Enqueue in the same transaction as the
// change that causes it (the transactional outbox), its wording rendered
// then from the templates (templates.go); after the commit the
// desk kicks the Deliverer of that item's kind, which performs it with a
// Transport (mail by SMTP, chat by Discord) and records the result as a
// deliveryEvent. Items carry fixed Message-IDs and chat nonces, so a
// retry after a crash is recognised by the far side or deduplicated
// here. The jeopardy schedule is persisted the same way: each RFA's next
// escalation point (SLAPolicy.NextPoint) is indexed with the RFA, and one
// timer sleeps until the earliest.
//
// # Where each use case lives
//
//	desk.go            the Desk, its events, reads, delivery results
//	ingest.go          Fetched and Outcome: what intake hands over and gets back
//	ingest_tx.go       recording a batch, the one-by-one fallback
//	record.go          what one mail becomes: new RFA, reply, bounce, dead letter
//	dedupe.go          the same mail again, or a different mail reusing an id
//	safeguards.go      caps and rate limits against hostile or runaway mail
//	ratestate.go       the safeguards' persisted counters
//	auth.go            whether a reply's author is trusted to join an RFA
//	autoreply.go       when automatic mail may go to a sender
//	ack.go             the acknowledgement
//	templates.go       the wording of every message: templates/STEM.PART.tmpl (subject, txt,
//	                   html, chat, line), operator overrides, one-line subjects, [RFA-N] tags
//	templates_views.go what each stem's templates receive; templates_samples.go their sample data
//	report_parse.go    the report fields (parsing itself is bot/report)
//	suggest.go         the severity the desk suggests to staff
//	staff_action.go    the one vocabulary of staff actions (chat, mail, API)
//	actions.go         severity, assignment, replies, updates, clearance, ...
//	staff_fields.go    staff corrections of report fields and organisation
//	links.go           linked RFAs: link, unlink, a parent's clearance clearing its children
//	release*.go        the release calendar: planning, shipping, the daily roll-over and cadence check
//	phone.go           RFAs taken by telephone
//	portal.go          RFAs logged on the web form; held until confirmed from unknown domains
//	escalate.go        escalation by the requester
//	requester.go       the requester's messages and answers from the status page
//	lifecycle*.go      clearance, confirmation, closure, reopening, follow-ups
//	chatthread.go      the RFA's thread in the staff chat
//	sla.go, clocks.go  the SLA policy and the clocks derived from history
//	jeopardy*.go       the persisted schedule, its policy fingerprint, the steps
//	outbox.go          outbox items; outgoing.go enqueues them
//	deliver.go         the Deliverer loop; ratelimit.go a far side's "wait"
//	deliver_flush.go   the shutdown's last delivery within a grace
//	receipts.go        the delivery-receipt log and its replay
//	summary.go, open.go  pages of summaries and the open RFAs, for lists
//	rfa.go, mail.go    the RFA record and the decoded mail
//	capacity.go        capacity gauges against the threshold, surges, rfadesk's health history
//	availability.go    monthly availability from downtime intervals
//	leader_heartbeat.go the leading instance's heartbeat on a replicated desk; leaderless time as downtime
//	dependency.go      notices while the mailbox, SMTP or Discord stay down
//	outage.go          service notices: announcements, linked RFAs, the all-clear, inbound outage mail
//	report*.go         the monthly service report, its renderings, mailing and export
//	purge.go           retention: closed RFAs' texts and files purged, figures kept
//	reload.go          a reloaded configuration applied between transactions
//	staff_mail.go      staff replying by email: relayed, noted or told how
//	orglinks.go        private organisation and trust pages and their links
//	contact.go         the desk's contact details in mail
//	recordurl.go       the token-free link to an RFA staff may see in chat
//	text.go, bidi.go   subjects, cuts, chat text; bidirectional controls removed
//	logattr.go         the rfa=RFA-N log attribute
package bot
