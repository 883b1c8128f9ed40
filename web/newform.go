package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"rfadesk/bot"
)

// This file reads the web form of GET /new: its bounded multipart body,
// its fields, and the anti-forgery field every portal form carries.

// Bounds of one submission. Browsers are told the text bounds (maxlength);
// the server enforces them all.
const (
	maxSubmitFiles    = 5
	maxSubmitFilesSum = 20 << 20 // all files of one submission together
	maxSubmitParts    = 100      // form fields and files in one body
	// maxSubmitText is what a body may hold besides the files: every
	// text field at its bound in 4-byte characters, plus framing.
	maxSubmitText = 384 << 10
)

// formMax are the bounds of the form's text fields, in characters (what
// the template's maxlength attributes say, and more than any use needs).
type formMax struct {
	Name, Email, Subject, Field, Text, Description int
}

var submitMax = formMax{Name: 200, Email: 254, Subject: 200, Field: 500, Text: 8 << 10, Description: 32 << 10}

// fieldBound is the character bound of form field name; 0 for a field the
// form does not have (its value is not read).
func fieldBound(name string) int {
	switch name {
	case "name":
		return submitMax.Name
	case "email":
		return submitMax.Email
	case "subject":
		return submitMax.Subject
	case "site", "components", "component", "can_replicate", "f":
		return submitMax.Field
	case "action_taken", "error_message":
		return submitMax.Text
	case "description":
		return submitMax.Description
	}
	return 0
}

// submitted is the form as posted, cleaned: what the form page shows
// again when something is wrong.
type submitted struct {
	Form                                string // the anti-forgery field
	Name, Email, Subject, Site          string
	ComponentsText                      string   // free-text components (no list configured)
	Components                          []string // ticked components (list configured)
	ActionTaken, ErrorMessage           string
	CanReplicate                        string // "yes", "no" or ""
	Description                         string
	Files                               []bot.Attachment
	HadFiles                            bool // files were chosen (shown again: choose again)
	Problems                            []string
	bodyTooLarge                        bool
	unknownComponent, tooManyComponents bool
	tooLong                             map[string]bool
}

// readSubmission reads a multipart body part by part: no temporary files,
// each text field and file read up to its bound only, so memory is
// bounded by the body cap. A field or file over its bound, a file past
// the count or total, or a component not in components become Problems;
// an unreadable body is an error.
func (p *portal) readSubmission(r *http.Request) (*submitted, error) {
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, err
	}
	s := &submitted{tooLong: map[string]bool{}}
	var total int64
	for parts := 0; ; parts++ {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
				s.bodyTooLarge = true
				return s, nil
			}
			return nil, err
		}
		if parts >= maxSubmitParts {
			return nil, errors.New("web: too many form parts")
		}
		if part.FormName() == "files" {
			if err := p.readFile(s, part, &total); err != nil {
				return s.tooLarge(err)
			}
			continue
		}
		bound := fieldBound(part.FormName())
		if bound == 0 {
			continue // not a field of the form: not read
		}
		// The bound counts characters, as the form's maxlength does (a
		// line break as one); a character is up to 4 bytes.
		b, err := io.ReadAll(io.LimitReader(part, 4*int64(bound)+1))
		if err != nil {
			return s.tooLarge(err)
		}
		v := cleanText(string(b))
		if len(b) > 4*bound || utf8.RuneCountInString(v) > bound {
			s.tooLong[part.FormName()] = true
			continue
		}
		p.setField(s, part.FormName(), v)
	}
	return s, nil
}

// tooLarge turns a body over its cap into a problem; any other read error
// is returned.
func (s *submitted) tooLarge(err error) (*submitted, error) {
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		s.bodyTooLarge = true
		return s, nil
	}
	return nil, err
}

// readFile reads one file part within the per-file cap, the count and
// the total; a part with no file chosen is skipped.
func (p *portal) readFile(s *submitted, part *multipart.Part, total *int64) error {
	b, err := io.ReadAll(io.LimitReader(part, p.maxFile+1))
	if err != nil {
		return err
	}
	if part.FileName() == "" && len(b) == 0 {
		return nil // the file input left empty
	}
	s.HadFiles = true
	name := cleanText(part.FileName())
	switch {
	case p.maxFile <= 0:
		s.Problems = append(s.Problems, "This form does not take attachments: email them to us after you get your reference.")
	case len(s.Files) >= maxSubmitFiles:
		s.Problems = append(s.Problems, fmt.Sprintf("Attach at most %d files.", maxSubmitFiles))
	case int64(len(b)) > p.maxFile:
		s.Problems = append(s.Problems, fmt.Sprintf("%q is larger than %s.", name, byteSize(p.maxFile)))
	case *total+int64(len(b)) > maxSubmitFilesSum:
		s.Problems = append(s.Problems, fmt.Sprintf("The files together are larger than %s.", byteSize(maxSubmitFilesSum)))
	default:
		*total += int64(len(b))
		s.Files = append(s.Files, bot.Attachment{Name: name, ContentType: http.DetectContentType(b), Data: b})
	}
	return nil
}

