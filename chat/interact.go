package chat

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"

	"rfadesk/bot"
)

const (
	newRFAModal = "rfa-new"
	ephemeral   = discordgo.MessageFlagsEphemeral
)

// onInteraction answers every interaction: staff only, in our guild.
// Errors go back to the caller as an ephemeral message. A slow command
// is answered by answerLate.
func (c *Console) onInteraction(ctx context.Context, i *discordgo.Interaction) {
	if c.isSlow(i) {
		c.answerLate(ctx, i)
		return
	}
	if err := c.respond(ctx, i, c.answer(ctx, i)); err != nil {
		c.log.Error("chat: answering an interaction", "interaction", i.ID, "err", err)
	}
}

// answer runs interaction i; an error becomes an ephemeral message.
func (c *Console) answer(ctx context.Context, i *discordgo.Interaction) answer {
	a, err := c.interaction(ctx, i)
	if err != nil {
		a = answer{text: userError(err), ephemeral: true}
	}
	return a
}

// isSlow reports whether i invokes a command marked slow.
func (c *Console) isSlow(i *discordgo.Interaction) bool {
	if i.Type != discordgo.InteractionApplicationCommand {
		return false
	}
	d := i.ApplicationCommandData()
	if len(d.Options) != 1 {
		return false
	}
	cmd := c.cmds.byKey[d.Name+" "+d.Options[0].Name]
	return cmd != nil && cmd.slow
}

