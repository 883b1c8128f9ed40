package config

import (
	"strings"
	"testing"
)

// A syntax error in a secret's line must not print the secret, neither in
// the context lines nor in the parser's message (which quotes the value).
func TestConfigSyntaxErrorNeverShowsASecret(t *testing.T) {
	for name, body := range map[string]string{
		"on the password line": loopbackTOML + "password = hunter2secret\n",
		"unterminated":         loopbackTOML + "password = \"hunter2secret\n",
		"after the password":   loopbackTOML + "password = \"hunter2secret\"\nmailbox = = 1\n",
		"admin token":          loopbackTOML + "[web]\nadmin_token = 'hunter2secret''\n",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Load(writeConfig(t, body), noEnv)
			if err == nil {
				t.Fatal("a syntax error was accepted")
			}
			if strings.Contains(err.Error(), "hunter") {
				t.Errorf("the error shows the secret:\n%v", err)
			}
			if !strings.Contains(err.Error(), "line ") {
				t.Errorf("the error does not say where:\n%v", err)
			}
		})
	}
	_, err := Load(writeConfig(t, loopbackTOML+"mailbox = INBOX\n"), noEnv)
	if err == nil || !strings.Contains(err.Error(), "mailbox = INBOX") {
		t.Errorf("a line without a secret should still be shown: %v", err)
	}
}

func TestMaxMessageText(t *testing.T) {
	cfg, err := Load(writeConfig(t, strings.Replace(loopbackTOML, "[smtp]", "max_message_text = 4096\n[smtp]", 1)+"password = \"x\"\n"), noEnv)
	if err != nil || cfg.Desk.Limits.MaxMessageText != 4096 {
		t.Fatalf("max_message_text = 4096: %v, %+v", err, cfg)
	}
	for _, v := range []string{"0", "-1", "100", "999999999"} {
		_, err := Load(writeConfig(t, strings.Replace(loopbackTOML, "[smtp]", "max_message_text = "+v+"\n[smtp]", 1)+"password = \"x\"\n"), noEnv)
		if err == nil || !strings.Contains(err.Error(), "desk.max_message_text") || !strings.Contains(err.Error(), "between 1024 and") {
			t.Errorf("max_message_text = %s: %v", v, err)
		}
	}
}