// setField records one text field's cleaned value.
func (p *portal) setField(s *submitted, name, v string) {
	v = cleanText(v)
	switch name {
	case "f":
		s.Form = v
	case "name":
		s.Name = v
	case "email":
		s.Email = strings.TrimSpace(v)
	case "subject":
		s.Subject = v
	case "site":
		s.Site = v
	case "components":
		s.ComponentsText = v
	case "component":
		switch {
		case !slices.Contains(p.components, v):
			s.unknownComponent = true
		case len(s.Components) >= len(p.components):
			s.tooManyComponents = true
		case !slices.Contains(s.Components, v):
			s.Components = append(s.Components, v)
		}
	case "can_replicate":
		if v == "yes" || v == "no" {
			s.CanReplicate = v
		}
	case "action_taken":
		s.ActionTaken = v
	case "error_message":
		s.ErrorMessage = v
	case "description":
		s.Description = v
	}
}

// check adds the problems of the fields read (order: as the form shows
// them) ahead of the file problems.
func (s *submitted) check() {
	var out []string
	for _, f := range []struct{ field, label string }{
		{"name", "Your name"}, {"email", "Your email address"}, {"subject", "In a few words"},
		{"site", bot.FieldLabel(bot.FieldSite)}, {"components", bot.FieldLabel(bot.FieldComponents)},
		{"component", bot.FieldLabel(bot.FieldComponents)},
		{"action_taken", bot.FieldLabel(bot.FieldActionTaken)}, {"error_message", "Exact error message"},
		{"description", "Description"},
	} {
		if s.tooLong[f.field] {
			out = append(out, f.label+" is too long: shorten it.")
		}
	}
	if s.unknownComponent || s.tooManyComponents {
		out = append(out, "Choose the components from the list.")
	}
	if s.Email == "" {
		out = append(out, "Enter your email address.")
	}
	if s.Description == "" && s.ErrorMessage == "" {
		out = append(out, "Describe the problem, or give the exact error message.")
	}
	if s.bodyTooLarge {
		out = append(out, fmt.Sprintf("The form was too large: attach at most %d files of at most %s together.", maxSubmitFiles, byteSize(maxSubmitFilesSum)))
	}
	s.Problems = append(out, s.Problems...)
}

// submission is the desk's view of the form.
func (s *submitted) submission() bot.PortalSubmission {
	rep := bot.Report{
		Site: strings.TrimSpace(s.Site), ActionTaken: strings.TrimSpace(s.ActionTaken),
		ErrorMessage: strings.TrimSpace(s.ErrorMessage), Components: s.Components,
		CanReplicate: bot.ReplicateUnknown,
	}
	if len(rep.Components) == 0 {
		for c := range strings.SplitSeq(s.ComponentsText, ",") {
			if c = strings.TrimSpace(c); c != "" {
				rep.Components = append(rep.Components, c)
			}
		}
	}
	switch s.CanReplicate {
	case "yes":
		rep.CanReplicate = bot.ReplicateYes
	case "no":
		rep.CanReplicate = bot.ReplicateNo
	}
	return bot.PortalSubmission{
		From: bot.Address{Name: s.Name, Email: s.Email}, Subject: s.Subject,
		Description: s.Description, Report: rep, Attachments: s.Files,
	}
}

// cleanText makes a posted value safe to record: valid UTF-8, LF line
// ends, no control characters but newline and tab, trimmed.
func cleanText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' {
			return r
		}
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
	return strings.TrimSpace(s)
}

// byteSize writes n bytes for people: "10 MB", "512 KB".
func byteSize(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.FormatInt(n>>20, 10) + " MB"
	case n >= 1<<20:
		return strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64) + " MB"
	case n >= 1<<10:
		return strconv.FormatInt(n>>10, 10) + " KB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}

// formTTL is how long a served form may be posted.
const formTTL = 4 * time.Hour

// formToken is the anti-forgery field of a form served at now: the time
// and an HMAC of it under the handler's random key.
func (p *portal) formToken(now time.Time) string {
	ts := strconv.FormatInt(now.Unix(), 10)
	return ts + "." + base64.RawURLEncoding.EncodeToString(p.formMAC(ts))
}

func (p *portal) formMAC(ts string) []byte {
	m := hmac.New(sha256.New, p.key)
	m.Write([]byte("rfadesk portal form " + ts))
	return m.Sum(nil)
}

// formTokenOK reports whether tok is a field this handler served within
// formTTL before now (a minute's clock skew allowed). The MAC is compared
// in constant time.
func (p *portal) formTokenOK(tok string, now time.Time) bool {
	ts, sig, ok := strings.Cut(tok, ".")
	if !ok {
		return false
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return false
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil {
		return false
	}
	if age := now.Sub(time.Unix(sec, 0)); age < -time.Minute || age > formTTL {
		return false
	}
	return hmac.Equal(got, p.formMAC(ts))
}

// sameOrigin reports whether a POST comes from a page of this site: its
// Origin header must be the desk's public origin (Options.BaseURL) or,
// without one, name the request's own host. A missing or "null" Origin
// fails: the portal's pages set a referrer policy under which browsers
// send it.
func (p *portal) sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" || o == "null" {
		return false
	}
	if p.origin != "" {
		return strings.EqualFold(o, p.origin)
	}
	u, err := url.Parse(o)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && strings.EqualFold(u.Host, r.Host)
}

// originOf is the origin (scheme://host) of base, "" if it has none.
func originOf(base string) string {
	u, err := url.Parse(base)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return ""
	}
	return strings.ToLower(u.Scheme + "://" + u.Host)
}

// addressKey is the per-address limiter key of an email address: lower
// case, without a plus tag, so variants of one mailbox share a bucket.
func addressKey(email string) string {
	local, domain, ok := strings.Cut(strings.ToLower(strings.TrimSpace(email)), "@")
	if !ok {
		return local
	}
	local, _, _ = strings.Cut(local, "+")
	return local + "@" + domain
}
