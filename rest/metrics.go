package rest

import (
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/chatbridge/chatbridge/livechat"
	"github.com/chatbridge/chatbridge/livechat/jobs"
)

// Metrics are the server's Prometheus series, on a registry of its own so
// several servers in one process (tests) do not collide.
type Metrics struct {
	reg         *prometheus.Registry
	requests    *prometheus.CounterVec
	duration    *prometheus.HistogramVec
	errors      *prometheus.CounterVec
	events      *prometheus.CounterVec
	connections *prometheus.GaugeVec
}

// NewMetrics makes the server's series; hub, when set, is reported too.
func NewMetrics(hub *livechat.Hub) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chatbridge_http_requests_total", Help: "HTTP requests by route and status.",
		}, []string{"method", "route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "chatbridge_http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 4, 8),
		}, []string{"route"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chatbridge_errors_total", Help: "Errors answered, by error type.",
		}, []string{"type"}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chatbridge_domain_events_total", Help: "Domain events emitted by the core, by kind.",
		}, []string{"kind"}),
		connections: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "chatbridge_connections", Help: "Open realtime connections by protocol.",
		}, []string{"protocol"}),
	}
	m.reg.MustRegister(m.requests, m.duration, m.errors, m.events, m.connections,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if hub != nil {
		m.reg.MustRegister(hubCollector{hub})
	}
	return m
}

// Registry lets other components (cron jobs, webhooks) add their series.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Connections is the gauge of open realtime connections for protocol.
func (m *Metrics) Connections(protocol string) prometheus.Gauge {
	return m.connections.WithLabelValues(protocol)
}

// Publisher counts domain events by kind; chain it before the hub.
func (m *Metrics) Publisher() livechat.Publisher { return eventCounter{m} }

type eventCounter struct{ m *Metrics }

func (e eventCounter) Publish(ev *livechat.DomainEvent) {
	e.m.events.WithLabelValues(string(ev.Kind)).Inc()
}

// observe counts one finished request (its response already written).
func (m *Metrics) observe(c echo.Context, d time.Duration) {
	route := c.Path()
	if route == "" {
		route = "unmatched"
	}
	m.requests.WithLabelValues(c.Request().Method, route, strconv.Itoa(c.Response().Status)).Inc()
	m.duration.WithLabelValues(route).Observe(d.Seconds())
}

func (m *Metrics) handler() echo.HandlerFunc {
	return echo.WrapHandler(promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}))
}

// hubCollector exposes the hub's counters.
type hubCollector struct{ hub *livechat.Hub }

var (
	hubSessionsDesc  = prometheus.NewDesc("chatbridge_hub_sessions", "Sessions subscribed to the hub.", nil, nil)
	hubPublishedDesc = prometheus.NewDesc("chatbridge_hub_published_total", "Domain events handed to the hub.", nil, nil)
	hubDeliverDesc   = prometheus.NewDesc("chatbridge_hub_delivered_total", "Frames queued to sessions.", nil, nil)
	hubEncodesDesc   = prometheus.NewDesc("chatbridge_hub_encodes_total", "Encodings done (once per audience).", nil, nil)
	hubSlowDesc      = prometheus.NewDesc("chatbridge_hub_slow_consumers_total", "Sessions dropped for a full outbound queue.", nil, nil)
)

func (h hubCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- hubSessionsDesc
	ch <- hubPublishedDesc
	ch <- hubDeliverDesc
	ch <- hubEncodesDesc
	ch <- hubSlowDesc
}

func (h hubCollector) Collect(ch chan<- prometheus.Metric) {
	st := h.hub.Stats()
	ch <- prometheus.MustNewConstMetric(hubSessionsDesc, prometheus.GaugeValue, float64(h.hub.Sessions()))
	ch <- prometheus.MustNewConstMetric(hubPublishedDesc, prometheus.CounterValue, float64(st.Published))
	ch <- prometheus.MustNewConstMetric(hubDeliverDesc, prometheus.CounterValue, float64(st.Delivered))
	ch <- prometheus.MustNewConstMetric(hubEncodesDesc, prometheus.CounterValue, float64(st.Encodes))
	ch <- prometheus.MustNewConstMetric(hubSlowDesc, prometheus.CounterValue, float64(st.SlowConsumers))
}

// JobStatser is the cron scheduler as /metrics sees it.
type JobStatser interface {
	Stats() []jobs.Stats
}

type jobsCollector struct{ j JobStatser }

var (
	jobRunsDesc     = prometheus.NewDesc("chatbridge_job_runs_total", "Cron job runs.", []string{"job"}, nil)
	jobFailuresDesc = prometheus.NewDesc("chatbridge_job_failures_total", "Cron job runs that failed.", []string{"job"}, nil)
	jobSecondsDesc  = prometheus.NewDesc("chatbridge_job_seconds_total", "Time spent in cron job runs.", []string{"job"}, nil)
	jobLastDesc     = prometheus.NewDesc("chatbridge_job_last_run_seconds", "Duration of the last run.", []string{"job"}, nil)
)

func (c jobsCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- jobRunsDesc
	ch <- jobFailuresDesc
	ch <- jobSecondsDesc
	ch <- jobLastDesc
}

func (c jobsCollector) Collect(ch chan<- prometheus.Metric) {
	for _, st := range c.j.Stats() {
		ch <- prometheus.MustNewConstMetric(jobRunsDesc, prometheus.CounterValue, float64(st.Runs), st.Name)
		ch <- prometheus.MustNewConstMetric(jobFailuresDesc, prometheus.CounterValue, float64(st.Failures), st.Name)
		ch <- prometheus.MustNewConstMetric(jobSecondsDesc, prometheus.CounterValue, st.Total.Seconds(), st.Name)
		ch <- prometheus.MustNewConstMetric(jobLastDesc, prometheus.GaugeValue, st.Last.Seconds(), st.Name)
	}
}
