//go:build !unix

package mongostore

// dirLock is a no-op where flock is unavailable: chatbridge is deployed on
// Unix, and other systems only build it for development.
type dirLock struct{}

func lockDir(string) (*dirLock, error) { return &dirLock{}, nil }

func (*dirLock) release() error { return nil }
