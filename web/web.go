// Package web is rfadesk's HTTP side: the requester's status page, a
// landing page, the self-service form (GET /new, new.go), the public status board (GET /status), the health check, a bearer-token admin JSON API and, in
// the demo, a page listing the outgoing mail the demo captured. RFAs are
// shown with their severity and SLA clocks when Settings.Clocks is set.
//
// Everything is served by the handler NewHandler returns; Listen and
// Serve run it. The package reads the desk through the small Desk
// interface; its writes go through functions in Options: the requester's
// buttons on the status page (AddMessage, AnswerQuestion, Escalate,
// ConfirmFixed, ReportStillBroken), the web form's submissions and
// confirmations (Submit, ConfirmSubmission), and staff's phone RFAs and
// actions through the admin API (LogCall, Do).
//
// Security: every response carries a strict Content-Security-Policy
// (default-src 'none'; style-src 'self'; form-action 'self'; no script at
// all), nosniff, no-referrer (same-origin on the web form's pages, so
// browsers send the Origin its POSTs need) and frame-ancestors 'none'. Pages that show
// an RFA are served with Cache-Control: no-store. Secrets (the admin
// tokens, an RFA's status token) are compared in constant time, and
// request logs carry the path only, never the query string that holds a
// status token. The status page's buttons post to the page's own URL
// with an anti-forgery field, an HMAC of the RFA's ref and token under a
// per-process (or configured) key, compared in constant time, and are
// refused (403) when Sec-Fetch-Site, Origin or Referer name another site
// (page_actions.go). A GET never changes anything. The older escalation
// route carries the status token in its body as its CSRF secret.
// An organisation page's token is never compared at all: the store keeps
// only its SHA-256 and the page is found by looking that hash up.
package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"rfadesk/bot"
	"rfadesk/bot/workcal"
)

// Desk is what the web needs from the desk: read-only access to RFAs.
// Implementations must be safe for concurrent use; every request calls
// them from its own goroutine. bot.Desk implements it.
type Desk interface {
	// RFA returns the RFA numbered num without its message texts
	// (bot.Message.TextOmitted), or an error wrapping bot.ErrNotFound if
	// there is none.
	RFA(ctx context.Context, num uint64) (*bot.RFA, error)
	// RFAWithTexts is RFA with every message's text: only for a caller
	// already entitled to the conversation (the status token matched).
	RFAWithTexts(ctx context.Context, num uint64) (*bot.RFA, error)
	// RFASummary returns RFA num's small summary record (token
	// included), or an error wrapping bot.ErrNotFound. Its cost does not
	// depend on what the RFA holds.
	RFASummary(ctx context.Context, num uint64) (*bot.RFASummary, error)
	// RFAPage returns one page of summaries (bot.Desk.RFAPage); an error
	// wrapping bot.ErrBadQuery is the caller's fault.
	RFAPage(ctx context.Context, q bot.RFAQuery) (bot.RFAPage, error)
}

// HealthFunc reports whether the daemon is healthy and, if not, why (one
// line of text). It is called on every GET /healthz and must be cheap and
// safe for concurrent use.
type HealthFunc func() (ok bool, reason string)

// SentMail is one outgoing mail captured by the demo's SMTP server, shown
// on GET /demo/mail.
type SentMail struct {
	From string    // envelope sender
	To   []string  // envelope recipients
	At   time.Time // when it was captured
	Raw  []byte    // the whole message as sent (RFC 5322)
}

