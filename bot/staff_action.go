package bot

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"rfadesk/bot/workcal"
)

// StaffActionKind names one staff action. The names are the admin API's
// ("severity", "set_fields"); chat commands map onto the same set.
type StaffActionKind string

// The staff actions. Every way staff work an RFA (chat command, admin
// API) translates to one of these and goes through Desk.Do.
const (
	ActSeverity   StaffActionKind = "severity"   // Severity
	ActAssign     StaffActionKind = "assign"     // Assignee
	ActReply      StaffActionKind = "reply"      // Text, mailed; meets the response clock
	ActNote       StaffActionKind = "note"       // Text, internal: never mailed
	ActUpdate     StaffActionKind = "update"     // Text, status page and mail
	ActAsk        StaffActionKind = "ask"        // Text, mailed; pauses the workaround clock
	ActWorkaround StaffActionKind = "workaround" // Text, mailed; meets the workaround clock
	ActClear      StaffActionKind = "clear"      // Text: the resolution, mailed
	ActReopen     StaffActionKind = "reopen"     // Text: the reason
	ActRelease    StaffActionKind = "release"    // Release (next-minor, next-major, a name), ShipsOn
	ActSetFields  StaffActionKind = "set_fields" // Fields
	ActLink       StaffActionKind = "link"       // Parent: clearing it clears this RFA (links.go)
	ActUnlink     StaffActionKind = "unlink"     // no fields
)

// StaffActionKinds lists every staff action, in the order they are
// documented.
var StaffActionKinds = []StaffActionKind{ActSeverity, ActAssign, ActReply, ActNote, ActUpdate, ActAsk,
	ActWorkaround, ActClear, ActReopen, ActRelease, ActSetFields, ActLink, ActUnlink}

// StaffAction is one thing a staff member does to an RFA, however they
// asked for it. Only the fields its Kind uses are read; see the Act*
// constants.
type StaffAction struct {
	Kind StaffActionKind
	// Text is the message of reply, note, update, ask and workaround,
	// the resolution of clear and the reason of reopen. Required.
	Text string
	// Severity is severity's level, in any case ("critical").
	Severity string
	// Assignee is who assign makes the owner (a name is enough).
	Assignee Actor
	// Release is release's: next-minor, next-major or a release's name
	// (release.go). ShipsOn (YYYY-MM-DD, a date in the desk's time zone),
	// optional, first adds the named release on that day or moves it
	// there; the release counts as shipped at the end of its day.
	Release string
	ShipsOn string
	// Fields are set_fields' corrections.
	Fields FieldChanges
	// Parent is link's: the reference of the RFA to link to ("RFA-12").
	Parent string
	// Attachments go with a mailed message (reply, update, ask,
	// workaround, clear).
	Attachments []Attachment
	// Origin is the chat message a reply or note was written as, if any
	// (see StaffMessage.Origin).
	Origin *ChatOrigin
}

// ErrInvalid is matched (errors.Is) by the errors of a staff action or a
// phone RFA whose input is wrong: an unknown action, a missing text, a
// bad date. The error's message says what is wrong, for the person who
// sent it; nothing was changed.
var ErrInvalid = errors.New("invalid input")

// invalidError is an ErrInvalid whose message is only the problem.
type invalidError struct{ msg string }

func (e *invalidError) Error() string        { return e.msg }
func (e *invalidError) Is(target error) bool { return target == ErrInvalid }

func invalid(format string, args ...any) error {
	return &invalidError{msg: fmt.Sprintf(format, args...)}
}

// maxStaffText bounds the text of one staff action, in bytes.
const maxStaffText = 16 << 10

