package chat

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"

	"rfadesk/bot"
)

// command is one slash subcommand: "/<group> <name>". Adding a command
// is adding an entry to commandTable; registration, the staff check,
// resolving the RFA and answering are shared.
type command struct {
	group, name, desc string
	options           []*discordgo.ApplicationCommandOption
	// rfa: the command acts on one RFA, implied in its thread or named
	// by the optional "ref" option (added automatically).
	rfa bool
	// slow: the command may outlast Discord's three-second answer window;
	// its answer is deferred when it does (Console.answerLate).
	slow bool
	run  func(ctx context.Context, c *Console, in *invocation) (answer, error)
}

// invocation is one use of a command by a staff member.
type invocation struct {
	i    *discordgo.Interaction
	by   bot.Actor
	rfa  *bot.RFA // set for rfa commands
	opts map[string]*discordgo.ApplicationCommandInteractionDataOption
	res  *discordgo.ApplicationCommandInteractionDataResolved
}

func (in *invocation) str(name string) string {
	if o := in.opts[name]; o != nil && o.Type == discordgo.ApplicationCommandOptionString {
		return strings.TrimSpace(o.StringValue())
	}
	return ""
}

// answer is what an interaction is answered with.
type answer struct {
	text      string
	ephemeral bool
	modal     *discordgo.InteractionResponseData
}

func strOpt(name, desc string, required bool) *discordgo.ApplicationCommandOption {
	return &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionString, Name: name,
		Description: desc, Required: required, MaxLength: 1800}
}

// staffText is a command whose text is mailed to the requester through
// one desk method.
func staffText(opt string, act func(Desk) func(context.Context, uint64, bot.StaffMessage) error, done string) func(context.Context, *Console, *invocation) (answer, error) {
	return func(ctx context.Context, c *Console, in *invocation) (answer, error) {
		text := in.str(opt)
		if err := act(c.desk)(ctx, in.rfa.Num, bot.StaffMessage{By: in.by, Text: text}); err != nil {
			return answer{}, err
		}
		return answer{text: fmt.Sprintf("%s %s %s (emailed to the requester):\n%s", in.by.Name, done, in.rfa.Ref(), quote(text))}, nil
	}
}

// commandTable lists every command, in registration order.
func commandTable() []*command {
	sevChoices := make([]*discordgo.ApplicationCommandOptionChoice, len(bot.Severities))
	for i, s := range bot.Severities {
		sevChoices[i] = &discordgo.ApplicationCommandOptionChoice{Name: s.Title(), Value: string(s)}
	}
	return []*command{
		{group: "rfa", name: "severity", desc: "Set the severity; recomputes the SLA clocks", rfa: true,
			options: []*discordgo.ApplicationCommandOption{{Type: discordgo.ApplicationCommandOptionString,
				Name: "level", Description: "Severity", Required: true, Choices: sevChoices}},
			run: runSeverity},
		{group: "rfa", name: "assign", desc: "Assign the RFA (default: to you)", rfa: true,
			options: []*discordgo.ApplicationCommandOption{{Type: discordgo.ApplicationCommandOptionUser,
				Name: "member", Description: "Who takes it (default: you)"}},
			run: runAssign},
		{group: "rfa", name: "update", desc: "Post a status update (status page and email)", rfa: true,
			options: []*discordgo.ApplicationCommandOption{strOpt("text", "The update", true)},
			run:     staffText("text", func(d Desk) func(context.Context, uint64, bot.StaffMessage) error { return d.PostUpdate }, "posted a status update on")},
		{group: "rfa", name: "ask", desc: "Ask the requester a question; pauses the workaround clock", rfa: true,
			options: []*discordgo.ApplicationCommandOption{strOpt("text", "The question", true)},
			run:     staffText("text", func(d Desk) func(context.Context, uint64, bot.StaffMessage) error { return d.Ask }, "asked the requester on")},
		{group: "rfa", name: "workaround", desc: "Send a workaround; meets the workaround clock", rfa: true,
			options: []*discordgo.ApplicationCommandOption{strOpt("text", "The workaround", true)},
			run:     staffText("text", func(d Desk) func(context.Context, uint64, bot.StaffMessage) error { return d.Workaround }, "sent a workaround on")},
		{group: "rfa", name: "clear", desc: "Clear the RFA: the requester is told and asked to confirm", rfa: true,
			options: []*discordgo.ApplicationCommandOption{strOpt("resolution", "What fixed it", true)},
			run:     staffText("resolution", func(d Desk) func(context.Context, uint64, bot.StaffMessage) error { return d.Clear }, "cleared")},
		{group: "rfa", name: "reopen", desc: "Reopen a cleared or closed RFA", rfa: true,
			options: []*discordgo.ApplicationCommandOption{strOpt("reason", "Why", true)},
			run:     runReopen},
		{group: "rfa", name: "release", desc: "Plan the fix for a release; a Minor RFA is then due when it ships", rfa: true,
			options: []*discordgo.ApplicationCommandOption{strOpt("name", "The release, e.g. 2026.12", true), strOpt("ships", "Ship date, YYYY-MM-DD", true)},
			run:     runRelease},
		{group: "rfa", name: "new", desc: "Log an RFA taken by telephone", run: runNew},
		{group: "desk", name: "queue", desc: "Open RFAs by their next SLA point", slow: true, run: runQueue},
	}
}