// answerLate answers a slow command (never a modal) within Discord's
// three-second window: the command runs on its own goroutine, and if it
// has not finished within Options.DeferAfter, Discord is sent a deferred
// response (ephemeral: it shows "thinking…" to the caller only), which
// the answer replaces when it is ready. The console handles no other
// event meanwhile, as for any interaction.
func (c *Console) answerLate(ctx context.Context, i *discordgo.Interaction) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan answer, 1)
	go func() { done <- c.answer(ctx, i) }()
	if wait := c.opts.DeferAfter; wait >= 0 {
		t := time.NewTimer(wait)
		select {
		case a := <-done:
			t.Stop()
			if err := c.respond(ctx, i, a); err != nil {
				c.log.Error("chat: answering an interaction", "interaction", i.ID, "err", err)
			}
			return
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
	err := c.s.InteractionRespond(i, &discordgo.InteractionResponse{
		Type: discordgo.InteractionResponseDeferredChannelMessageWithSource,
		Data: &discordgo.InteractionResponseData{Flags: ephemeral},
	}, discordgo.WithContext(ctx))
	if err != nil {
		c.log.Error("chat: deferring the answer to an interaction", "interaction", i.ID, "err", err)
		return
	}
	var a answer
	select {
	case a = <-done:
	case <-ctx.Done():
		return
	}
	text := cut(a.text, maxContent)
	if _, err := c.s.InteractionResponseEdit(i, &discordgo.WebhookEdit{Content: &text, AllowedMentions: noMentions()}, discordgo.WithContext(ctx)); err != nil {
		c.log.Error("chat: sending a deferred answer", "interaction", i.ID, "err", err)
	}
}

func (c *Console) interaction(ctx context.Context, i *discordgo.Interaction) (answer, error) {
	if i.GuildID != c.cfg.GuildID || i.Member == nil || i.Member.User == nil {
		return answer{text: "rfadesk works only in the service desk's server.", ephemeral: true}, nil
	}
	if !hasRole(i.Member, c.cfg.StaffRoleID) {
		return answer{text: "Only members with the staff role can do that; nothing was changed.", ephemeral: true}, nil
	}
	by := actor(i.Member, nil)
	switch i.Type {
	case discordgo.InteractionApplicationCommand:
		return c.slash(ctx, i, by)
	case discordgo.InteractionMessageComponent:
		num, ok := parseTakeButton(i.MessageComponentData().CustomID)
		if !ok {
			return answer{}, errors.New("that button is not one of rfadesk's")
		}
		if err := c.desk.Assign(ctx, num, by, by); err != nil {
			return answer{}, err
		}
		return answer{text: fmt.Sprintf("%s took %s.", by.Name, bot.FormatRef(num))}, nil
	case discordgo.InteractionModalSubmit:
		d := i.ModalSubmitData()
		if d.CustomID != newRFAModal {
			return answer{}, errors.New("that form is not one of rfadesk's")
		}
		return c.logCall(ctx, by, modalValues(d.Components))
	}
	return answer{}, fmt.Errorf("unsupported interaction type %d", i.Type)
}

func (c *Console) slash(ctx context.Context, i *discordgo.Interaction, by bot.Actor) (answer, error) {
	d := i.ApplicationCommandData()
	if len(d.Options) != 1 || d.Options[0].Type != discordgo.ApplicationCommandOptionSubCommand && d.Options[0].Type != discordgo.ApplicationCommandOptionSubCommandGroup {
		return answer{}, fmt.Errorf("/%s needs a subcommand", d.Name)
	}
	sub := d.Options[0]
	key := d.Name + " " + sub.Name
	if sub.Type == discordgo.ApplicationCommandOptionSubCommandGroup { // "/desk outage start"
		if len(sub.Options) != 1 || sub.Options[0].Type != discordgo.ApplicationCommandOptionSubCommand {
			return answer{}, fmt.Errorf("/%s needs a subcommand", key)
		}
		sub = sub.Options[0]
		key += " " + sub.Name
	}
	cmd := c.cmds.byKey[key]
	if cmd == nil {
		return answer{}, fmt.Errorf("/%s is not a command (yet)", key)
	}
	in := &invocation{i: i, by: by, opts: map[string]*discordgo.ApplicationCommandInteractionDataOption{}, res: d.Resolved}
	for _, o := range sub.Options {
		in.opts[o.Name] = o
	}
	if cmd.rfa {
		r, err := c.resolveRFA(ctx, in.str("ref"), i.ChannelID)
		if err != nil {
			return answer{}, err
		}
		in.rfa = r
	}
	return cmd.run(ctx, c, in)
}

// resolveRFA finds the RFA named by ref, or else the one whose thread
// channelID is.
func (c *Console) resolveRFA(ctx context.Context, ref, channelID string) (*bot.RFA, error) {
	if ref != "" {
		num, err := bot.ParseRef(ref)
		if err != nil {
			return nil, err
		}
		return c.desk.RFA(ctx, num)
	}
	r, err := c.desk.RFAByChatThread(ctx, channelID)
	if errors.Is(err, bot.ErrNotFound) {
		return nil, errors.New("use this in an RFA's thread, or give its ref (RFA-N)")
	}
	return r, err
}

// userError is what staff are told about a failed action.
func userError(err error) string {
	switch {
	case errors.Is(err, bot.ErrNotFound):
		return "⚠️ No such RFA. Nothing was changed."
	case errors.Is(err, bot.ErrNotAllowed):
		return "⚠️ " + strings.TrimSuffix(err.Error(), ": "+bot.ErrNotAllowed.Error()) + ". Nothing was changed."
	}
	return describeErr(err)
}

func (c *Console) respond(ctx context.Context, i *discordgo.Interaction, a answer) error {
	resp := &discordgo.InteractionResponse{Type: discordgo.InteractionResponseChannelMessageWithSource}
	if a.modal != nil {
		resp.Type = discordgo.InteractionResponseModal
		resp.Data = a.modal
	} else {
		resp.Data = &discordgo.InteractionResponseData{Content: cut(a.text, maxContent), AllowedMentions: noMentions()}
		if a.ephemeral {
			resp.Data.Flags = ephemeral
		}
	}
	return c.s.InteractionRespond(i, resp, discordgo.WithContext(ctx))
}

// Modal fields of /rfa new.
const (
	fieldEmail   = "email"
	fieldName    = "name"
	fieldSubject = "subject"
	fieldDesc    = "description"
	fieldReport  = "report"
)

func runNew(_ context.Context, _ *Console, _ *invocation) (answer, error) {
	var tmpl []string
	for _, f := range bot.ReportFields {
		tmpl = append(tmpl, bot.FieldLabel(f)+": ")
	}
	row := func(t discordgo.TextInput) discordgo.MessageComponent {
		return discordgo.ActionsRow{Components: []discordgo.MessageComponent{t}}
	}
	return answer{modal: &discordgo.InteractionResponseData{
		CustomID: newRFAModal, Title: "Log a telephone RFA",
		Components: []discordgo.MessageComponent{
			row(discordgo.TextInput{CustomID: fieldEmail, Label: "Caller's email (for the acknowledgement)", Style: discordgo.TextInputShort, MaxLength: 254}),
			row(discordgo.TextInput{CustomID: fieldName, Label: "Caller's name", Style: discordgo.TextInputShort, MaxLength: 100}),
			row(discordgo.TextInput{CustomID: fieldSubject, Label: "Subject", Style: discordgo.TextInputShort, Required: true, MaxLength: 200}),
			row(discordgo.TextInput{CustomID: fieldDesc, Label: "What the caller said", Style: discordgo.TextInputParagraph, Required: true, MaxLength: 4000}),
			row(discordgo.TextInput{CustomID: fieldReport, Label: "Report fields", Style: discordgo.TextInputParagraph, Value: strings.Join(tmpl, "\n"), MaxLength: 2000}),
		},
	}}, nil
}

// modalValues maps a modal's text inputs by custom id.
func modalValues(comps []discordgo.MessageComponent) map[string]string {
	out := map[string]string{}
	var walk func([]discordgo.MessageComponent)
	walk = func(cs []discordgo.MessageComponent) {
		for _, x := range cs {
			switch x := x.(type) {
			case *discordgo.ActionsRow:
				walk(x.Components)
			case discordgo.ActionsRow:
				walk(x.Components)
			case *discordgo.TextInput:
				out[x.CustomID] = strings.TrimSpace(x.Value)
			case discordgo.TextInput:
				out[x.CustomID] = strings.TrimSpace(x.Value)
			}
		}
	}
	walk(comps)
	return out
}

func (c *Console) logCall(ctx context.Context, by bot.Actor, v map[string]string) (answer, error) {
	caller := bot.Address{Name: v[fieldName]}
	if e := v[fieldEmail]; e != "" {
		a, err := mail.ParseAddress(e)
		if err != nil {
			return answer{}, fmt.Errorf("%q is not an email address", e)
		}
		caller.Email = a.Address
	}
	r, err := c.desk.LogCall(ctx, bot.PhoneCall{
		By: by, Caller: caller, Subject: v[fieldSubject], Description: v[fieldDesc],
		Report: bot.ParseReport("", v[fieldReport]),
	})
	if err != nil {
		return answer{}, err
	}
	return answer{text: fmt.Sprintf("%s logged %s from a telephone call: %s", by.Name, r.Ref(), Neutralise(r.Subject))}, nil
}

// queueEntry is one open RFA in /desk queue: what its line shows.
type queueEntry struct {
	ref, subject string
	severity     bot.Severity
	clock        *bot.ClockState // the next unmet clock with a due, if any
}

// runQueue lists the RFAs staff still work on (not cleared or closed) by
// their next SLA point. It reads the open RFAs only, a page at a time,
// and keeps just what their lines show.
func runQueue(ctx context.Context, c *Console, _ *invocation) (answer, error) {
	var q []queueEntry
	err := c.desk.ForEachOpenRFA(ctx, func(r *bot.RFA) error {
		if r.Status == bot.StatusCleared || r.Status == bot.StatusClosed {
			return nil
		}
		e := queueEntry{ref: r.Ref(), subject: r.Subject, severity: r.Severity}
		for _, cl := range c.clocks(r) {
			if cl.MetAt != nil || cl.Due.IsZero() {
				continue
			}
			if e.clock == nil || cl.Due.Before(e.clock.Due) {
				cl := cl
				e.clock = &cl
			}
		}
		q = append(q, e)
		return ctx.Err()
	})
	if err != nil {
		return answer{}, err
	}
	slices.SortStableFunc(q, func(a, b queueEntry) int {
		switch {
		case a.clock == nil && b.clock == nil:
			return 0
		case a.clock == nil:
			return 1
		case b.clock == nil:
			return -1
		}
		return a.clock.Due.Compare(b.clock.Due)
	})
	if len(q) == 0 {
		return answer{text: "No open RFAs.", ephemeral: true}, nil
	}
	var b strings.Builder
	b.WriteString(fmt.Sprintf("**Open RFAs (%d)**, by next SLA point:\n", len(q)))
	for n, e := range q {
		line := queueLine(e)
		if b.Len()+len(line) > maxContent-40 {
			b.WriteString(fmt.Sprintf("… and %d more", len(q)-n))
			break
		}
		b.WriteString(line)
	}
	return answer{text: b.String(), ephemeral: true}, nil
}

// atRisk is the share of a clock's time used from which it is shown at risk.
const atRisk = 0.75

func queueLine(e queueEntry) string {
	line := "• **" + e.ref + "** " + cut(Neutralise(e.subject), 80) + " — " + e.severity.Title()
	if e.clock == nil {
		return line + " — no SLA point due\n"
	}
	cl := e.clock
	used := 1.0
	if total := cl.Used + cl.Left; total > 0 {
		used = float64(cl.Used) / float64(total)
	}
	label := bot.ClockLabel(cl.Name)
	line += fmt.Sprintf(" — %s due <t:%d:R> (%d%% used)", strings.ToLower(label), cl.Due.Unix(), int(used*100))
	switch {
	case cl.BreachedAt != nil:
		line += " 🔥 **breached**"
	case used >= atRisk:
		line += " ⚠️ **at risk**"
	}
	if cl.Paused {
		line += " (paused)"
	}
	return line + "\n"
}