// Do performs one staff action on RFA num on behalf of by, in one
// transaction: the RFA's history records it with by as the actor, and its
// mail and chat-card refresh are queued with it. It returns an error
// matching ErrInvalid when the action's input is wrong (checked before
// the RFA is read, or, for link, when the parent does not exist or is
// num itself), ErrNotFound when there is no RFA num, and
// ErrNotAllowed when the action does not fit the RFA's state (clearing a
// cleared RFA). On any error nothing was changed.
func (d *Desk) Do(ctx context.Context, num uint64, a StaffAction, by Actor) error {
	if err := a.validate(); err != nil {
		return err
	}
	msg := StaffMessage{By: by, Text: strings.TrimSpace(a.Text), Attachments: a.Attachments, Origin: a.Origin}
	switch a.Kind {
	case ActSeverity:
		sev, _ := ParseSeverity(a.Severity)
		return d.SetSeverity(ctx, num, sev, by)
	case ActAssign:
		return d.Assign(ctx, num, a.Assignee, by)
	case ActReply:
		return d.Reply(ctx, num, msg)
	case ActNote:
		msg.Internal, msg.Attachments = true, nil
		return d.Reply(ctx, num, msg)
	case ActUpdate:
		return d.PostUpdate(ctx, num, msg)
	case ActAsk:
		return d.Ask(ctx, num, msg)
	case ActWorkaround:
		return d.Workaround(ctx, num, msg)
	case ActClear:
		return d.Clear(ctx, num, msg)
	case ActReopen:
		return d.Reopen(ctx, num, msg.Text, by)
	case ActRelease:
		if a.ShipsOn != "" {
			day, _ := workcal.ParseDate(a.ShipsOn)
			if _, err := d.AddRelease(ctx, a.Release, day, ""); err != nil {
				return err
			}
		}
		return d.PlanRelease(ctx, num, a.Release, by)
	case ActSetFields:
		return d.setFields(ctx, num, a.Fields, by)
	case ActLink:
		parent, _ := ParseRef(strings.TrimSpace(a.Parent))
		return d.Link(ctx, num, parent, by)
	case ActUnlink:
		return d.Unlink(ctx, num, by)
	}
	panic("bot: StaffAction.validate let through " + string(a.Kind))
}

// validate checks what can be checked without the RFA.
func (a StaffAction) validate() error {
	needText := func(what string) error {
		switch t := strings.TrimSpace(a.Text); {
		case t == "":
			return invalid("%s needs its text", what)
		case len(t) > maxStaffText:
			return invalid("the text of %s is longer than %d bytes", what, maxStaffText)
		}
		return nil
	}
	switch a.Kind {
	case ActSeverity:
		if _, err := ParseSeverity(a.Severity); err != nil {
			return invalid("%q is not a severity: use critical, serious, moderate or minor", a.Severity)
		}
	case ActAssign:
		if strings.TrimSpace(a.Assignee.Name) == "" && strings.TrimSpace(a.Assignee.ID) == "" {
			return invalid("assign needs who to assign it to")
		}
	case ActReply, ActNote, ActUpdate, ActAsk, ActWorkaround:
		return needText(string(a.Kind))
	case ActClear:
		return needText("clear (the resolution)")
	case ActReopen:
		return needText("reopen (the reason)")
	case ActRelease:
		if strings.TrimSpace(a.Release) == "" {
			return invalid("release needs the release's name")
		}
		if _, err := workcal.ParseDate(a.ShipsOn); a.ShipsOn != "" && err != nil {
			return invalid("%q is not a ship date: write it as YYYY-MM-DD", a.ShipsOn)
		}
	case ActSetFields:
		return a.Fields.validate()
	case ActLink:
		if _, err := ParseRef(strings.TrimSpace(a.Parent)); err != nil {
			return invalid("link needs the parent RFA as RFA-N, not %q", a.Parent)
		}
	case ActUnlink:
	case "":
		return invalid("no action given: use one of %s", kindList())
	default:
		return invalid("%q is not an action: use one of %s", a.Kind, kindList())
	}
	return nil
}

func kindList() string {
	names := make([]string, len(StaffActionKinds))
	for i, k := range StaffActionKinds {
		names[i] = string(k)
	}
	return strings.Join(names, ", ")
}

// calendar is the desk's working calendar.
func (d *Desk) calendar() *workcal.Calendar { return d.jeop.policy().Calendar }
