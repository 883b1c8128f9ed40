package chat

import "testing"

func TestCheckGatewayURL(t *testing.T) {
	for addr, ok := range map[string]bool{
		"wss://gateway.discord.gg":    true,
		"ws://127.0.0.1:4000/ws":      true,
		"ws://localhost:4000/ws":      true,
		"ws://[::1]:4000/ws":          true,
		"ws://gateway.example.org/ws": false,
		"ws://10.0.0.5/ws":            false,
		"https://gateway.discord.gg":  false,
		"wss://":                      false,
		"::not a url":                 false,
	} {
		if err := checkGatewayURL(addr); (err == nil) != ok {
			t.Errorf("checkGatewayURL(%q) = %v, want ok=%v", addr, err, ok)
		}
	}
}
