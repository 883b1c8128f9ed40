package chat

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
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

// staffText is a command whose one text option (opt) is the Text of a
// staff action of kind; done says what was done, for the answer.
func staffText(kind bot.StaffActionKind, opt, done string) func(context.Context, *Console, *invocation) (answer, error) {
	return func(ctx context.Context, c *Console, in *invocation) (answer, error) {
		text := in.str(opt)
		if err := c.desk.Do(ctx, in.rfa.Num, bot.StaffAction{Kind: kind, Text: text}, in.by); err != nil {
			return answer{}, err
		}
		return answer{text: fmt.Sprintf("%s %s %s (emailed to the requester):\n%s", in.by.Name, done, in.rfa.Ref(), quote(text))}, nil
	}
}

// commandTable lists every command, in registration order. Every
// command that changes an RFA translates to one bot.StaffAction.
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
			run:     staffText(bot.ActUpdate, "text", "posted a status update on")},
		{group: "rfa", name: "ask", desc: "Ask the requester a question; pauses the workaround clock", rfa: true,
			options: []*discordgo.ApplicationCommandOption{strOpt("text", "The question", true)},
			run:     staffText(bot.ActAsk, "text", "asked the requester on")},
		{group: "rfa", name: "workaround", desc: "Send a workaround; meets the workaround clock", rfa: true,
			options: []*discordgo.ApplicationCommandOption{strOpt("text", "The workaround", true)},
			run:     staffText(bot.ActWorkaround, "text", "sent a workaround on")},
		{group: "rfa", name: "clear", desc: "Clear the RFA: the requester is told and asked to confirm", rfa: true,
			options: []*discordgo.ApplicationCommandOption{strOpt("resolution", "What fixed it", true)},
			run:     staffText(bot.ActClear, "resolution", "cleared")},
		{group: "rfa", name: "reopen", desc: "Reopen a cleared or closed RFA", rfa: true,
			options: []*discordgo.ApplicationCommandOption{strOpt("reason", "Why", true)},
			run:     runReopen},
		{group: "rfa", name: "release", desc: "Plan the fix for a release; a Minor RFA is then due when it ships", rfa: true,
			options: []*discordgo.ApplicationCommandOption{strOpt("name", "next-minor, next-major or a release's name", true),
				strOpt("ships", "Adds or moves the named release to this date, YYYY-MM-DD", false)},
			run: runRelease},
		{group: "rfa", name: "fields", desc: "Correct report fields or the organisation (\"-\" clears one)", rfa: true,
			options: fieldOptions(), run: runFields},
		{group: "rfa", name: "link", desc: "Link the RFA to a known issue: clearing that one clears this one too", rfa: true,
			options: []*discordgo.ApplicationCommandOption{strOpt("parent", "The known issue's RFA, e.g. RFA-12", true)},
			run:     runLink},
		{group: "rfa", name: "unlink", desc: "Unlink the RFA from its known issue", rfa: true, run: runUnlink},
		{group: "rfa", name: "new", desc: "Log an RFA taken by telephone", run: runNew},
		{group: "desk", name: "queue", desc: "Open RFAs by their next SLA point", slow: true, run: runQueue},
		{group: "desk", name: "outage start", desc: "Declare an outage: affected schools are emailed, /status shows it", slow: true,
			options: []*discordgo.ApplicationCommandOption{strOpt("title", "What is wrong, as schools will read it", true),
				strOpt("components", "Affected service components, comma-separated", true),
				strOpt("organisations", "Affected organisations, comma-separated (default: every one)", false)},
			run: runOutageStart},
		{group: "desk", name: "outage update", desc: "Tell everyone told of an outage how it is going", slow: true,
			options: []*discordgo.ApplicationCommandOption{strOpt("id", "The outage's number", true), strOpt("text", "The update", true)},
			run:     runOutageUpdate},
		{group: "desk", name: "outage end", desc: "End an outage: its linked RFAs are cleared, everyone told gets the all-clear", slow: true,
			options: []*discordgo.ApplicationCommandOption{strOpt("id", "The outage's number", true), strOpt("resolution", "What fixed it", true)},
			run:     runOutageEnd},
		{group: "desk", name: "release", desc: "List, add, move or ship a release (shipping clears its RFAs)", slow: true,
			options: releaseOptions(), run: runDeskRelease}, // release.go
		{group: "desk", name: "surge", desc: "Hold a service's capacity reports during a one-off surge",
			options: []*discordgo.ApplicationCommandOption{strOpt("service", "The gauge's service, e.g. store", true),
				strOpt("reason", "Why (recorded as the contract's exception)", true),
				strOpt("hours", "How long, in hours (default 24)", false)},
			run: runSurge},
	}
}

