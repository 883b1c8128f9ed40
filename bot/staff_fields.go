package bot

import (
	"context"
	"slices"
	"strings"
)

// FieldChanges are staff's corrections to an RFA's report fields and
// organisation (the set_fields action). A nil field is left as it is; a
// field set to "" (or no components) clears it.
type FieldChanges struct {
	Site         *string
	Components   *[]string
	ActionTaken  *string
	ErrorMessage *string
	// CanReplicate is "yes", "no" or "unknown" (any case).
	CanReplicate *string
	// Organisation is the school's name. A configured organisation's
	// name (any case) also sets its trust; any other name clears the
	// trust.
	Organisation *string
}

// Event kind recorded by set_fields.
const (
	EventFieldsSet EventKind = "fields-set" // Text: "field: value; ..." as set by staff
)

// maxFieldText bounds one corrected field's text, in bytes; the number of
// components is bounded by maxComponents, as for parsed reports.
const maxFieldText = 2000

// empty reports whether no field is given.
func (f FieldChanges) empty() bool {
	return f.Site == nil && f.Components == nil && f.ActionTaken == nil && f.ErrorMessage == nil &&
		f.CanReplicate == nil && f.Organisation == nil
}

func (f FieldChanges) validate() error {
	if f.empty() {
		return invalid("set_fields needs at least one of site, components, action_taken, error_message, can_replicate, organisation")
	}
	for name, p := range map[string]*string{FieldSite: f.Site, FieldActionTaken: f.ActionTaken,
		FieldErrorMessage: f.ErrorMessage, "organisation": f.Organisation} {
		if p != nil && len(*p) > maxFieldText {
			return invalid("%s is longer than %d bytes", name, maxFieldText)
		}
	}
	if f.Components != nil {
		if len(*f.Components) > maxComponents {
			return invalid("components lists more than %d components", maxComponents)
		}
		for _, c := range *f.Components {
			if len(c) > maxFieldText {
				return invalid("a component is longer than %d bytes", maxFieldText)
			}
		}
	}
	if f.CanReplicate != nil {
		if _, ok := replicateValue(*f.CanReplicate); !ok {
			return invalid("%q is not an answer to can_replicate: use yes, no or unknown", *f.CanReplicate)
		}
	}
	return nil
}

func replicateValue(s string) (Replicate, bool) {
	for _, v := range []Replicate{ReplicateYes, ReplicateNo, ReplicateUnknown} {
		if strings.EqualFold(strings.TrimSpace(s), string(v)) {
			return v, true
		}
	}
	return "", false
}

// oneLine cleans a single-line field: bidi controls removed, whitespace
// runs (newlines too) made one space.
func oneLine(s string) string {
	return strings.Join(strings.Fields(NeutralizeBidi(s)), " ")
}

// setFields applies staff's corrections to RFA num, records them as one
// attributed event and refreshes the RFA's chat card. Values equal to
// the current ones are skipped; if nothing changes, nothing is recorded.
func (d *Desk) setFields(ctx context.Context, num uint64, f FieldChanges, by Actor) error {
	return d.act(ctx, num, func(tx Tx, r *RFA) error {
		var changed []string
		setText := func(dst *string, src *string, name string, clean func(string) string) {
			if src == nil {
				return
			}
			if v := clean(*src); v != *dst {
				*dst = v
				changed = append(changed, name+": "+quoteField(v))
			}
		}
		multiLine := func(s string) string { return strings.TrimSpace(NeutralizeBidi(s)) }
		rep := &r.Report
		setText(&rep.Site, f.Site, FieldSite, oneLine)
		if f.Components != nil {
			var comps []string
			for _, c := range *f.Components {
				if c = oneLine(c); c != "" && !slices.Contains(comps, c) {
					comps = append(comps, c)
				}
			}
			if !slices.Equal(comps, rep.Components) {
				rep.Components = comps
				changed = append(changed, FieldComponents+": "+quoteField(strings.Join(comps, ", ")))
			}
		}
		setText(&rep.ActionTaken, f.ActionTaken, FieldActionTaken, multiLine)
		setText(&rep.ErrorMessage, f.ErrorMessage, FieldErrorMessage, multiLine)
		if f.CanReplicate != nil {
			if v, _ := replicateValue(*f.CanReplicate); v != rep.CanReplicate {
				rep.CanReplicate = v
				changed = append(changed, FieldCanReplicate+": "+string(v))
			}
		}
		if f.Organisation != nil {
			name, trust := d.organisationNamed(oneLine(*f.Organisation))
			if name != r.Organisation || trust != r.Trust {
				r.Organisation, r.Trust = name, trust
				changed = append(changed, "organisation: "+quoteField(name))
			}
		}
		if len(changed) == 0 {
			return nil
		}
		r.addEvent(d.now(), EventFieldsSet, by.String(), strings.Join(changed, "; "))
		return d.enqueueChat(tx, r.Num, &ChatPost{Op: ChatCard})
	})
}

// organisationNamed returns the configured organisation called name (any
// case) with its trust, or name with no trust when none is.
func (d *Desk) organisationNamed(name string) (string, string) {
	for _, o := range d.cfg.Organisations {
		if strings.EqualFold(o.Name, name) {
			return o.Name, o.Trust
		}
	}
	return name, ""
}

// quoteField shows a field's new value in the history: quoted, cut to
// 200 bytes, "(cleared)" when empty.
func quoteField(v string) string {
	if v == "" {
		return "(cleared)"
	}
	return `"` + truncate(v, 200) + `"`
}