func runSeverity(ctx context.Context, c *Console, in *invocation) (answer, error) {
	sev, err := bot.ParseSeverity(in.str("level"))
	if err != nil {
		return answer{}, err
	}
	if err := c.desk.SetSeverity(ctx, in.rfa.Num, sev, in.by); err != nil {
		return answer{}, err
	}
	text := fmt.Sprintf("%s set %s to %s.", in.by.Name, in.rfa.Ref(), sev.Title())
	if r, err := c.desk.RFA(ctx, in.rfa.Num); err == nil {
		for _, cl := range c.clocks(r) {
			text += "\n" + clockLine(cl)
		}
	}
	return answer{text: text}, nil
}

func runAssign(ctx context.Context, c *Console, in *invocation) (answer, error) {
	who := in.by
	if o := in.opts["member"]; o != nil && in.res != nil {
		id, _ := o.Value.(string)
		u := in.res.Users[id]
		if u == nil {
			u = &discordgo.User{ID: id}
		}
		who = actor(in.res.Members[id], u)
	}
	if err := c.desk.Assign(ctx, in.rfa.Num, who, in.by); err != nil {
		return answer{}, err
	}
	return answer{text: fmt.Sprintf("%s assigned %s to %s.", in.by.Name, in.rfa.Ref(), who.Name)}, nil
}

func runReopen(ctx context.Context, c *Console, in *invocation) (answer, error) {
	reason := in.str("reason")
	if err := c.desk.Reopen(ctx, in.rfa.Num, reason, in.by); err != nil {
		return answer{}, err
	}
	return answer{text: fmt.Sprintf("%s reopened %s: %s", in.by.Name, in.rfa.Ref(), reason)}, nil
}

// runRelease plans the RFA's fix for a release. The release counts as
// shipped by the end of its ship date in the desk's time zone.
func runRelease(ctx context.Context, c *Console, in *invocation) (answer, error) {
	day, err := time.ParseInLocation(time.DateOnly, in.str("ships"), c.loc())
	if err != nil {
		return answer{}, fmt.Errorf("%q is not a date: write it as YYYY-MM-DD", in.str("ships"))
	}
	rel := bot.Release{Name: in.str("name"), Ships: day.AddDate(0, 0, 1)}
	if err := c.desk.AssignRelease(ctx, in.rfa.Num, rel, in.by); err != nil {
		return answer{}, err
	}
	return answer{text: fmt.Sprintf("%s planned %s for release %s, shipping %s.", in.by.Name, in.rfa.Ref(), rel.Name, day.Format("Mon 2 Jan 2006"))}, nil
}

// quote renders staff text as a Discord block quote.
func quote(s string) string {
	return "> " + strings.ReplaceAll(strings.TrimSpace(s), "\n", "\n> ")
}

// commandSet indexes the table.
type commandSet struct {
	list  []*command
	byKey map[string]*command
}

func newCommandSet() *commandSet {
	cs := &commandSet{list: commandTable(), byKey: map[string]*command{}}
	for _, c := range cs.list {
		cs.byKey[c.group+" "+c.name] = c
	}
	return cs
}

// definitions are the guild's application commands: one per group, each
// command a subcommand.
func (cs *commandSet) definitions() []*discordgo.ApplicationCommand {
	var out []*discordgo.ApplicationCommand
	groups := map[string]*discordgo.ApplicationCommand{}
	for _, c := range cs.list {
		g := groups[c.group]
		if g == nil {
			g = &discordgo.ApplicationCommand{Name: c.group, Type: discordgo.ChatApplicationCommand,
				Description: groupDescription(c.group)}
			groups[c.group] = g
			out = append(out, g)
		}
		opts := append([]*discordgo.ApplicationCommandOption(nil), c.options...)
		if c.rfa {
			opts = append(opts, strOpt("ref", "The RFA (RFA-N); default: this thread's", false))
		}
		g.Options = append(g.Options, &discordgo.ApplicationCommandOption{
			Type: discordgo.ApplicationCommandOptionSubCommand, Name: c.name, Description: c.desc, Options: opts,
		})
	}
	return out
}

func groupDescription(group string) string {
	switch group {
	case "rfa":
		return "Work an RFA"
	case "desk":
		return "The service desk"
	}
	return group
}