func runSeverity(ctx context.Context, c *Console, in *invocation) (answer, error) {
	if err := c.desk.Do(ctx, in.rfa.Num, bot.StaffAction{Kind: bot.ActSeverity, Severity: in.str("level")}, in.by); err != nil {
		return answer{}, err
	}
	sev, _ := bot.ParseSeverity(in.str("level"))
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
	if err := c.desk.Do(ctx, in.rfa.Num, bot.StaffAction{Kind: bot.ActAssign, Assignee: who}, in.by); err != nil {
		return answer{}, err
	}
	return answer{text: fmt.Sprintf("%s assigned %s to %s.", in.by.Name, in.rfa.Ref(), who.Name)}, nil
}

func runReopen(ctx context.Context, c *Console, in *invocation) (answer, error) {
	reason := in.str("reason")
	if err := c.desk.Do(ctx, in.rfa.Num, bot.StaffAction{Kind: bot.ActReopen, Text: reason}, in.by); err != nil {
		return answer{}, err
	}
	return answer{text: fmt.Sprintf("%s reopened %s: %s", in.by.Name, in.rfa.Ref(), reason)}, nil
}

// runLink links the RFA to a parent: the parent's clearance clears it.
func runLink(ctx context.Context, c *Console, in *invocation) (answer, error) {
	a := bot.StaffAction{Kind: bot.ActLink, Parent: in.str("parent")}
	if err := c.desk.Do(ctx, in.rfa.Num, a, in.by); err != nil {
		return answer{}, err
	}
	parent, _ := bot.ParseRef(a.Parent)
	return answer{text: fmt.Sprintf("%s linked %s to %s: clearing %[3]s clears %[2]s too.", in.by.Name, in.rfa.Ref(), bot.FormatRef(parent))}, nil
}

func runUnlink(ctx context.Context, c *Console, in *invocation) (answer, error) {
	if err := c.desk.Do(ctx, in.rfa.Num, bot.StaffAction{Kind: bot.ActUnlink}, in.by); err != nil {
		return answer{}, err
	}
	return answer{text: fmt.Sprintf("%s unlinked %s from %s.", in.by.Name, in.rfa.Ref(), bot.FormatRef(in.rfa.Parent))}, nil
}

// surgeDesk is the desk's capacity side (*bot.Desk), used by /desk surge
// when the console's Desk has it.
type surgeDesk interface {
	DeclareSurge(ctx context.Context, service, reason string, length time.Duration, by bot.Actor) (bot.Surge, error)
}

// runSurge declares a surge: the service's capacity reports are held for
// its length, and the surge is recorded.
func runSurge(ctx context.Context, c *Console, in *invocation) (answer, error) {
	sd, ok := c.desk.(surgeDesk)
	if !ok {
		return answer{text: "⚠️ Capacity gauges are not available on this desk.", ephemeral: true}, nil
	}
	length := 24 * time.Hour
	if h := in.str("hours"); h != "" {
		n, err := strconv.ParseFloat(h, 64)
		if err != nil || !(n > 0 && n <= 31*24) {
			return answer{text: "⚠️ hours: give a number of hours from more than 0 to 744, e.g. 6. Nothing was changed.", ephemeral: true}, nil
		}
		length = time.Duration(math.Round(n * float64(time.Hour)))
	}
	s, err := sd.DeclareSurge(ctx, in.str("service"), in.str("reason"), length, in.by)
	if errors.Is(err, bot.ErrInvalid) {
		return answer{text: "⚠️ " + strings.TrimPrefix(strings.TrimSuffix(err.Error(), ": "+bot.ErrInvalid.Error()), "bot: ") + ". Nothing was changed.", ephemeral: true}, nil
	}
	if err != nil {
		return answer{}, err
	}
	loc := c.loc()
	return answer{text: fmt.Sprintf("%s declared a surge on %s until %s; its capacity reports are held until then:\n%s",
		in.by.Name, s.Service, s.Until.In(loc).Format("Mon 2 Jan 15:04"), quote(s.Reason))}, nil
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
		sub := &discordgo.ApplicationCommandOption{
			Type: discordgo.ApplicationCommandOptionSubCommand, Name: c.name, Description: c.desc, Options: opts,
		}
		if first, rest, ok := strings.Cut(c.name, " "); ok { // "outage start": a subcommand group
			sub.Name = rest
			i := slices.IndexFunc(g.Options, func(o *discordgo.ApplicationCommandOption) bool { return o.Name == first })
			if i < 0 {
				g.Options = append(g.Options, &discordgo.ApplicationCommandOption{
					Type: discordgo.ApplicationCommandOptionSubCommandGroup, Name: first, Description: groupDescription(c.group + " " + first),
				})
				i = len(g.Options) - 1
			}
			g.Options[i].Options = append(g.Options[i].Options, sub)
			continue
		}
		g.Options = append(g.Options, sub)
	}
	return out
}

func groupDescription(group string) string {
	switch group {
	case "rfa":
		return "Work an RFA"
	case "desk":
		return "The service desk"
	case "desk outage":
		return "Service notices: tell schools of an outage"
	}
	return group
}
