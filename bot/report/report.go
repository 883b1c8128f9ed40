// Package report reads the fields the support contract asks every request
// for assistance to carry out of a mail's subject and new text: the site
// location, the service component(s) affected, the action already taken
// (at which support level), the exact error message and whether the
// school can replicate the problem. A support tier the school volunteers
// is read as an optional extra.
//
// Contract: Parse is pure, never fails and is safe for concurrent use; an
// empty field is preferred to a wrong guess. The package knows nothing of
// RFAs or the desk and must not import rfadesk/bot: bot imports it and
// converts a Report to bot.Report with a plain struct conversion, so the
// two types keep the same fields, in the same order, with the same types.
package report

// Replicate answers "can the school replicate the problem?".
type Replicate string

// The answers to "can the school replicate the problem?".
const (
	ReplicateUnknown Replicate = "unknown"
	ReplicateYes     Replicate = "yes"
	ReplicateNo      Replicate = "no"
)

// Report holds the fields read from one mail. Its layout and JSON names
// are bot.Report's (see the package comment); the test corpus is JSON.
type Report struct {
	Site         string    `json:"site"`
	Components   []string  `json:"components"`
	Level        string    `json:"level"`        // support tier the school volunteered (optional extra)
	ActionTaken  string    `json:"action_taken"` // action already taken, led by its support level when one was named
	ErrorMessage string    `json:"error_message"`
	CanReplicate Replicate `json:"can_replicate"`
}

// fieldKey names one report field while parsing.
type fieldKey string

const (
	fieldSite         fieldKey = "site"
	fieldComponents   fieldKey = "components"
	fieldLevel        fieldKey = "level"
	fieldActionTaken  fieldKey = "action_taken"
	fieldErrorMessage fieldKey = "error_message"
	fieldCanReplicate fieldKey = "can_replicate"
)
