package bot

import (
	htmltemplate "html/template"
	texttemplate "text/template"
)

// The acknowledgement, as plain text. Values are the requester's own
// words (none for a sender outside the organisations, see composeAck);
// plain text needs no escaping, the HTML twin escapes everything. The
// "Contact us" block is the desk's own configured details (validated by
// package config), present only when one is set.
var ackText = texttemplate.Must(texttemplate.New("ack.txt").Parse(
	`{{if .Name}}Hello {{.Name}},{{else}}Hello,{{end}}

Thank you for contacting the {{.Desk}}. Your request has been logged as {{.Ref}}{{if .Subject}}:

    {{.Subject}}{{else}}.{{end}}
{{if .Fields}}
This is what we understood from your message:
{{range .Fields}}
    {{.Label}}: {{.Value}}{{end}}
{{end}}{{if .Missing}}
To help us resolve it quickly, please reply to this email with:
{{range .Missing}}
    - {{.}}{{end}}
{{end}}
We will respond within {{.Target}}. {{.Hours}}.

Follow progress at:
{{.Link}}

Please keep [{{.Ref}}] in the subject when you reply.
{{with .Contact}}{{if not .IsZero}}
Contact us:{{if .Phone}}
    Phone: {{.Phone}}{{end}}{{if .KnowledgeBaseURL}}
    Help articles: {{.KnowledgeBaseURL}}{{end}}{{with .PostalLines}}
    Post:{{range .}}
        {{.}}{{end}}{{end}}
{{end}}{{end}}
{{.Desk}}
`))

var ackHTML = htmltemplate.Must(htmltemplate.New("ack.html").Parse(
	`<!DOCTYPE html>
<html><body style="font-family: sans-serif; line-height: 1.4">
<p>{{if .Name}}Hello {{.Name}},{{else}}Hello,{{end}}</p>
<p>Thank you for contacting the {{.Desk}}. Your request has been logged as <strong>{{.Ref}}</strong>{{if .Subject}}: {{.Subject}}{{else}}.{{end}}</p>
{{if .Fields}}<p>This is what we understood from your message:</p>
<table cellpadding="4" style="border-collapse: collapse">{{range .Fields}}
<tr><th align="left" valign="top">{{.Label}}</th><td>{{.Value}}</td></tr>{{end}}
</table>{{end}}
{{if .Missing}}<p>To help us resolve it quickly, please reply to this email with:</p>
<ul>{{range .Missing}}<li>{{.}}</li>{{end}}</ul>{{end}}
<p>We will respond within {{.Target}}. {{.Hours}}.</p>
<p><a href="{{.Link}}">Follow progress of {{.Ref}}</a></p>
<p>Please keep [{{.Ref}}] in the subject when you reply.</p>
{{with .Contact}}{{if not .IsZero}}<p><strong>Contact us</strong></p>
<ul>{{if .Phone}}<li>Phone: {{.Phone}}</li>{{end}}{{if .KnowledgeBaseURL}}<li>Help articles: <a href="{{.KnowledgeBaseURL}}">{{.KnowledgeBaseURL}}</a></li>{{end}}{{with .PostalLines}}<li>Post:<br>{{range $i, $l := .}}{{if $i}}<br>{{end}}{{$l}}{{end}}</li>{{end}}</ul>
{{end}}{{end}}<p>{{.Desk}}</p>
</body></html>
`))
