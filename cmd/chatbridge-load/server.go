package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// apiError is a failed Web API or token call: the HTTP status and the
// LiveChat error type (or OAuth error) the server answered.
type apiError struct {
	Status int
	Type   string
	Msg    string
}

func (e *apiError) Error() string {
	return fmt.Sprintf("HTTP %d %s: %s", e.Status, e.Type, e.Msg)
}

// kind names an error for the summary's error counts.
func errKind(err error) string {
	if e, ok := err.(*apiError); ok {
		return fmt.Sprintf("http_%d_%s", e.Status, e.Type)
	}
	if errors.Is(err, context.Canceled) {
		return "canceled"
	}
	s := err.Error()
	switch {
	case strings.Contains(s, "Client.Timeout"), strings.Contains(s, "deadline exceeded"):
		return "timeout"
	case strings.Contains(s, "connection refused"):
		return "connection_refused"
	case strings.Contains(s, "connection reset"), strings.Contains(s, "EOF"):
		return "connection_reset"
	}
	return "transport"
}

// webCall POSTs a Web API method as the admin owner and decodes the answer.
func (r *runner) webCall(ctx context.Context, method string, body []byte, out any) error {
	u := r.base + "/v" + r.cfg.Version + "/agent/action/" + method
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+r.cfg.AdminToken)
	req.Header.Set("Content-Type", "application/json")
	return r.do(req, out)
}

func (r *runner) do(req *http.Request, out any) error {
	resp, err := r.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error            json.RawMessage `json:"error"`
			ErrorDescription string          `json:"error_description"`
		}
		ae := &apiError{Status: resp.StatusCode}
		if json.Unmarshal(b, &e) == nil {
			var typed struct{ Type, Message string }
			if json.Unmarshal(e.Error, &typed) == nil && typed.Type != "" {
				ae.Type, ae.Msg = typed.Type, typed.Message
			} else {
				_ = json.Unmarshal(e.Error, &ae.Type) // OAuth: "error": "invalid_grant"
				ae.Msg = e.ErrorDescription
			}
		}
		return ae
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(b, out)
}

// passwordToken signs in at POST /v2/token and returns the access token.
func (r *runner) passwordToken(ctx context.Context) (string, error) {
	form := url.Values{"grant_type": {"password"}, "username": {r.cfg.Username}, "password": {r.cfg.Password}, "client_id": {"chatbridge-load"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.base+"/v2/token", strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	var out struct {
		AccessToken string `json:"access_token"`
	}
	if err := r.do(req, &out); err != nil {
		return "", fmt.Errorf("POST /v2/token: %w", err)
	}
	if out.AccessToken == "" {
		return "", fmt.Errorf("POST /v2/token: no access_token")
	}
	return out.AccessToken, nil
}

// serverStats are the /metrics series the run reports.
type serverStats struct {
	RSS           float64 // process_resident_memory_bytes
	HeapInuse     float64 // go_memstats_heap_inuse_bytes
	StackInuse    float64 // go_memstats_stack_inuse_bytes
	Goroutines    float64 // go_goroutines
	AgentSockets  float64 // chatbridge_connections{protocol="livechat_agent"}
	SlowConsumers float64 // chatbridge_hub_slow_consumers_total
	Delivered     float64 // chatbridge_hub_delivered_total
	CPUSeconds    float64 // process_cpu_seconds_total
}

// metrics reads the server's /metrics (Prometheus text format).
func (r *runner) metrics(ctx context.Context) (serverStats, error) {
	var st serverStats
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.base+"/metrics", nil)
	if err != nil {
		return st, err
	}
	resp, err := r.http.Do(req)
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return st, fmt.Errorf("GET /metrics: HTTP %d", resp.StatusCode)
	}
	want := map[string]*float64{
		"process_resident_memory_bytes":                     &st.RSS,
		"go_memstats_heap_inuse_bytes":                      &st.HeapInuse,
		"go_memstats_stack_inuse_bytes":                     &st.StackInuse,
		"go_goroutines":                                     &st.Goroutines,
		`chatbridge_connections{protocol="livechat_agent"}`: &st.AgentSockets,
		"chatbridge_hub_slow_consumers_total":               &st.SlowConsumers,
		"chatbridge_hub_delivered_total":                    &st.Delivered,
		"process_cpu_seconds_total":                         &st.CPUSeconds,
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		name, value, ok := strings.Cut(line, " ")
		if dst := want[name]; ok && dst != nil {
			if v, err := strconv.ParseFloat(strings.TrimSpace(value), 64); err == nil {
				*dst = v
			}
		}
	}
	if st.RSS == 0 {
		return st, fmt.Errorf("GET /metrics: no process_resident_memory_bytes")
	}
	return st, sc.Err()
}
