// Package jobs runs chatbridge's timed work on robfig/cron: each job is a
// small run(ctx) error in its own file, wrapped with cron.Recover and
// cron.SkipIfStillRunning, counted and timed, and stopped in order at
// shutdown. Cron only triggers; job bodies read time from the core's clock.
package jobs
