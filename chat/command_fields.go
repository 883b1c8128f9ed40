package chat

import (
	"context"
	"fmt"
	"strings"

	"github.com/bwmarrin/discordgo"

	"rfadesk/bot"
)

// clearValue, given as a /rfa fields option, clears that field (Discord
// cannot send an empty option).
const clearValue = "-"

// Options of /rfa fields: the report fields staff may correct, and the
// organisation.
const (
	optSite         = "site"
	optComponents   = "components"
	optActionTaken  = "action_taken"
	optErrorMessage = "error_message"
	optCanReplicate = "can_replicate"
	optOrganisation = "organisation"
)

// fieldOptions are /rfa fields' options, every one optional.
func fieldOptions() []*discordgo.ApplicationCommandOption {
	opt := func(name, desc string) *discordgo.ApplicationCommandOption {
		return strOpt(name, desc, false)
	}
	replicate := opt(optCanReplicate, bot.FieldLabel(bot.FieldCanReplicate))
	replicate.Choices = []*discordgo.ApplicationCommandOptionChoice{
		{Name: "Yes", Value: string(bot.ReplicateYes)},
		{Name: "No", Value: string(bot.ReplicateNo)},
		{Name: "Unknown", Value: string(bot.ReplicateUnknown)},
	}
	return []*discordgo.ApplicationCommandOption{
		opt(optSite, bot.FieldLabel(bot.FieldSite)),
		opt(optComponents, bot.FieldLabel(bot.FieldComponents)+", separated by commas"),
		opt(optActionTaken, bot.FieldLabel(bot.FieldActionTaken)),
		opt(optErrorMessage, bot.FieldLabel(bot.FieldErrorMessage)),
		replicate,
		opt(optOrganisation, "The school (a configured name also sets its trust)"),
	}
}

// runFields translates /rfa fields into a set_fields staff action. Only
// the options given are changed; "-" clears a field.
func runFields(ctx context.Context, c *Console, in *invocation) (answer, error) {
	var fc bot.FieldChanges
	var said []string
	text := func(name string) *string {
		o := in.opts[name]
		if o == nil {
			return nil
		}
		v := in.str(name)
		if v == clearValue {
			v = ""
		}
		shown := "(cleared)"
		if v != "" {
			shown = cut(Neutralise(v), 200)
		}
		said = append(said, name+": "+shown)
		return &v
	}
	fc.Site = text(optSite)
	if v := text(optComponents); v != nil {
		comps := []string{}
		for _, p := range strings.Split(*v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				comps = append(comps, p)
			}
		}
		fc.Components = &comps
	}
	fc.ActionTaken = text(optActionTaken)
	fc.ErrorMessage = text(optErrorMessage)
	fc.CanReplicate = text(optCanReplicate)
	fc.Organisation = text(optOrganisation)
	if err := c.desk.Do(ctx, in.rfa.Num, bot.StaffAction{Kind: bot.ActSetFields, Fields: fc}, in.by); err != nil {
		return answer{}, err
	}
	return answer{text: fmt.Sprintf("%s corrected %s:\n%s", in.by.Name, in.rfa.Ref(), strings.Join(said, "\n"))}, nil
}
