package chat

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"

	"rfadesk/bot"
	"rfadesk/bot/workcal"
)

// releaseDesk is what the release commands need besides Desk; *bot.Desk
// has it. A console over a desk without it refuses /desk release.
type releaseDesk interface {
	Releases(ctx context.Context) ([]bot.ReleaseInfo, error)
	AddRelease(ctx context.Context, name string, day workcal.Date, kind bot.ReleaseKind) (bot.ReleaseInfo, error)
	ShipRelease(ctx context.Context, name, notes string, by bot.Actor) (int, error)
}

// runRelease plans the RFA's fix for a release (next-minor, next-major
// or a name; "ships" first adds or moves the named one). The desk counts
// it as shipped by the end of its date in the desk's time zone.
func runRelease(ctx context.Context, c *Console, in *invocation) (answer, error) {
	a := bot.StaffAction{Kind: bot.ActRelease, Release: in.str("name"), ShipsOn: in.str("ships")}
	if err := c.desk.Do(ctx, in.rfa.Num, a, in.by); err != nil {
		return answer{}, err
	}
	r, err := c.desk.RFA(ctx, in.rfa.Num)
	if err != nil || r.Release == nil {
		return answer{text: fmt.Sprintf("%s planned %s for release %s.", in.by.Name, in.rfa.Ref(), Neutralise(a.Release))}, nil
	}
	shipDay := r.Release.Ships.In(c.loc()).AddDate(0, 0, -1) // Ships is the end of the day
	return answer{text: fmt.Sprintf("%s planned %s for release %s, shipping %s.", in.by.Name, in.rfa.Ref(),
		Neutralise(r.Release.Name), shipDay.Format("Mon 2 Jan 2006"))}, nil
}

func releaseOptions() []*discordgo.ApplicationCommandOption {
	action := strOpt("action", "list, add (or move) or ship", true)
	for _, a := range []string{"list", "add", "ship"} {
		action.Choices = append(action.Choices, &discordgo.ApplicationCommandOptionChoice{Name: a, Value: a})
	}
	kind := strOpt("kind", "A new release's kind (default minor)", false)
	for _, k := range []bot.ReleaseKind{bot.ReleaseMinor, bot.ReleaseMajor} {
		kind.Choices = append(kind.Choices, &discordgo.ApplicationCommandOptionChoice{Name: string(k), Value: string(k)})
	}
	return []*discordgo.ApplicationCommandOption{action,
		strOpt("name", "The release's name (add, ship)", false),
		strOpt("date", "add: the day it ships, YYYY-MM-DD", false),
		strOpt("notes", "ship: the release notes, every RFA's resolution", false),
		kind}
}

// runDeskRelease is /desk release list|add|ship.
func runDeskRelease(ctx context.Context, c *Console, in *invocation) (answer, error) {
	rd, ok := c.desk.(releaseDesk)
	if !ok {
		return answer{}, fmt.Errorf("this desk has no release calendar: %w", bot.ErrNotAllowed)
	}
	name := in.str("name")
	switch in.str("action") {
	case "list":
		rels, err := rd.Releases(ctx)
		if err != nil {
			return answer{}, err
		}
		var b strings.Builder
		b.WriteString("Coming releases:")
		for i, r := range rels {
			if i == 15 {
				fmt.Fprintf(&b, "\n… and %d more", len(rels)-i)
				break
			}
			fmt.Fprintf(&b, "\n• **%s** (%s) %s", cut(Neutralise(r.Name), 64), r.Kind, releaseDay(r.Date))
		}
		return answer{text: b.String(), ephemeral: true}, nil
	case "add":
		day, err := workcal.ParseDate(in.str("date"))
		if name == "" || err != nil {
			return answer{}, errors.New("add needs the release's name and its date as YYYY-MM-DD; nothing was changed")
		}
		r, err := rd.AddRelease(ctx, name, day, bot.ReleaseKind(in.str("kind")))
		if err != nil {
			return answer{}, err
		}
		return answer{text: fmt.Sprintf("%s set release %s (%s) to ship %s.", in.by.Name, Neutralise(r.Name), r.Kind, releaseDay(r.Date))}, nil
	case "ship":
		notes := in.str("notes")
		if name == "" {
			return answer{}, errors.New("ship needs the release's name; nothing was changed")
		}
		n, err := rd.ShipRelease(ctx, name, notes, in.by)
		if err != nil {
			return answer{}, err
		}
		return answer{text: fmt.Sprintf("%s shipped release %s: %d RFAs cleared with the notes:\n%s", in.by.Name, Neutralise(name), n, quote(Neutralise(notes)))}, nil
	}
	return answer{}, errors.New("use action list, add or ship")
}

// releaseDay is a release's date for staff: "Fri 27 Nov 2026".
func releaseDay(d workcal.Date) string {
	return time.Date(d.Year, d.Month, d.Day, 12, 0, 0, 0, time.UTC).Format("Mon 2 Jan 2006")
}