// Options configures NewHandler. Desk is required; every other field is
// optional.
type Options struct {
	// Desk is where RFAs are read from.
	Desk Desk
	// Health answers GET /healthz; nil means always healthy.
	Health HealthFunc
	// Role, when set, is this instance's part in a replicated desk
	// (standby.go): while it is not "leader", GET /healthz answers 503
	// with the role, and every request but GET and HEAD answers 503 with
	// Retry-After. nil: this instance always leads.
	Role RoleFunc
	// AdminToken is a bearer token for /api/*, named "admin": the same
	// as an entry {Name: "admin", Token: AdminToken} in Tokens. "" adds
	// none.
	AdminToken string
	// Tokens are the named bearer tokens for /api/*; a change made with
	// one is attributed to bot.Actor{Name: name, ID: "api:" + name}.
	// Entries with an empty Token are ignored. With no token at all the
	// admin API is disabled (every /api/ path answers 404).
	Tokens []APIToken
	// LogCall records an RFA taken by telephone (bot.Desk's LogCall),
	// for POST /api/rfas (admin); nil leaves that route out.
	LogCall func(ctx context.Context, c bot.PhoneCall) (*bot.RFA, error)
	// Do performs one staff action (bot.Desk's Do), for
	// POST /api/rfas/{ref}/actions (admin); nil leaves that route out.
	// Its errors matching bot.ErrInvalid, bot.ErrNotFound and
	// bot.ErrNotAllowed answer 400, 404 and 409.
	Do func(ctx context.Context, num uint64, a bot.StaffAction, by bot.Actor) error
	// StatusURL returns the full link to r's status page (bot.Desk's
	// StatusURL), given as status_url by those two routes; nil gives
	// the path only.
	StatusURL func(r *bot.RFA) string
	// Settings returns the current Settings: the desk's name, hours,
	// contact details, calendar and clocks. It is called at least once
	// per request, from request goroutines, so it must be cheap and safe
	// for concurrent use; what it returns may change between calls (a
	// reload). Nil means the zero Settings: every default.
	Settings func() Settings
	// SupportEmail is the address the landing page tells schools to
	// write to; "" leaves the address out.
	SupportEmail string
	// Notices returns the current service notices for GET /status; nil
	// means there are none. It is called once per request and must be
	// safe for concurrent use.
	Notices func(ctx context.Context) ([]ServiceNotice, error)
	// Sent, when set, enables GET /demo/mail, which lists what it
	// returns. It is called once per request and must be safe for
	// concurrent use. Nil makes /demo/mail answer 404.
	Sent func() []SentMail
	// Logger receives request and error logs; nil discards them.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Escalate records a customer escalation of RFA num (bot.Desk's
	// Escalate): via is "from the status page", reason the requester's
	// cleaned words or "" (kept apart from any sentence). It is called at
	// most once per accepted POST /rfa/{ref}/escalate, with the request's
	// context; an error wrapping
	// bot.ErrNotAllowed is shown to the requester as "cannot escalate
	// now", any other error is a 500. Nil removes the escalation form
	// and its route.
	Escalate func(ctx context.Context, num uint64, by bot.Actor, via, reason string) error
	// AddMessage records a message, with files, that the requester
	// wrote on the status page (bot.Desk's AddMessage), for the
	// "message" action of POST /rfa/{ref}; nil hides that form. Errors
	// wrapping bot.ErrNotAllowed or bot.ErrInvalid are shown to the
	// requester as refused; any other is a 500.
	AddMessage func(ctx context.Context, num uint64, m bot.RequesterMessage) error
	// AnswerQuestion records the requester's answer to the desk's
	// question (bot.Desk's AnswerQuestion), for the "answer" action,
	// offered while the RFA awaits the requester; nil hides it (the
	// message form is offered then instead). Errors as AddMessage's.
	AnswerQuestion func(ctx context.Context, num uint64, m bot.RequesterMessage) error
	// ConfirmFixed records that the requester confirms a cleared RFA is
	// fixed, for the "fixed" action, offered while the RFA is cleared;
	// nil hides it. Errors as AddMessage's.
	ConfirmFixed func(ctx context.Context, num uint64, by bot.Actor) error
	// ReportStillBroken records that the requester says a cleared RFA is
	// still broken (reason: their cleaned words, or ""), for the
	// "broken" action, offered while the RFA is cleared; nil hides it.
	// Errors as AddMessage's.
	ReportStillBroken func(ctx context.Context, num uint64, by bot.Actor, reason string) error
	// MaxFileBytes caps each file a status-page message carries (the
	// desk's attachment cap, desk.max_attachment_bytes); 0 takes no
	// files. The body of a status page's post is capped at
	// bot.MaxRequesterFiles such files plus 256 KiB of fields.
	MaxFileBytes int64
	// FormKey keys the status page's anti-forgery field (an HMAC of the
	// RFA's ref and token). Nil means a random key made by NewHandler:
	// forms on pages opened before a restart are then refused (403)
	// until the page is reloaded.
	FormKey []byte
	// PublicURL is the site's address as requesters reach it (the
	// desk's base_url, "https://desk.example"): an Origin or Referer
	// naming its host is this site's own, as is the request's Host.
	PublicURL string
	// DeadLetters lists the messages that could not become RFAs, for
	// GET /api/dead-letters (admin); nil leaves those routes out.
	DeadLetters func(ctx context.Context) ([]bot.DeadLetter, error)
	// DeadLetter loads one, for GET /api/dead-letters/{id}/raw; required
	// with DeadLetters.
	DeadLetter func(ctx context.Context, id uint64) (*bot.DeadLetter, error)
	// Backup begins a consistent snapshot of the store for
	// GET /api/backup (admin; store.DB.Snapshot); nil leaves that route
	// out. It is called once per request, which closes the snapshot.
	Backup func() (BackupSnapshot, error)
	// Reports serves GET /api/reports, GET /admin/reports, GET
	// /api/export and POST /api/purge (admin; api_reports.go); nil
	// leaves them out.
	Reports Reports
	// Metrics answers GET /metrics (the Prometheus handler) for a
	// bearer of an API token, like the admin API (metrics.go); nil, or
	// no token, leaves that route out.
	Metrics http.Handler
	// OrgLinks serves the organisation pages (GET /org/{slug}) and,
	// with the admin API, /api/org-links (api_orglinks.go); nil leaves
	// those routes out.
	OrgLinks OrgLinks
	// Outages runs service notices: /api/outages (admin) and the banner
	// on affected status pages (api_outages.go); nil leaves them out.
	Outages Outages
	// Releases serves /api/releases (api_releases.go); nil leaves it out.
	Releases Releases
	// Capacity serves /api/capacity and /api/availability (admin;
	// api_capacity.go); nil leaves those routes out.
	Capacity Capacity
	// Downtime returns the outage notices' downtime per component for
	// GET /api/availability; nil means none recorded.
	Downtime func(ctx context.Context) ([]bot.Downtime, error)
	// MaxInFlight is how many requests are handled at once; more are
	// answered 503 with Retry-After at once. 0 means 64.
	MaxInFlight int

	// Submit records a submission of the web form (bot.Desk's Submit)
	// for GET and POST /new (new.go); ConfirmSubmission (bot.Desk's)
	// releases a held one, for /new/confirm. Both nil leave the portal's
	// routes out; both are needed for them.
	Submit            func(ctx context.Context, s bot.PortalSubmission) (*bot.RFA, error)
	ConfirmSubmission func(ctx context.Context, token string) (*bot.RFA, error)
	// Components are the service components the form offers as
	// checkboxes (desk.components); nil asks for them as free text.
	Components []string
	// MaxAttachmentBytes caps each file uploaded with the form (the
	// desk's desk.max_attachment_bytes); 0 or less takes no files.
	MaxAttachmentBytes int64
	// BaseURL is the desk's public base URL (desk.base_url): the portal's
	// POSTs must carry its origin. "" accepts the request's own host.
	BaseURL string
}

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static/style.css
var styleCSS []byte

