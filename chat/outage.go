package chat

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"rfadesk/bot"
)

// The /desk outage commands: service notices (bot/outage.go).

// splitList reads a comma-separated list, dropping empty entries.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// outageID reads the "id" option: "3" or "#3".
func outageID(in *invocation) (uint64, error) {
	id, err := strconv.ParseUint(strings.TrimPrefix(in.str("id"), "#"), 10, 64)
	if err != nil || id == 0 {
		return 0, fmt.Errorf("%w: give the outage's number, e.g. 3", bot.ErrInvalid)
	}
	return id, nil
}

func runOutageStart(ctx context.Context, c *Console, in *invocation) (answer, error) {
	s := bot.OutageStart{Title: in.str("title"), Components: splitList(in.str("components")), Organisations: splitList(in.str("organisations"))}
	id, err := c.desk.StartOutage(ctx, s, in.by)
	if err != nil {
		return answer{}, err
	}
	scope := "every organisation"
	if len(s.Organisations) > 0 {
		scope = strings.Join(s.Organisations, ", ")
	}
	return answer{text: fmt.Sprintf("%s started outage %d: %s (%s; %s). The announcement is on its way; end it with /desk outage end id:%[2]d.",
		in.by.Name, id, s.Title, strings.Join(s.Components, ", "), scope)}, nil
}

func runOutageUpdate(ctx context.Context, c *Console, in *invocation) (answer, error) {
	id, err := outageID(in)
	if err != nil {
		return answer{}, err
	}
	if err := c.desk.UpdateOutage(ctx, id, in.str("text"), in.by); err != nil {
		return answer{}, err
	}
	return answer{text: fmt.Sprintf("%s updated outage %d:\n%s", in.by.Name, id, quote(in.str("text")))}, nil
}

func runOutageEnd(ctx context.Context, c *Console, in *invocation) (answer, error) {
	id, err := outageID(in)
	if err != nil {
		return answer{}, err
	}
	if err := c.desk.EndOutage(ctx, id, in.str("resolution"), in.by); err != nil {
		return answer{}, err
	}
	return answer{text: fmt.Sprintf("%s ended outage %d; its linked RFAs are cleared and everyone told gets the all-clear:\n%s", in.by.Name, id, quote(in.str("resolution")))}, nil
}
