package demo

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

func startCapture(t *testing.T, opts *SMTPCaptureOptions) *SMTPCapture {
	t.Helper()
	s, err := StartSMTPCapture(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// captureSend sends one message with go-smtp's client, authenticating when
// user is not empty, and returns the first error.
func captureSend(t *testing.T, addr, user, pass, from string, to []string, body string) error {
	t.Helper()
	c, err := smtp.Dial(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if user != "" {
		if err := c.Auth(sasl.NewPlainClient("", user, pass)); err != nil {
			return err
		}
	}
	if err := c.SendMail(from, to, strings.NewReader(body)); err != nil {
		return err
	}
	return c.Quit()
}

func smtpCode(err error) int {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		return se.Code
	}
	return 0
}

const captureBody = "Subject: hi\r\n\r\nhello\r\n"

func TestSMTPCaptureRecordsMessages(t *testing.T) {
	s := startCapture(t, nil)
	for i := range 3 {
		to := []string{"a@example.test", "b@example.test"}
		if err := captureSend(t, s.Addr(), "", "", "desk@example.test", to, captureBody); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	got, err := s.Wait(ctx, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("got %d messages, want 3", len(got))
	}
	m := got[0]
	if m.From != "desk@example.test" || strings.Join(m.To, ",") != "a@example.test,b@example.test" {
		t.Errorf("envelope = %q -> %q", m.From, m.To)
	}
	if string(m.Data) != captureBody {
		t.Errorf("data = %q, want %q", m.Data, captureBody)
	}
	if m.At.IsZero() {
		t.Error("At not set")
	}
	// Messages returns a copy.
	got[0].Data[0] = 'X'
	got[0].To[0] = "changed"
	again := s.Messages()
	if again[0].Data[0] != 'S' || again[0].To[0] != "a@example.test" {
		t.Error("Messages shares memory with the capture")
	}
}

func TestSMTPCaptureWaitEnds(t *testing.T) {
	s := startCapture(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Wait(ctx, 1); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait with cancelled ctx = %v, want context.Canceled", err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := s.Wait(context.Background(), 1)
		done <- err
	}()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err == nil {
		t.Fatal("Wait returned nil after Close with no message")
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close = %v", err)
	}
}

func TestSMTPCaptureAuth(t *testing.T) {
	s := startCapture(t, &SMTPCaptureOptions{Username: "desk", Password: "secret"})
	to := []string{"a@example.test"}
	if err := captureSend(t, s.Addr(), "", "", "desk@example.test", to, captureBody); smtpCode(err) != 530 {
		t.Errorf("send without AUTH = %v, want 530", err)
	}
	if err := captureSend(t, s.Addr(), "desk", "wrong", "desk@example.test", to, captureBody); smtpCode(err) != 535 {
		t.Errorf("send with a wrong password = %v, want 535", err)
	}
	if err := captureSend(t, s.Addr(), "desk", "secret", "desk@example.test", to, captureBody); err != nil {
		t.Errorf("send with AUTH = %v", err)
	}
	if n := len(s.Messages()); n != 1 {
		t.Errorf("captured %d messages, want 1", n)
	}
}

func TestSMTPCaptureFaults(t *testing.T) {
	s := startCapture(t, &SMTPCaptureOptions{Username: "u", Password: "p"})
	to := []string{"a@example.test"}
	send := func() error { return captureSend(t, s.Addr(), "u", "p", "desk@example.test", to, captureBody) }
	for _, tc := range []struct {
		stage string
		code  int
	}{
		{FaultAuth, 454}, {FaultMail, 451}, {FaultRcpt, 550}, {FaultData, 554},
	} {
		s.FailNext(tc.stage, tc.code, 2)
		for i := range 2 {
			if err := send(); smtpCode(err) != tc.code {
				t.Errorf("%s fault, try %d: err = %v, want code %d", tc.stage, i, err, tc.code)
			}
		}
		if err := send(); err != nil {
			t.Errorf("%s fault should be used up after 2: %v", tc.stage, err)
		}
	}
	if n := len(s.Messages()); n != 4 {
		t.Errorf("captured %d messages, want 4 (one per stage after the faults)", n)
	}

	s.FailNext(FaultRcpt, 550, 5)
	s.FailNext(FaultRcpt, 0, 0) // clears
	if err := send(); err != nil {
		t.Errorf("after clearing the fault: %v", err)
	}
}

func TestSMTPCaptureConnectFaultAndDown(t *testing.T) {
	s := startCapture(t, nil)
	to := []string{"a@example.test"}
	send := func() error { return captureSend(t, s.Addr(), "", "", "desk@example.test", to, captureBody) }

	s.FailNext(FaultConnect, 0, 1)
	if err := send(); err == nil {
		t.Error("send after a connect fault succeeded")
	}
	s.FailNext(FaultConnect, 554, 1)
	if err := send(); smtpCode(err) != 554 {
		t.Errorf("connect fault with code: %v, want 554", err)
	}
	if err := send(); err != nil {
		t.Errorf("connect faults should be used up: %v", err)
	}

	s.SetDown(true)
	for range 2 {
		if err := send(); smtpCode(err) != 421 {
			t.Errorf("send while down = %v, want 421", err)
		}
	}
	s.SetDown(false)
	if err := send(); err != nil {
		t.Errorf("send after up again: %v", err)
	}
	if n := len(s.Messages()); n != 2 {
		t.Errorf("captured %d messages, want 2", n)
	}
}

func TestSMTPCaptureOnAccept(t *testing.T) {
	var s *SMTPCapture
	var calls atomic.Int32
	var recordedFirst atomic.Bool
	s = startCapture(t, &SMTPCaptureOptions{OnAccept: func(m CapturedMail) {
		calls.Add(1)
		// The message is recorded before the hook runs.
		recordedFirst.Store(len(s.Messages()) == int(calls.Load()) && m.From == "desk@example.test")
	}})
	if err := captureSend(t, s.Addr(), "", "", "desk@example.test", []string{"a@example.test"}, captureBody); err != nil {
		t.Fatal(err)
	}
	// The client saw 250 only after the hook returned.
	if calls.Load() != 1 || !recordedFirst.Load() {
		t.Errorf("OnAccept calls = %d, recorded first = %v", calls.Load(), recordedFirst.Load())
	}
	s.FailNext(FaultData, 554, 1)
	_ = captureSend(t, s.Addr(), "", "", "desk@example.test", []string{"a@example.test"}, captureBody)
	if calls.Load() != 1 {
		t.Errorf("OnAccept called for a refused message")
	}
}

func TestSMTPCaptureRefusesNonLoopback(t *testing.T) {
	if _, err := StartSMTPCapture(&SMTPCaptureOptions{Addr: "0.0.0.0:0"}); err == nil {
		t.Fatal("StartSMTPCapture on 0.0.0.0 succeeded")
	}
}

func TestSMTPCaptureFailNextUnknownStagePanics(t *testing.T) {
	s := startCapture(t, nil)
	defer func() {
		if recover() == nil {
			t.Error("no panic for an unknown stage")
		}
	}()
	s.FailNext("helo", 500, 1)
}