// handler holds the validated options and the parsed templates. It is
// immutable after NewHandler and so safe for concurrent use.
type handler struct {
	desk      Desk
	health    HealthFunc
	role      RoleFunc
	tokens    []APIToken // named admin API tokens, none empty
	logCall   func(ctx context.Context, c bot.PhoneCall) (*bot.RFA, error)
	doAction  func(ctx context.Context, num uint64, a bot.StaffAction, by bot.Actor) error
	statusURL func(r *bot.RFA) string
	support   string
	// current returns the reloadable settings (Options.Settings; nil:
	// none); read them through settings(), which fills in defaults.
	current        func() Settings
	defaultOpening *workcal.Calendar // Settings.Opening's default
	defaultLoc     *time.Location    // Settings.Location's default
	notices        func(ctx context.Context) ([]ServiceNotice, error)
	outages        Outages
	sent           func() []SentMail
	log            *slog.Logger
	now            func() time.Time
	escalateFn     func(ctx context.Context, num uint64, by bot.Actor, via, reason string) error
	deadLetters    deadLettersFunc
	deadLetter     deadLetterFunc
	backup         func() (BackupSnapshot, error)
	reports        Reports
	metrics        http.Handler
	pages          pages
	inFlight       chan struct{}      // one slot per request being handled
	perClient      *limiter           // public state-changing requests per client
	perRFA         *limiter           // public state-changing requests per RFA
	guesses        *limiter           // wrong status tokens or references per client (checkToken)
	orgLinks       OrgLinks           // organisation pages (org.go); nil: none
	releases       Releases           // the release calendar (api_releases.go); nil: none
	orgTemplate    *template.Template // the organisation page
	orgClients     *limiter           // organisation page requests per client
	capacity       Capacity           // api_capacity.go; nil: no routes
	downtime       func(ctx context.Context) ([]bot.Downtime, error)

	// The status page's other actions (page_actions.go).
	addMessageFn   func(ctx context.Context, num uint64, m bot.RequesterMessage) error
	answerFn       func(ctx context.Context, num uint64, m bot.RequesterMessage) error
	confirmFixedFn func(ctx context.Context, num uint64, by bot.Actor) error
	stillBrokenFn  func(ctx context.Context, num uint64, by bot.Actor, reason string) error
	maxFileBytes   int64
	formKey        []byte        // keys the anti-forgery field
	publicHost     string        // Options.PublicURL's host, or ""
	uploads        chan struct{} // one slot per multipart post being read
	portal         *portal       // the web form (new.go); nil when off
}

// NewHandler returns the handler for every route of the web side:
//
//	GET /                     landing page
//	GET /healthz              "ok" (200) or "unhealthy" (503); the
//	                          reason too with the admin bearer token;
//	                          "standby" or "unavailable" (503) on an
//	                          instance that does not lead (Options.Role)
//	GET /healthz/leader       "leader" (200), or the role (503): the
//	                          load balancer's check
//	GET /status               public status board: open now, next
//	                          opening, contact, service notices; JSON
//	                          for Accept: application/json
//	GET /rfa/{ref}?t=TOKEN    the requester's status page; its public
//	                          JSON for Accept: application/json
//	POST /rfa/{ref}?t=TOKEN   a button of the status page (field action:
//	                          message, answer, escalate, fixed, broken),
//	                          with the page's anti-forgery field csrf
//	POST /rfa/{ref}/escalate  the requester escalates (form field t=TOKEN);
//	                          only when Options.Escalate is set
//	GET /org/{slug}?t=TOKEN   a school's or trust's page of its RFAs
//	                          (Options.OrgLinks; JSON for Accept:
//	                          application/json)
//	/api/org-links            admin: organisation links (api_orglinks.go)
//	GET, POST /new            the web form: log an RFA (Options.Submit;
//	                          new.go lists its pages)
//	GET, POST /new/confirm    confirm a held submission's address
//	GET /api/rfas             admin: RFA summaries, a page at a time
//	GET /api/rfas/{ref}       admin: one RFA as JSON
//	POST /api/rfas            admin: log a phone RFA (Options.LogCall)
//	POST /api/rfas/{ref}/actions  admin: one staff action (Options.Do)
//	GET /api/backup           admin: a consistent copy of the store
//	GET /demo/mail            demo only: captured outgoing mail
//	GET /static/style.css     the stylesheet
//
// Every route is bounded: at most Options.MaxInFlight requests at once
// (503 beyond), bodies of at most 64 KiB (413; a status page's post may
// carry files: see Options.MaxFileBytes), and public POSTs
// rate-limited per client address and per RFA (429 with Retry-After).
// (503 beyond), bodies of at most 64 KiB (413; POST /new takes the form's
// files within its own caps), and public POSTs rate-limited per client
// address and per RFA, submissions also per email address (429 with
// Retry-After).
//
// It panics if opts.Desk is nil (a wiring bug). The handler is safe for
// concurrent use.
func NewHandler(opts Options) http.Handler {
	if opts.Desk == nil {
		panic("web: Options.Desk is nil")
	}
	h := &handler{
		desk:        opts.Desk,
		health:      opts.Health,
		role:        opts.Role,
		tokens:      apiTokens(opts.AdminToken, opts.Tokens),
		logCall:     opts.LogCall,
		doAction:    opts.Do,
		statusURL:   opts.StatusURL,
		support:     opts.SupportEmail,
		current:     opts.Settings,
		notices:     opts.Notices,
		outages:     opts.Outages,
		sent:        opts.Sent,
		log:         opts.Logger,
		now:         opts.Now,
		escalateFn:  opts.Escalate,
		deadLetters: opts.DeadLetters,
		deadLetter:  opts.DeadLetter,
		backup:      opts.Backup,
		reports:     opts.Reports,
		metrics:     opts.Metrics,
		orgLinks:    opts.OrgLinks,
		releases:    opts.Releases,
		capacity:    opts.Capacity,
		downtime:    opts.Downtime,
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if opts.MaxInFlight <= 0 {
		opts.MaxInFlight = defaultMaxInFlight
	}
	h.inFlight = make(chan struct{}, opts.MaxInFlight)
	h.perClient = newLimiter(publicPostBurst, publicPostEvery, maxLimiterKeys)
	h.perRFA = newLimiter(rfaPostBurst, rfaPostEvery, maxLimiterKeys)
	h.guesses = newLimiter(tokenGuessBurst, tokenGuessEvery, maxLimiterKeys)
	if h.now == nil {
		h.now = time.Now
	}
	h.addMessageFn, h.answerFn = opts.AddMessage, opts.AnswerQuestion
	h.confirmFixedFn, h.stillBrokenFn = opts.ConfirmFixed, opts.ReportStillBroken
	h.maxFileBytes, h.formKey = max(opts.MaxFileBytes, 0), opts.FormKey
	h.uploads = make(chan struct{}, maxUploadsInFlight)
	if len(h.formKey) == 0 {
		h.formKey = make([]byte, 32)
		rand.Read(h.formKey) // never fails (crypto/rand)
	}
	if u, err := url.Parse(opts.PublicURL); err == nil {
		h.publicHost = u.Host
	}
	h.defaultOpening = workcal.Default()
	h.defaultLoc = time.UTC
	if loc, err := time.LoadLocation("Europe/London"); err == nil {
		h.defaultLoc = loc
	} else if s := h.settings(); s.Location == time.UTC {
		h.log.Warn("web: no Europe/London zone, showing times in UTC", "err", err)
	}
	h.pages = parsePages(h.location)
	h.orgTemplate = parseOrgPage(h.location)
	h.orgClients = newLimiter(orgPageBurst, orgPageEvery, maxLimiterKeys)
	h.portal = newPortal(opts)

	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", h.landing)
	mux.HandleFunc("GET /healthz", h.healthz)
	mux.HandleFunc("GET /healthz/leader", h.leaderz) // standby.go
	mux.HandleFunc("GET /status", h.board)
	mux.HandleFunc("GET /rfa/{ref}", h.status)
	mux.HandleFunc("GET /static/style.css", h.style)
	mux.HandleFunc("POST /rfa/{ref}", h.pageAct)
	if h.escalateFn != nil {
		mux.HandleFunc("POST /rfa/{ref}/escalate", h.escalate)
	}
	if h.orgLinks != nil {
		mux.HandleFunc("GET /org/{slug}", h.orgPage)
	}
	h.routePortal(mux)
	mux.HandleFunc("/api/", h.apiNotFound)
	if len(h.tokens) > 0 {
		mux.HandleFunc("GET /api/rfas", h.requireAdmin(h.apiList))
		mux.HandleFunc("GET /api/rfas/{ref}", h.requireAdmin(h.apiOne))
		if h.logCall != nil {
			mux.HandleFunc("POST /api/rfas", h.requireAdmin(h.apiLogCall))
		}
		if h.doAction != nil {
			mux.HandleFunc("POST /api/rfas/{ref}/actions", h.requireAdmin(h.apiAction))
		}
		mux.HandleFunc("GET /api/calendar", h.requireAdmin(h.apiCalendar))
		if h.backup != nil {
			mux.HandleFunc("GET /api/backup", h.requireAdmin(h.apiBackup))
		}
		h.routeMetrics(mux)  // metrics.go
		h.routeCapacity(mux) // api_capacity.go
		h.routeReports(mux)  // api_reports.go
		if h.orgLinks != nil {
			mux.HandleFunc("POST /api/org-links", h.requireAdmin(h.apiCreateOrgLink))
			mux.HandleFunc("GET /api/org-links", h.requireAdmin(h.apiListOrgLinks))
			mux.HandleFunc("DELETE /api/org-links/{id}", h.requireAdmin(h.apiRevokeOrgLink))
		}
		if h.outages != nil {
			mux.HandleFunc("POST /api/outages", h.requireAdmin(h.apiStartOutage))
			mux.HandleFunc("POST /api/outages/{id}/update", h.requireAdmin(h.apiUpdateOutage))
			mux.HandleFunc("POST /api/outages/{id}/end", h.requireAdmin(h.apiEndOutage))
		}
		if h.releases != nil {
			h.routeReleases(mux) // api_releases.go
		}
		if h.deadLetters != nil && h.deadLetter != nil {
			mux.HandleFunc("GET /api/dead-letters", h.requireAdmin(h.apiDeadLetters))
			mux.HandleFunc("GET /api/dead-letters/{id}/raw", h.requireAdmin(h.apiDeadLetterRaw))
		}
	}
	if h.sent != nil {
		mux.HandleFunc("GET /demo/mail", h.demoMail)
	}
	return h.secure(h.bound(h.standbyGate(mux)))
}

// csp allows the embedded stylesheet and forms posting to this site, and
// nothing else: no script, no frames, no plug-ins.
const csp = "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// secure sets the security headers every response carries and logs the
// request (path only: the query may hold a status token).
func (h *handler) secure(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", csp)
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("X-Frame-Options", "DENY")
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		start := time.Now()
		next.ServeHTTP(sw, r)
		lvl := slog.LevelDebug
		// A 503 that is an answer, not a fault, stays at Debug: a
		// health check saying "standby" or "unhealthy" (the health
		// reports log the cause once), or a standby's refusal with
		// Retry-After, which a load balancer polls or a client retries.
		deliberate := strings.HasPrefix(r.URL.Path, "/healthz") || sw.Header().Get("Retry-After") != ""
		if sw.code >= 500 && !deliberate {
			lvl = slog.LevelWarn
		}
		h.log.Log(r.Context(), lvl, "web: request", "method", r.Method, "path", r.URL.Path,
			"status", sw.code, "dur", time.Since(start))
	})
}

// statusWriter records the status code for the request log.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	w.code = code
	w.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the real writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// healthz answers "ok" (200) or "unhealthy" (503). The reason (which
// names settings, the mailbox account and what failed) is told only to a
// request bearing the admin token: "unhealthy: <reason>".
func (h *handler) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if h.roleHealth(w) {
		return
	}
	ok, reason := true, ""
	if h.health != nil {
		ok, reason = h.health()
	}
	if ok {
		w.Write([]byte("ok"))
		return
	}
	body := "unhealthy"
	if reason = strings.Join(strings.Fields(reason), " "); reason != "" && h.isAdmin(r) {
		body += ": " + reason
	}
	w.WriteHeader(http.StatusServiceUnavailable)
	w.Write([]byte(body))
}

// style serves the embedded stylesheet.
func (h *handler) style(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Write(styleCSS)
}

// secretEqual compares a presented secret with the expected one in time
// that depends on neither (both are hashed first, so not even the length
// leaks). An empty expected secret never matches.
func secretEqual(got, want string) bool {
	if want == "" {
		return false
	}
	g := sha256.Sum256([]byte(got))
	x := sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(g[:], x[:]) == 1
}
